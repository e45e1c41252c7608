package janitor_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// world is a bed with n artifacts of octo/api scanned into the database and
// a run row to hang audit entries on.
type world struct {
	*testbed.Bed
	items []janitor.Item // every artifact, with a delete decision, newest first
	runID int64
}

func newWorld(t *testing.T, n int, opts testbed.Options) *world {
	t.Helper()
	b := testbed.New(t, opts)
	b.Add("octo/api", n, nil)
	ctx := context.Background()
	if r := scanner.New(b.Client, b.Store, scanner.Options{Clock: b.Clock}).ScanRepository(ctx, "octo/api", nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	arts, err := b.Store.LiveArtifacts(ctx, "octo/api")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{Bed: b}
	for _, a := range arts {
		w.items = append(w.items, janitor.Item{Artifact: a, Decision: policy.Decision{Action: policy.Delete, Rule: "old", Reason: "matched delete rule old"}})
	}
	w.runID, err = b.Store.CreateRun(ctx, store.NewRun{StartedAt: b.Clock.Now(), Trigger: "manual", PolicySHA256: "x", MaxDeletions: 100})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) janitor(cfg janitor.Config) *janitor.Janitor {
	cfg.Clock, cfg.Logger = w.Clock, w.Logger
	return janitor.New(w.Client, w.Store, cfg)
}

func (w *world) outcomes(t *testing.T) map[int64]store.Outcome {
	t.Helper()
	entries, err := w.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: w.runID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]store.Outcome{}
	for _, e := range entries {
		if _, dup := out[e.ArtifactID]; dup {
			t.Errorf("artifact %d has two audit rows in one run", e.ArtifactID)
		}
		out[e.ArtifactID] = e.Outcome
	}
	return out
}

func TestDryRunDeletesNothingAndRecordsEverything(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 8, testbed.Options{})
	ctx := context.Background()
	keeps, deletes := w.items[:3], w.items[3:]
	for i := range keeps {
		keeps[i].Decision = policy.Decision{Action: policy.Keep, Rule: "keep-latest", Reason: "kept by keep-latest"}
	}
	j := w.janitor(janitor.Config{DryRun: true, MaxDeletions: 100, Interval: time.Second})
	if err := j.RecordKeeps(ctx, w.runID, keeps); err != nil {
		t.Fatal(err)
	}
	rep, err := j.Execute(ctx, w.runID, deletes)
	if err != nil {
		t.Fatal(err)
	}
	if rep.DryRun != 5 || rep.Deleted != 0 || rep.WouldReclaim == 0 {
		t.Errorf("report %+v", rep)
	}
	if got := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]; got != 0 {
		t.Errorf("dry-run sent %d DELETEs", got)
	}
	if len(w.Sim.Artifacts("octo/api")) != 8 {
		t.Error("dry-run removed artifacts")
	}
	want := map[int64]store.Outcome{}
	for _, it := range keeps {
		want[it.Artifact.ID] = store.OutcomeKept
	}
	for _, it := range deletes {
		want[it.Artifact.ID] = store.OutcomeDryRun
	}
	if diff := cmp.Diff(want, w.outcomes(t)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if len(w.Clock.Sleeps()) != 0 {
		t.Errorf("dry-run paced itself: %v", w.Clock.Sleeps())
	}
}

