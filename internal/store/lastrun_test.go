package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
)

// The last scan's start ignores applies (they scan nothing) but counts any
// status, a running one included; the last success is only a succeeded
// run's end. Both are zero on an empty runs table.
func TestLastRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	if s, err := st.LastScanStarted(ctx); err != nil || !s.IsZero() {
		t.Fatalf("empty: LastScanStarted = %v, %v", s, err)
	}
	if f, err := st.LastSuccessFinished(ctx); err != nil || !f.IsZero() {
		t.Fatalf("empty: LastSuccessFinished = %v, %v", f, err)
	}
	run := func(at time.Time, trigger store.Trigger, status store.RunStatus) {
		t.Helper()
		id, err := st.CreateRun(ctx, store.NewRun{StartedAt: at, Trigger: trigger, DryRun: true, PolicySHA256: "x", MaxDeletions: 1})
		if err != nil {
			t.Fatal(err)
		}
		if status != store.RunRunning {
			if err := st.FinishRun(ctx, id, store.RunTotals{FinishedAt: at.Add(time.Minute), Status: status}); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(t0, store.TriggerSchedule, store.RunSucceeded)
	run(t0.Add(time.Hour), store.TriggerManual, store.RunFailed)
	run(t0.Add(2*time.Hour), store.TriggerApply, store.RunSucceeded)
	run(t0.Add(90*time.Minute), store.TriggerSchedule, store.RunRunning)
	if s, err := st.LastScanStarted(ctx); err != nil || !s.Equal(t0.Add(90*time.Minute)) {
		t.Errorf("LastScanStarted = %v, %v; want the running schedule run's start, not the apply's", s, err)
	}
	if f, err := st.LastSuccessFinished(ctx); err != nil || !f.Equal(t0.Add(2*time.Hour+time.Minute)) {
		t.Errorf("LastSuccessFinished = %v, %v; want the succeeded apply's end", f, err)
	}
}

// Schema and Grants on a migrated database as its owner, and on an empty
// one: the state check reports, and every table has its four privileges.
func TestSchemaAndGrants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	sch, err := st.Schema(ctx)
	if err != nil || sch.Err != nil || sch.Applied != sch.Known || sch.Latest < 4 {
		t.Fatalf("migrated: %+v, %v", sch, err)
	}
	grants, err := st.Grants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, g := range grants {
		if !g.Held {
			t.Errorf("the owner lacks %s on %s", g.Privilege, g.Object)
		}
		seen[g.Privilege]++
	}
	if seen["SELECT"] == 0 || seen["SELECT"] != seen["DELETE"] || seen["USAGE"] == 0 || seen["CREATE"] != 1 {
		t.Errorf("privileges by kind: %v", seen)
	}

	empty := openStore(t, pgtest.NewEmptyDatabase(t))
	sch, err = empty.Schema(ctx)
	if err != nil || sch.Applied != 0 || !errors.Is(sch.Err, store.ErrSchemaBehind) {
		t.Errorf("empty: %+v, %v; want 0 applied and ErrSchemaBehind", sch, err)
	}
}
