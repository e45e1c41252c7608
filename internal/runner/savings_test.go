package runner_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
)

// A run records what its deletions saved in GB-hours, each priced from when
// it was executed to its artifact's expires_at, and the storage series
// show the top repositories plus other.
func TestRunRecordsSavingsAndStorageSeries(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	now := b.Clock.Now()
	expires := map[int64]time.Time{}
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		ids := b.Add(repo, 10, func(i int, a *artifact.Artifact) {
			a.SizeInBytes = 1_000_000_000 * int64(i+1)
			a.ExpiresAt = now.Add(time.Duration(10+i) * 24 * time.Hour)
			if i%2 == 1 {
				a.Branch = "feature/x"
			}
		})
		for i, id := range ids {
			expires[id] = now.Add(time.Duration(10+i) * 24 * time.Hour)
		}
	}
	m, h := newMetrics()
	m.SetStorageTop(1)
	ctx := context.Background()

	dry, err := newRunner(t, b, runner.Config{DryRun: true, Metrics: m}).Run(ctx, runner.TriggerManual)
	if err != nil || !dry.SavingsRecorded {
		t.Fatalf("dry-run: %v %+v", err, dry)
	}
	want := expectedSavings(t, b, dry.RunID, store.OutcomeDryRun, expires)
	if want == 0 || math.Abs(dry.Savings.WouldSave.GBHours-want) > 1e-6 || dry.Savings.Saved.GBHours != 0 {
		t.Errorf("dry-run would save %v GB-hours, want %v; saved %v", dry.Savings.WouldSave.GBHours, want, dry.Savings.Saved.GBHours)
	}
	if got := testbed.Scrape(t, h).Value(t, "retentiond_storage_would_save_byte_seconds") / 3.6e12; math.Abs(got-want) > 1e-6 {
		t.Errorf("retentiond_storage_would_save_byte_seconds = %v GB-hours, want %v", got, want)
	}

	b.Clock.Advance(time.Hour)
	run, err := newRunner(t, b, runner.Config{Metrics: m}).Run(ctx, runner.TriggerManual)
	if err != nil || run.Janitor.Deleted == 0 {
		t.Fatalf("run: %v %+v", err, run)
	}
	want = expectedSavings(t, b, run.RunID, store.OutcomeDeleted, expires)
	if math.Abs(run.Savings.Saved.GBHours-want) > 1e-6 {
		t.Errorf("saved %v GB-hours, want %v", run.Savings.Saved.GBHours, want)
	}
	recorded, err := b.Store.RunSavings(ctx, run.RunID)
	if err != nil || recorded != run.Savings {
		t.Errorf("recorded %+v, %v; summary %+v", recorded, err, run.Savings)
	}
	// What is left: every artifact the simulator still has, none expired.
	var left int64
	perRepo := map[artifact.Repository]int64{}
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		for _, a := range b.Sim.Artifacts(repo) {
			left += a.SizeInBytes
			perRepo[repo] += a.SizeInBytes
		}
	}
	if run.Savings.LiveBytes != left {
		t.Errorf("live bytes %d, want %d", run.Savings.LiveBytes, left)
	}
	sc := testbed.Scrape(t, h)
	if got := sc.Value(t, "retentiond_storage_saved_byte_seconds_total") / 3.6e12; math.Abs(got-want) > 1e-6 {
		t.Errorf("retentiond_storage_saved_byte_seconds_total = %v GB-hours, want %v", got, want)
	}
	top, other := artifact.Repository("octo/api"), artifact.Repository("octo/web")
	if perRepo[other] > perRepo[top] {
		top, other = other, top
	}
	if got := sc.Value(t, "retentiond_storage_live_bytes", "repository", string(top)); got != float64(perRepo[top]) {
		t.Errorf("live bytes of %s = %v, want %d", top, got, perRepo[top])
	}
	if got := sc.Value(t, "retentiond_storage_live_bytes", "repository", "other"); got != float64(perRepo[other]) {
		t.Errorf("live bytes of other = %v, want %d", got, perRepo[other])
	}
	if got := sc.LabelValues(t, "retentiond_storage_live_bytes", "repository"); len(got) != 2 {
		t.Errorf("series %v, want the top one and other", got)
	}
}

// expectedSavings prices run runID's decisions with outcome o by hand.
func expectedSavings(t *testing.T, b *testbed.Bed, runID int64, o store.Outcome, expires map[int64]time.Time) float64 {
	t.Helper()
	entries, err := b.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: runID, Outcome: o})
	if err != nil {
		t.Fatal(err)
	}
	var gbh float64
	for _, e := range entries {
		at := e.ExecutedAt
		if at.IsZero() {
			at = e.RecordedAt
		}
		gbh += float64(e.SizeInBytes) / 1e9 * expires[e.ArtifactID].Sub(at).Hours()
	}
	return gbh
}