func TestRealRunDeletesExactlyTheDecisions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 6, testbed.Options{})
	ctx := context.Background()
	deletes := w.items[2:] // the 4 oldest
	rep, err := w.janitor(janitor.Config{MaxDeletions: 100, Interval: time.Second}).Execute(ctx, w.runID, deletes)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 4 || rep.Failed != 0 {
		t.Fatalf("report %+v", rep)
	}
	var left []int64
	for _, a := range w.Sim.Artifacts("octo/api") {
		left = append(left, a.ID)
	}
	if diff := cmp.Diff([]int64{w.items[0].Artifact.ID, w.items[1].Artifact.ID}, left); diff != "" {
		t.Errorf("simulator state (-want +got):\n%s", diff)
	}
	for _, it := range deletes {
		sa, err := w.Store.Artifact(ctx, it.Artifact.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sa.GoneAt.IsZero() {
			t.Errorf("artifact %d deleted but not marked gone", it.Artifact.ID)
		}
	}
	// Paced: one interval between consecutive DELETEs.
	if diff := cmp.Diff([]time.Duration{time.Second, time.Second, time.Second}, w.Clock.Sleeps()); diff != "" {
		t.Errorf("pacing (-want +got):\n%s", diff)
	}
	entries, err := w.Store.AuditEntries(ctx, store.AuditFilter{RunID: w.runID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Outcome != store.OutcomeDeleted || e.HTTPStatus != 204 || e.ExecutedAt.IsZero() || e.Rule != "old" {
			t.Errorf("entry %+v", e)
		}
	}
	// Oldest first: artifact ids grow with creation time in the bed.
	for i := 1; i < len(entries); i++ {
		if entries[i].ID < entries[i-1].ID || entries[i].ArtifactCreatedAt.Before(entries[i-1].ArtifactCreatedAt) {
			t.Errorf("deletions not executed oldest first")
		}
	}
}

func TestCapSparesTheNewest(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 5, testbed.Options{})
	rep, err := w.janitor(janitor.Config{MaxDeletions: 3}).Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.CapHit || rep.Deleted != 3 || rep.SkippedCap != 2 {
		t.Fatalf("report %+v", rep)
	}
	want := map[int64]store.Outcome{}
	for i, it := range w.items { // newest first
		want[it.Artifact.ID] = store.OutcomeDeleted
		if i < 2 {
			want[it.Artifact.ID] = store.OutcomeSkippedCap
		}
	}
	if diff := cmp.Diff(want, w.outcomes(t)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestAlreadyGoneIsNotAFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, testbed.Options{})
	w.Sim.RemoveArtifact("octo/api", w.items[1].Artifact.ID)
	rep, err := w.janitor(janitor.Config{MaxDeletions: 10}).Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 2 || rep.AlreadyGone != 1 || rep.Failed != 0 || rep.BytesReclaimed != w.items[0].Artifact.SizeInBytes+w.items[1].Artifact.SizeInBytes+w.items[2].Artifact.SizeInBytes {
		t.Errorf("report %+v", rep)
	}
	if got := w.outcomes(t)[w.items[1].Artifact.ID]; got != store.OutcomeAlreadyGone {
		t.Errorf("outcome %s, want already_gone", got)
	}
}

func TestForbiddenDeleteFailsWithStatusAndMessage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, testbed.Options{Sim: githubsim.Options{ReadOnly: true}})
	rep, err := w.janitor(janitor.Config{MaxDeletions: 10}).Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 2 || rep.Deleted != 0 {
		t.Fatalf("report %+v", rep)
	}
	entries, _ := w.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: w.runID})
	for _, e := range entries {
		if e.Outcome != store.OutcomeFailed || e.HTTPStatus != 403 || !strings.Contains(e.Error, "Resource not accessible") {
			t.Errorf("entry %+v", e)
		}
	}
}

