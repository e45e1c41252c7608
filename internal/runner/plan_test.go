package runner_test

import (
	"context"
	"testing"

	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
)

func planRows(t *testing.T, b *testbed.Bed) int {
	t.Helper()
	var n int
	if err := b.Store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM run_plan`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRunPlansInTheDatabaseAndLeavesNothing checks that a run's delete
// decisions pass through run_plan and are gone when it ends, and that the
// plan a killed run left behind is discarded by the next run.
func TestRunPlansInTheDatabaseAndLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	seed(b)

	// What a process killed mid-run leaves: a running run with a plan.
	dead, err := b.Store.CreateRun(ctx, store.NewRun{StartedAt: b.Clock.Now(), Trigger: store.TriggerSchedule, PolicySHA256: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.Pool().Exec(ctx, `INSERT INTO run_plan (run_id, artifact_id, rule, reason, archive, archive_required)
		VALUES ($1, 1, 'old', 'old', false, false), ($1, 2, 'old', 'old', false, false)`, dead); err != nil {
		t.Fatal(err)
	}

	sum, err := newRunner(t, b, runner.Config{DryRun: true}).Run(ctx, store.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != store.RunSucceeded || sum.Janitor.DryRun == 0 || sum.Janitor.DryRun != sum.Janitor.Planned {
		t.Fatalf("run %s: %+v", sum.Status, sum.Janitor)
	}
	if got := len(expectedDeletes(t, b)); got != sum.Janitor.Planned {
		t.Errorf("planned %d deletions, the policy says %d", sum.Janitor.Planned, got)
	}
	if n := planRows(t, b); n != 0 {
		t.Errorf("%d run_plan rows after the run, want 0", n)
	}
}
