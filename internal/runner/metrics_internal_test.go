package runner

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

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