func TestSecondaryLimitDuringDeletesIsWaitedOut(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 4, testbed.Options{})
	f := githubsim.SecondaryLimitFault(githubsim.RouteDelete, 45*time.Second)
	f.Nth, f.Times = 2, 1
	w.Sim.InjectFault(f)
	rep, err := w.janitor(janitor.Config{MaxDeletions: 10}).Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 4 {
		t.Fatalf("report %+v", rep)
	}
	if diff := cmp.Diff([]time.Duration{45 * time.Second}, w.Clock.Sleeps()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestPrimaryLimitBeyondMaxWaitStopsCleanly(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 5, testbed.Options{MaxWait: time.Minute})
	deleted := 0
	w.Sim.OnRequest(func(route string, r *http.Request) {
		if route == githubsim.RouteDelete {
			deleted++
			// The hook runs before the simulator checks the budget, so the
			// limit set here refuses this (the 3rd) DELETE.
			if deleted == 3 {
				w.Sim.SetRateLimit(0, w.Clock.Now().Add(time.Hour))
			}
		}
	})
	rep, err := w.janitor(janitor.Config{MaxDeletions: 10}).Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 2 || rep.SkippedRateLimit != 3 || !rep.RateLimited {
		t.Fatalf("report %+v", rep)
	}
	n := 0
	for _, o := range w.outcomes(t) {
		if o == store.OutcomeSkippedRateLimit {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d skipped_rate_limit rows, want 3", n)
	}
}

func TestShutdownFinishesTheDeleteInFlight(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 5, testbed.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	seen := 0
	w.Sim.OnRequest(func(route string, r *http.Request) {
		if route == githubsim.RouteDelete {
			seen++
			if seen == 2 {
				cancel() // SIGTERM arrives while the 2nd DELETE is in flight
			}
		}
	})
	rep, err := w.janitor(janitor.Config{MaxDeletions: 10}).Execute(ctx, w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 2 || rep.Interrupted != 3 || !rep.Stopped {
		t.Fatalf("report %+v", rep)
	}
	if got := len(w.Sim.Artifacts("octo/api")); got != 3 {
		t.Errorf("%d artifacts left, want 3", got)
	}
	counts := map[store.Outcome]int{}
	for _, o := range w.outcomes(t) {
		counts[o]++
	}
	if diff := cmp.Diff(map[store.Outcome]int{store.OutcomeDeleted: 2, store.OutcomeInterrupted: 3}, counts); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestReconcileResolvesPendingRows(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, testbed.Options{})
	ctx := context.Background()
	// A process recorded two intents and died: one DELETE had gone through.
	var ids []int64
	for _, it := range w.items[:2] {
		id, err := w.Store.InsertPending(ctx, store.AuditEntry{
			RunID: w.runID, RecordedAt: w.Clock.Now(), Repository: it.Artifact.Repository, ArtifactID: it.Artifact.ID,
			ArtifactName: it.Artifact.Name, SizeInBytes: it.Artifact.SizeInBytes, Action: store.ActionDelete,
			Rule: "old", Reason: "r", Outcome: store.OutcomePending,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// The unique index refuses a second intent for the same artifact.
	if _, err := w.Store.InsertPending(ctx, store.AuditEntry{RunID: w.runID, RecordedAt: w.Clock.Now(), Repository: "octo/api",
		ArtifactID: w.items[0].Artifact.ID, ArtifactName: "x", Action: store.ActionDelete, Outcome: store.OutcomePending}); err == nil {
		t.Error("a second pending row for one artifact was accepted")
	}
	w.Sim.RemoveArtifact("octo/api", w.items[0].Artifact.ID)

	rep, err := w.janitor(janitor.Config{}).Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 1 || rep.Interrupted != 1 {
		t.Fatalf("report %+v", rep)
	}
	got := w.outcomes(t)
	if got[w.items[0].Artifact.ID] != store.OutcomeDeleted || got[w.items[1].Artifact.ID] != store.OutcomeInterrupted {
		t.Errorf("outcomes %v", got)
	}
	sa, _ := w.Store.Artifact(ctx, w.items[0].Artifact.ID)
	if sa.GoneAt.IsZero() {
		t.Error("reconciled deletion not marked gone")
	}
	if pending, _ := w.Store.PendingAudit(ctx); len(pending) != 0 {
		t.Errorf("%d rows still pending", len(pending))
	}
	// Resolving twice is refused: the row is no longer pending.
	if err := w.Store.ResolveAudit(ctx, ids[0], store.Resolution{Outcome: store.OutcomeFailed}); err == nil {
		t.Error("resolved a row twice")
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, testbed.Options{})
	ctx := context.Background()
	if _, err := w.janitor(janitor.Config{DryRun: true, MaxDeletions: 10}).Execute(ctx, w.runID, w.items); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_log SET outcome = 'deleted'`,
		`UPDATE audit_log SET reason = 'rewritten'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		if _, err := w.Store.Pool().Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want an append-only refusal", stmt, err)
		}
	}
}

func TestTokenNeverInLogsOrTables(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, testbed.Options{Sim: githubsim.Options{ReadOnly: true}})
	ctx := context.Background()
	if _, err := w.janitor(janitor.Config{MaxDeletions: 10}).Execute(ctx, w.runID, w.items); err != nil {
		t.Fatal(err)
	}
	w.AssertNoToken()
	var n int
	if err := w.Store.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log a WHERE a::text LIKE '%' || $1 || '%'`, testbed.Token).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the token appears in %d audit rows", n)
	}
}
