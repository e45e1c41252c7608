package runner

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/janitor"
)

// The outcomes exported at 0 from the start are exactly the ones a run
// counts, so a new outcome cannot get a series that never moves, nor be
// counted without one.
func TestDeletionCountsCoverEveryDeletionOutcome(t *testing.T) {
	t.Parallel()
	counted := slices.Sorted(maps.Keys(deletionCounts(janitor.Report{})))
	exported := slices.Sorted(slices.Values(deletionOutcomes()))
	if diff := cmp.Diff(exported, counted); diff != "" {
		t.Errorf("outcomes counted (-exported +counted):\n%s", diff)
	}
	if slices.Contains(exported, store.OutcomeKept) || slices.Contains(exported, store.OutcomePending) {
		t.Errorf("deletion outcomes %v include kept or pending", exported)
	}
}

// The last-success gauge moves only with a succeeded run, unlike the
// last-run one: an alert on it fires for a daemon whose every run fails.
func TestLastSuccessMovesOnlyOnSuccess(t *testing.T) {
	t.Parallel()
	m := NewMetrics(prometheus.NewRegistry())
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	m.SetLastSuccess(at)
	m.observe(&Summary{Status: StatusFailed, FinishedAt: at.Add(time.Hour)})
	m.observe(&Summary{Status: StatusPartial, FinishedAt: at.Add(2 * time.Hour)})
	if got := gaugeValue(t, m.lastSuccess); got != float64(at.Unix()) {
		t.Errorf("after a failed and a partial run: %g, want %d", got, at.Unix())
	}
	if got := gaugeValue(t, m.lastRunTime); got != float64(at.Add(2*time.Hour).Unix()) {
		t.Errorf("last run = %g, want the partial run's end", got)
	}
	m.observe(&Summary{Status: StatusSucceeded, FinishedAt: at.Add(3 * time.Hour)})
	if got := gaugeValue(t, m.lastSuccess); got != float64(at.Add(3*time.Hour).Unix()) {
		t.Errorf("after a success: %g, want its end", got)
	}
	m.SetLastSuccess(time.Time{}) // nothing recorded yet: keep what is known
	if got := gaugeValue(t, m.lastSuccess); got != float64(at.Add(3*time.Hour).Unix()) {
		t.Errorf("a zero time moved the gauge to %g", got)
	}
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}
