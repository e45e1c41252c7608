package runner_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"

	"github.com/retentiond/retentiond/internal/artifact"
)

// pendingRow is a row of the pending_deletions view.
type pendingRow struct {
	RunID        int64     `db:"run_id"`
	ArtifactID   int64     `db:"artifact_id"`
	RunStartedAt time.Time `db:"run_started_at"`
	Expired      bool      `db:"expired"`
	Reclaimable  int64     `db:"reclaimable_bytes"`
	Size         int64     `db:"size_in_bytes"`
}

func pendingDeletions(t *testing.T, b *applyBed) []pendingRow {
	t.Helper()
	rows, err := b.Store.Pool().Query(context.Background(),
		`SELECT run_id, artifact_id, run_started_at, expired, reclaimable_bytes, size_in_bytes FROM pending_deletions`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByName[pendingRow])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func ids(rows []pendingRow) []int64 {
	var out []int64
	for _, r := range rows {
		out = append(out, r.ArtifactID)
	}
	slices.Sort(out)
	return out
}

// TestPendingDeletionsIsTheLatestUsefulDryRun: the view shows the latest
// dry-run that planned deletions — not a later one that failed — says which
// run it is, and leaves out what has gone since.
func TestPendingDeletionsIsTheLatestUsefulDryRun(t *testing.T) {
	t.Parallel()
	b := newApplyBed(t)
	ctx := context.Background()
	reviewed, want := b.review(t)
	rows := pendingDeletions(t, b)
	if diff := cmp.Diff(want, ids(rows)); diff != "" {
		t.Fatalf("after the dry-run (-want +got):\n%s", diff)
	}
	run, err := b.Store.Run(ctx, reviewed)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].RunID != reviewed || !rows[0].RunStartedAt.Equal(run.StartedAt) {
		t.Errorf("view names run %d started %s, want %d started %s", rows[0].RunID, rows[0].RunStartedAt, reviewed, run.StartedAt)
	}

	// A later dry-run whose scans all failed planned nothing: the view
	// still shows the reviewed one.
	b.Clock.Advance(time.Minute)
	b.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteList, Status: http.StatusInternalServerError})
	failed, err := b.runner(t, applyPolicy, runner.Config{DryRun: true}).Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != runner.StatusFailed {
		t.Fatalf("the second dry-run is %s, want failed", failed.Status)
	}
	b.Sim.ClearFaults()
	if diff := cmp.Diff(want, ids(pendingDeletions(t, b))); diff != "" {
		t.Errorf("after a failed dry-run (-want +got):\n%s", diff)
	}

	// An apply of two of them removes those two from the view.
	sum, err := b.runner(t, applyPolicy, runner.Config{MaxDeletions: 2}).Apply(ctx, reviewed, runner.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deleted := b.outcomeIDs(t, sum.RunID, store.OutcomeDeleted)
	if len(deleted) != 2 {
		t.Fatalf("apply deleted %v", deleted)
	}
	left := slices.DeleteFunc(slices.Clone(want), func(id int64) bool { return slices.Contains(deleted, id) })
	if diff := cmp.Diff(left, ids(pendingDeletions(t, b))); diff != "" {
		t.Errorf("after an apply (-want +got):\n%s", diff)
	}
}

// TestRunTotalsCountOnlyFreedStorage: an expired artifact's deletion frees
// nothing, so the run's bytes leave it out and count it as a listing.
func TestRunTotalsCountOnlyFreedStorage(t *testing.T) {
	t.Parallel()
	b := newApplyBed(t)
	ctx := context.Background()
	var expired []int64
	var live, expiredBytes int64
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		arts := b.Sim.Artifacts(repo)
		// The oldest would-be deletion of each repository has expired.
		oldest := arts[len(arts)-1]
		if !b.Sim.SetExpired(repo, oldest.ID, true) {
			t.Fatal("SetExpired: no such artifact")
		}
		expired = append(expired, oldest.ID)
		expiredBytes += oldest.SizeInBytes
		for _, a := range arts[3 : len(arts)-1] { // the other two older than 3h
			live += a.SizeInBytes
		}
	}
	sum, err := b.runner(t, applyPolicy, runner.Config{DryRun: true}).Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	run, err := b.Store.Run(ctx, sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.WouldReclaim != live || run.ExpiredListings != 2 || run.PlannedDeletions != 6 {
		t.Errorf("run: would_reclaim %d, expired_listings %d, planned %d; want %d (not %d), 2, 6",
			run.WouldReclaim, run.ExpiredListings, run.PlannedDeletions, live, live+expiredBytes)
	}
	var reclaimable, expiredRows int64
	for _, r := range pendingDeletions(t, b) {
		reclaimable += r.Reclaimable
		if r.Expired {
			expiredRows++
			if !slices.Contains(expired, r.ArtifactID) || r.Reclaimable != 0 {
				t.Errorf("expired row %+v", r)
			}
		}
	}
	if reclaimable != live || expiredRows != 2 {
		t.Errorf("pending_deletions: %d reclaimable bytes, %d expired rows; want %d, 2", reclaimable, expiredRows, live)
	}
}
