package store_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/policy"
)

// planArtifacts scans n artifacts of repo whose order for execution is
// mixed: some expired by flag, some by expires_at, some with no creation
// time, ties on created_at broken by id.
func planArtifacts(t *testing.T, st *store.Store, repo artifact.Repository, n int) []artifact.Artifact {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	arts := artifacts(repo, 1, int64(n))
	for i := range arts {
		a := &arts[i]
		a.CreatedAt = t0.Add(-time.Duration(rng.IntN(50)) * time.Hour) // ties
		switch rng.IntN(6) {
		case 0:
			a.Expired = true
		case 1:
			a.ExpiresAt = t0.Add(-time.Minute) // expired by time, not yet flagged
		case 2:
			a.CreatedAt = time.Time{}
		}
	}
	scanRepository(t, st, repo, at(0), at(1), at(2), arts)
	return arts
}

func planned(arts []artifact.Artifact) []store.PlannedDeletion {
	ds := make([]store.PlannedDeletion, len(arts))
	for i, a := range arts {
		ds[i] = store.PlannedDeletion{Artifact: a, Rule: "old", Reason: "old " + a.Name, Archive: i%2 == 0, ArchiveRequired: i%4 == 0}
	}
	return ds
}

// TestDeletionPlanReadsBackInExecutionOrder checks that the database orders
// a plan exactly as janitor.SortForExecution orders it in memory, and that
// ranges and batches read back each decision once, with its rule.
func TestDeletionPlanReadsBackInExecutionOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	arts := planArtifacts(t, st, "o/r", 257)
	runID, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: store.TriggerManual, PolicySHA256: "x"})
	if err != nil {
		t.Fatal(err)
	}
	p := st.RunPlan(runID)
	ds := planned(arts)
	// Added in pieces, out of order, as repositories are.
	if err := p.Add(ctx, ds[100:]); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(ctx, ds[:100]); err != nil {
		t.Fatal(err)
	}
	n, err := p.Order(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(arts) {
		t.Fatalf("Order counted %d, want %d", n, len(arts))
	}

	items := make([]janitor.Item, len(arts))
	for i, a := range arts {
		items[i] = janitor.Item{Artifact: a, Decision: policy.Decision{Action: policy.Delete}}
	}
	janitor.SortForExecution(items, t0)
	var want []int64
	for _, it := range items {
		want = append(want, it.Artifact.ID)
	}

	var got []int64
	batches := 0
	read := func(from, to int) {
		err := p.Read(ctx, from, to, 50, func(page []store.PlannedDeletion) error {
			batches++
			if len(page) > 50 {
				t.Errorf("a batch of %d, want at most 50", len(page))
			}
			for _, d := range page {
				got = append(got, d.Artifact.ID)
				if d.Reason != "old "+d.Artifact.Name || d.Artifact.Repository != "o/r" || d.Artifact.Digest == "" {
					t.Errorf("decision read back as %+v", d)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	read(0, 120)
	read(120, n)
	if !slices.Equal(got, want) {
		t.Errorf("plan order\n%v\nwant (SortForExecution)\n%v", got, want)
	}
	if batches != 3+3 {
		t.Errorf("%d batches, want 6", batches)
	}

	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if rows := count(t, st, `SELECT count(*) FROM run_plan`); rows != 0 {
		t.Errorf("%d run_plan rows after Close", rows)
	}
}

// TestDeletionPlanAddIsIdempotentOnRetry checks that a COPY retried after a
// lost connection does not plan a decision twice.
func TestDeletionPlanAddIsIdempotentOnRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	arts := planArtifacts(t, st, "o/r", 10)
	p := st.RunPlan(7)
	if err := p.Add(ctx, planned(arts)); err != nil {
		t.Fatal(err)
	}
	if err := store.AddPlanAgain(ctx, p, planned(arts)); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Order(ctx, t0); err != nil || n != 10 {
		t.Fatalf("Order: %d, %v; want 10", n, err)
	}
}

// TestTempPlansAreTheirOwn checks that two temporary plans (two `plan`
// commands at once) do not see each other's decisions, leave nothing behind,
// and write nothing to run_plan.
func TestTempPlansAreTheirOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	arts := planArtifacts(t, st, "o/r", 30)
	a, err := st.TempPlan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.TempPlan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Add(ctx, planned(arts[:20])); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(ctx, planned(arts[20:])); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Order(ctx, t0); err != nil || n != 20 {
		t.Errorf("plan a: %d, %v; want 20", n, err)
	}
	if n, err := b.Order(ctx, t0); err != nil || n != 10 {
		t.Errorf("plan b: %d, %v; want 10", n, err)
	}
	if rows := count(t, st, `SELECT count(*) FROM run_plan`); rows != 0 {
		t.Errorf("temporary plans wrote %d run_plan rows", rows)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The connections went back to the pool without their tables: a new
	// plan on any of them starts empty.
	c, err := st.TempPlan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if n, err := c.Order(ctx, t0); err != nil || n != 0 {
		t.Errorf("a new plan holds %d decisions (%v), want 0", n, err)
	}
}

// TestDiscardPlansKeepsOnlyRunningRuns checks the clean-up after a process
// died mid-run: the plans of finished runs go, a running run's stays.
func TestDiscardPlansKeepsOnlyRunningRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	arts := planArtifacts(t, st, "o/r", 4)
	running, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: store.TriggerManual, PolicySHA256: "x"})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: store.TriggerManual, PolicySHA256: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RunPlan(running).Add(ctx, planned(arts)); err != nil {
		t.Fatal(err)
	}
	if err := st.RunPlan(dead).Add(ctx, planned(arts)); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishRun(ctx, dead, store.RunTotals{FinishedAt: at(5), Status: store.RunFailed}); err != nil {
		t.Fatal(err)
	}
	n, err := st.DiscardPlans(ctx)
	if err != nil || n != len(arts) {
		t.Fatalf("DiscardPlans: %d, %v; want %d", n, err, len(arts))
	}
	if rows := count(t, st, `SELECT count(*) FROM run_plan WHERE run_id = $1`, running); rows != len(arts) {
		t.Errorf("the running run's plan has %d rows, want %d", rows, len(arts))
	}
}

func count(t *testing.T, st *store.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
