package runner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"
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

// stealLock is the GitHub of a run during which, after the first DELETE,
// PostgreSQL ends the session holding the run lock and another process takes
// the lock.
type stealLock struct {
	janitor.GitHub
	t      *testing.T
	st     *store.Store
	other  *store.Store
	stolen *store.RunLock
	sent   int
}

func (g *stealLock) DeleteArtifact(ctx context.Context, repo artifact.Repository, id int64) error {
	g.sent++
	err := g.GitHub.DeleteArtifact(ctx, repo, id)
	if g.sent == 1 {
		var killed bool
		if qerr := g.st.Pool().QueryRow(ctx, `SELECT pg_terminate_backend(pid, 10000) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed); qerr != nil || !killed {
			g.t.Errorf("ending the lock's session: %v %v", killed, qerr)
		}
		lock, ok, lerr := g.other.TryRunLock(ctx)
		if lerr != nil || !ok {
			g.t.Errorf("the other process could not take the lock: %v %v", ok, lerr)
		}
		g.stolen = lock
	}
	return err
}

// TestRunStopsDeletingWhenItsLockIsLost checks that a run whose run lock
// went with its database session, and was taken by another process, sends
// no further DELETE.
func TestRunStopsDeletingWhenItsLockIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	other, err := store.Open(ctx, b.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	gh := &stealLock{GitHub: b.Client, t: t, st: b.Store, other: other}
	p, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	sc := scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 2, Clock: b.Clock, Logger: b.Logger})
	r := runner.New(b.Store, gh, sc, p, runner.Config{MaxDeletions: 100, Clock: b.Clock, Logger: b.Logger})
	sum, err := r.Run(ctx, store.TriggerManual)
	if gh.stolen != nil {
		defer gh.stolen.Unlock()
	}
	if err != nil {
		t.Fatal(err)
	}
	if gh.sent != 1 {
		t.Errorf("%d DELETEs sent, want 1: none after the lock was lost", gh.sent)
	}
	if sum.Status != store.RunPartial || sum.Janitor.Deleted != 1 || sum.Janitor.Interrupted != sum.Janitor.Planned-1 ||
		!strings.Contains(sum.Error, store.ErrRunLockLost.Error()) {
		t.Errorf("run %s (%q): %+v", sum.Status, sum.Error, sum.Janitor)
	}
}
