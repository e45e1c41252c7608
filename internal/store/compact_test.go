package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/store"
)

// auditWorld is a database with artifacts of one repository and helpers to
// play runs that decide about them.
type auditWorld struct {
	t   *testing.T
	st  *store.Store
	ctx context.Context
}

func newAuditWorld(t *testing.T) *auditWorld {
	return &auditWorld{t: t, st: newStore(t), ctx: context.Background()}
}

func (w *auditWorld) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.st.Pool().Exec(w.ctx, sql, args...); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
}

// artifacts inserts live artifacts ids of octo/api, first seen at seen.
func (w *auditWorld) artifacts(seen time.Time, ids ...int64) {
	w.t.Helper()
	for _, id := range ids {
		w.exec(`INSERT INTO artifacts (id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
		        first_seen_at, last_seen_at) VALUES ($1::bigint, 'octo/api', 'n', 'build-' || $1::bigint, 100 * $1::bigint, 'u', 'a', false, $2, $2)`, id, seen)
	}
}

func (w *auditWorld) run(at time.Time, dryRun bool) int64 {
	w.t.Helper()
	id, err := w.st.CreateRun(w.ctx, store.NewRun{StartedAt: at, Trigger: store.TriggerSchedule, DryRun: dryRun, PolicySHA256: "x", MaxDeletions: 10})
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// decide records run's decisions at at: rule "keep-x" keeps, "old" deletes
// (dry_run), as the janitor writes them (keeps in one call, deletes in another).
func (w *auditWorld) decide(run int64, at time.Time, rules map[int64]string) {
	w.t.Helper()
	var keeps, deletes []store.AuditEntry
	for id, rule := range rules {
		e := store.AuditEntry{RunID: run, RecordedAt: at, Repository: "octo/api", ArtifactID: id,
			ArtifactName: fmt.Sprintf("build-%d", id), SizeInBytes: 100 * id, Rule: rule, Reason: "because " + rule}
		if strings.HasPrefix(rule, "keep") {
			e.Action, e.Outcome = store.ActionKeep, store.OutcomeKept
			keeps = append(keeps, e)
		} else {
			e.Action, e.Outcome = store.ActionDelete, store.OutcomeDryRun
			deletes = append(deletes, e)
		}
	}
	for _, batch := range [][]store.AuditEntry{keeps, deletes} {
		if err := w.st.InsertAudit(w.ctx, batch); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *auditWorld) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.st.Pool().QueryRow(w.ctx, sql, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// decisions returns run's decisions from the decisions view as
// "artifact action rule outcome carried".
func (w *auditWorld) decisions(run int64) []string {
	w.t.Helper()
	rows, err := w.st.Pool().Query(w.ctx, `SELECT artifact_id, action, rule, outcome, carried FROM decisions
		WHERE run_id = $1 ORDER BY artifact_id`, run)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	var id int64
	var action, rule, outcome string
	var carried bool
	if _, err := pgx.ForEachRow(rows, []any{&id, &action, &rule, &outcome, &carried}, func() error {
		out = append(out, fmt.Sprint(id, " ", action, " ", rule, " ", outcome, " ", carried))
		return nil
	}); err != nil {
		w.t.Fatal(err)
	}
	return out
}

func TestKeepsAreWrittenWhenTheyChange(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w.artifacts(t0, 1, 2, 3)

	r1 := w.run(t0, true)
	w.decide(r1, t0, map[int64]string{1: "keep-x", 2: "keep-x", 3: "keep-y"})
	r2 := w.run(t0.Add(time.Hour), true)
	w.decide(r2, t0.Add(time.Hour), map[int64]string{1: "keep-x", 2: "keep-x", 3: "keep-y"})
	r3 := w.run(t0.Add(2*time.Hour), true)
	w.decide(r3, t0.Add(2*time.Hour), map[int64]string{1: "keep-z", 2: "old", 3: "keep-y"})
	r4 := w.run(t0.Add(3*time.Hour), true)
	w.decide(r4, t0.Add(3*time.Hour), map[int64]string{1: "keep-z", 2: "keep-x", 3: "keep-y"})
	// Artifact 3 goes before run 5, which sees only 1 and 2.
	w.exec(`UPDATE artifacts SET gone_at = $1 WHERE id = 3`, t0.Add(3*time.Hour+time.Minute))
	r5 := w.run(t0.Add(4*time.Hour), true)
	w.decide(r5, t0.Add(4*time.Hour), map[int64]string{1: "keep-z", 2: "keep-x"})

	perRun := map[int64]int{}
	for _, r := range []int64{r1, r2, r3, r4, r5} {
		perRun[r] = w.count(`SELECT count(*) FROM audit_log WHERE run_id = $1`, r)
	}
	// New, unchanged, a rule changed + a delete, keep after delete, nothing new.
	if diff := cmp.Diff(map[int64]int{r1: 3, r2: 0, r3: 2, r4: 1, r5: 0}, perRun); diff != "" {
		t.Errorf("rows written per run (-want +got):\n%s", diff)
	}
	want := map[int64][]string{
		r1: {"1 keep keep-x kept false", "2 keep keep-x kept false", "3 keep keep-y kept false"},
		r2: {"1 keep keep-x kept true", "2 keep keep-x kept true", "3 keep keep-y kept true"},
		r3: {"1 keep keep-z kept false", "2 delete old dry_run false", "3 keep keep-y kept true"},
		r4: {"1 keep keep-z kept true", "2 keep keep-x kept false", "3 keep keep-y kept true"},
		r5: {"1 keep keep-z kept true", "2 keep keep-x kept true"},
	}
	for r, rows := range want {
		if diff := cmp.Diff(rows, w.decisions(r)); diff != "" {
			t.Errorf("decisions of run %d (-want +got):\n%s", r, diff)
		}
	}
	// The CLI's filters read the same view.
	kept, err := w.st.AuditEntries(w.ctx, store.AuditFilter{RunID: r2, Action: store.ActionKeep})
	if err != nil || len(kept) != 3 {
		t.Errorf("AuditEntries(run %d, keep) = %d rows, %v; want 3", r2, len(kept), err)
	}
	rules, err := w.st.RunRules(w.ctx, r2)
	if diff := cmp.Diff([]string{"keep-x", "keep-y"}, rules); diff != "" || err != nil {
		t.Errorf("RunRules(%d) (-want +got), %v:\n%s", r2, err, diff)
	}

	// The history of artifact 2: kept in runs 1-2, would-delete in 3,
	// kept again from 4 through 5.
	spans, err := w.st.ArtifactHistory(w.ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range spans {
		got = append(got, fmt.Sprintf("run %d-%d (%d runs) %s %s %s", s.RunID, s.LastRunID, s.Runs, s.Action, s.Rule, s.Outcome))
	}
	wantSpans := []string{
		fmt.Sprintf("run %d-%d (2 runs) keep keep-x kept", r1, r2),
		fmt.Sprintf("run %d-%d (1 runs) delete old dry_run", r3, r3),
		fmt.Sprintf("run %d-%d (2 runs) keep keep-x kept", r4, r5),
	}
	if diff := cmp.Diff(wantSpans, got); diff != "" {
		t.Errorf("history of artifact 2 (-want +got):\n%s", diff)
	}
}

// A keep that never changes is written again before pruning could take its
// only row: between 1/16 and 1/8 of the retention after the last one.
func TestUnchangedKeepIsRefreshed(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	w.st.SetAuditRetention(160 * 24 * time.Hour) // refresh after 10 to 20 days
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w.artifacts(t0, 1000) // id mod 1000 = 0: refreshed after exactly 10 days
	for _, step := range []struct {
		day  int
		want int
	}{{0, 1}, {9, 0}, {11, 1}, {20, 0}, {22, 1}} {
		at := t0.Add(time.Duration(step.day) * 24 * time.Hour)
		r := w.run(at, true)
		w.decide(r, at, map[int64]string{1000: "keep-x"})
		if n := w.count(`SELECT count(*) FROM audit_log WHERE run_id = $1`, r); n != step.want {
			t.Errorf("day %d: %d rows, want %d", step.day, n, step.want)
		}
	}
}

// A retried InsertAudit whose first try committed writes nothing twice.
func TestInsertAuditRetryIsIdempotent(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w.artifacts(t0, 1, 2)
	r := w.run(t0, true)
	entries := []store.AuditEntry{
		{RunID: r, RecordedAt: t0, Repository: "octo/api", ArtifactID: 1, ArtifactName: "b", Action: store.ActionKeep, Rule: "keep-x", Reason: "x", Outcome: store.OutcomeKept},
		{RunID: r, RecordedAt: t0, Repository: "octo/api", ArtifactID: 2, ArtifactName: "b", Action: store.ActionDelete, Rule: "old", Reason: "x", Outcome: store.OutcomeDryRun},
	}
	if err := w.st.InsertAudit(w.ctx, entries); err != nil {
		t.Fatal(err)
	}
	if err := w.st.InsertAuditAgain(w.ctx, entries); err != nil {
		t.Fatal(err)
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE run_id = $1`, r); n != 2 {
		t.Errorf("%d rows after a retry, want 2", n)
	}
}

// An intent lives in audit_pending, one per artifact, and moves to the log
// with its id when resolved; the row in the log is final.
func TestPendingIntentMovesToTheLog(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w.artifacts(t0, 1)
	r := w.run(t0, false)
	e := store.AuditEntry{RunID: r, RecordedAt: t0, Repository: "octo/api", ArtifactID: 1, ArtifactName: "build-1",
		SizeInBytes: 100, Action: store.ActionDelete, Rule: "old", Reason: "older than 7d", Outcome: store.OutcomePending}
	id, err := w.st.InsertPending(w.ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.InsertPending(w.ctx, e); err == nil || !strings.Contains(err.Error(), "already pending") {
		t.Errorf("a second intent for the same artifact: %v", err)
	}
	if got := w.decisions(r); len(got) != 1 || got[0] != "1 delete old pending false" {
		t.Errorf("decisions while pending: %v", got)
	}
	if err := w.st.ResolveAudit(w.ctx, id, store.Resolution{Outcome: store.OutcomeDeleted, HTTPStatus: 204, ExecutedAt: t0.Add(time.Second), MarkGone: true}); err != nil {
		t.Fatal(err)
	}
	if n := w.count(`SELECT count(*) FROM audit_pending`); n != 0 {
		t.Errorf("%d intents left pending", n)
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE id = $1 AND outcome = 'deleted' AND rule = 'old' AND http_status = 204`, id); n != 1 {
		t.Errorf("resolved row %d not in the log as deleted", id)
	}
	if n := w.count(`SELECT count(*) FROM artifacts WHERE id = 1 AND gone_at IS NOT NULL`); n != 1 {
		t.Error("the deleted artifact is not marked gone")
	}
	if _, err := w.st.Pool().Exec(w.ctx, `UPDATE audit_log SET outcome = 'failed' WHERE id = $1`, id); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("rewriting a resolved row: %v", err)
	}
	// A retry of the resolution whose first try committed succeeds.
	if err := w.st.ResolveAuditAgain(w.ctx, id, store.Resolution{Outcome: store.OutcomeDeleted, HTTPStatus: 204, ExecutedAt: t0.Add(time.Second)}); err != nil {
		t.Errorf("retried resolution: %v", err)
	}
}

// A run killed mid-way is closed with the totals its audit rows record.
func TestAbandonedRunTotalsComeFromItsAuditRows(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w.artifacts(t0, 1, 2, 3, 4, 5)
	w.exec(`UPDATE artifacts SET expired = true WHERE id = 5`)
	r := w.run(t0, false)
	w.decide(r, t0, map[int64]string{1: "keep-x"})
	for i, o := range []store.Outcome{store.OutcomeDeleted, store.OutcomeAlreadyGone, store.OutcomeFailed, store.OutcomeDeleted} {
		art := int64(i + 2)
		e := store.AuditEntry{RunID: r, RecordedAt: t0, Repository: "octo/api", ArtifactID: art, ArtifactName: "b",
			SizeInBytes: 100 * art, Action: store.ActionDelete, Rule: "old", Reason: "x", Outcome: store.OutcomePending, Expired: art == 5}
		id, err := w.st.InsertPending(w.ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.st.ResolveAudit(w.ctx, id, store.Resolution{Outcome: o, ExecutedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := w.st.AbandonRuns(w.ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("AbandonRuns = %d, %v", n, err)
	}
	got, err := w.st.Run(w.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	want := store.RunTotals{Status: store.RunFailed, Kept: 1, PlannedDeletions: 4, Deleted: 2, AlreadyGone: 1, Failed: 1,
		BytesReclaimed: 200 + 300, ExpiredListings: 1}
	got.FinishedAt, got.Error = time.Time{}, ""
	if diff := cmp.Diff(want, got.RunTotals); diff != "" {
		t.Errorf("totals of the abandoned run (-want +got):\n%s", diff)
	}
}

// The janitor records a run's delete decisions after its keeps, and the
// planning step writes keeps a chunk at a time: with a real clock they carry
// later times than the run's evaluation. An artifact kept before and decided
// delete now must show its one decision of this run, not also the old keep
// carried forward.
func TestDecisionsOfARunRecordedLaterAreNotShadowedByCarriedKeeps(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w.artifacts(t0, 1, 2, 3)
	r1 := w.run(t0, true)
	w.decide(r1, t0, map[int64]string{1: "keep-x", 2: "keep-x", 3: "keep-x"})

	r2 := w.run(t0.Add(time.Hour), true)
	at := t0.Add(time.Hour)
	w.decide(r2, at, map[int64]string{1: "keep-x"})                  // first chunk: evaluation at `at`
	w.decide(r2, at.Add(time.Second), map[int64]string{2: "keep-y"}) // a later chunk
	w.decide(r2, at.Add(time.Minute), map[int64]string{3: "old"})    // the janitor, later still

	want := []string{"1 keep keep-x kept true", "2 keep keep-y kept false", "3 delete old dry_run false"}
	if diff := cmp.Diff(want, w.decisions(r2)); diff != "" {
		t.Errorf("decisions of run %d (-want +got):\n%s", r2, diff)
	}
}
