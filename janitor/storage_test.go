package janitor_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/janitor"
)

// expireOldest marks the two oldest of w's items expired, one by GitHub's
// flag and one by an expires_at that has passed (GitHub sets the flag some
// time after), and returns their ids.
func expireOldest(w *world) []int64 {
	n := len(w.items)
	w.items[n-1].Artifact.Expired = true
	w.items[n-2].Artifact.ExpiresAt = w.Clock.Now().Add(-time.Minute)
	return []int64{w.items[n-1].Artifact.ID, w.items[n-2].Artifact.ID}
}

func sizes(items []janitor.Item) (n int64) {
	for _, it := range items {
		n += it.Artifact.SizeInBytes
	}
	return n
}

// TestExpiredListingsFreeNothingAndComeLast: GitHub frees an expired
// artifact's storage itself, so deleting it reclaims nothing; the cap is
// spent on artifacts that hold storage first, even when the expired ones are
// older.
func TestExpiredListingsFreeNothingAndComeLast(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 6, testbed.Options{})
	ctx := context.Background()
	expired := expireOldest(w)
	live := w.items[:4] // newest first

	rep, err := w.janitor(janitor.Config{MaxDeletions: 3}).Execute(ctx, w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	// The three oldest live artifacts go; the newest live one and the two
	// expired listings wait for the next run.
	if rep.Deleted != 3 || rep.SkippedCap != 3 || rep.ExpiredListings != 0 || rep.BytesReclaimed != sizes(live[1:]) {
		t.Fatalf("report %+v; want 3 deleted freeing %d bytes", rep, sizes(live[1:]))
	}
	entries := w.entries(t)
	for _, id := range append(slices.Clone(expired), live[0].Artifact.ID) {
		if e := entries[id]; e.Outcome != store.OutcomeSkippedCap {
			t.Errorf("artifact %d: %s, want skipped_cap", id, e.Outcome)
		}
	}
	for _, id := range expired {
		if !entries[id].Expired {
			t.Errorf("artifact %d: audit row not marked expired", id)
		}
	}

	run2, err := w.Store.CreateRun(ctx, store.NewRun{StartedAt: w.Clock.Now(), Trigger: "manual", PolicySHA256: "x", MaxDeletions: 100})
	if err != nil {
		t.Fatal(err)
	}
	rest := append([]janitor.Item{live[0]}, w.items[4:]...)
	rep, err = w.janitor(janitor.Config{MaxDeletions: 100}).Execute(ctx, run2, rest)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 3 || rep.ExpiredListings != 2 || rep.BytesReclaimed != live[0].Artifact.SizeInBytes {
		t.Errorf("second run %+v; want 3 deleted, 2 of them expired listings, freeing %d bytes", rep, live[0].Artifact.SizeInBytes)
	}
}

func TestDryRunCountsOnlyStorageItWouldFree(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 5, testbed.Options{})
	expireOldest(w)
	rep, err := w.janitor(janitor.Config{DryRun: true, MaxDeletions: 100}).Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.DryRun != 5 || rep.ExpiredListings != 2 || rep.WouldReclaim != sizes(w.items[:3]) {
		t.Errorf("report %+v; want 5 would-delete, 2 expired listings, %d bytes", rep, sizes(w.items[:3]))
	}
}

func TestSortForExecution(t *testing.T) {
	t.Parallel()
	now := testbed.Epoch
	item := func(id int64, ageH int, expired bool) janitor.Item {
		it := janitor.Item{}
		it.Artifact.ID, it.Artifact.CreatedAt = id, now.Add(-time.Duration(ageH)*time.Hour)
		if expired {
			it.Artifact.ExpiresAt = now.Add(-time.Second)
		}
		return it
	}
	items := []janitor.Item{item(1, 1, false), item(2, 9, true), item(3, 5, false), item(4, 3, true), item(5, 5, false)}
	janitor.SortForExecution(items, now)
	var got []int64
	for _, it := range items {
		got = append(got, it.Artifact.ID)
	}
	// Live oldest first (ties by id), then expired oldest first.
	if diff := cmp.Diff([]int64{3, 5, 1, 2, 4}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestDailyCapHoldsAcrossRuns: MAX_DELETIONS_PER_RUN starts afresh each run,
// so a retried or crash-looping job would multiply it; the daily cap counts
// the last 24 hours from the audit log and holds across runs.
func TestDailyCapHoldsAcrossRuns(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 12, testbed.Options{})
	ctx := context.Background()
	cfg := janitor.Config{MaxDeletions: 4, MaxDeletionsPerDay: 6}
	newRun := func() int64 {
		t.Helper()
		id, err := w.Store.CreateRun(ctx, store.NewRun{StartedAt: w.Clock.Now(), Trigger: "manual", PolicySHA256: "x", MaxDeletions: 4})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	left := func(rep janitor.Report, items []janitor.Item) []janitor.Item {
		// The newest are skipped; the oldest went.
		return items[:len(items)-rep.Deleted]
	}
	items := w.items

	rep, err := w.janitor(cfg).Execute(ctx, w.runID, items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 4 || !strings.Contains(rep.Cap, "MAX_DELETIONS_PER_RUN=4") {
		t.Fatalf("first run %+v", rep)
	}
	items = left(rep, items)

	// A retry an hour later gets what is left of the day, not a fresh 4.
	w.Clock.Advance(time.Hour)
	run2 := newRun()
	rep, err = w.janitor(cfg).Execute(ctx, run2, items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 2 || rep.SkippedCap != len(items)-2 || !strings.Contains(rep.Cap, "MAX_DELETIONS_PER_DAY=6") {
		t.Fatalf("retry %+v", rep)
	}
	entries, err := w.Store.AuditEntries(ctx, store.AuditFilter{RunID: run2, Outcome: store.OutcomeSkippedCap, Limit: 1})
	if err != nil || len(entries) != 1 || entries[0].Error != "over MAX_DELETIONS_PER_DAY=6: 4 deletions in the last 24 hours, 2 left" {
		t.Errorf("skipped_cap row: %+v, %v", entries, err)
	}
	items = left(rep, items)

	// A dry-run shows what a real run would do now: nothing.
	run3 := newRun()
	rep, err = w.janitor(janitor.Config{DryRun: true, MaxDeletions: 4, MaxDeletionsPerDay: 6}).Execute(ctx, run3, items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.DryRun != 0 || rep.SkippedCap != len(items) {
		t.Fatalf("dry-run at the daily cap %+v", rep)
	}

	// Once the first run's deletions are more than 24 hours old, the
	// window has room again, but only for what they took.
	w.Clock.Advance(23*time.Hour + time.Second)
	run4 := newRun()
	rep, err = w.janitor(cfg).Execute(ctx, run4, items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 4 {
		t.Fatalf("next day %+v", rep)
	}
	if n := len(w.Sim.Artifacts("octo/api")); n != 12-10 {
		t.Errorf("%d artifacts left in the simulator, want 2", n)
	}
}
