package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
)

// The review questions of the README, as asked of the 0004 schema and as
// asked of 0005's. Where the question is the same SQL, both are the same
// string; where 0005 answers from the decisions view, the README shows the
// new form.
var reviewQuestions = []struct{ name, before, after string }{
	{
		name: "what would be deleted, largest first",
		before: `SELECT run_id, repository, artifact_name, branch, pg_size_pretty(size_in_bytes) AS size, expired, artifact_created_at,
		       rule, reason FROM pending_deletions ORDER BY reclaimable_bytes DESC, artifact_id LIMIT 20`,
	},
	{
		name: "bytes reclaimable per repository",
		before: `SELECT repository, count(*) AS artifacts, count(*) FILTER (WHERE expired) AS expired_listings,
		       pg_size_pretty(sum(reclaimable_bytes)) AS reclaimable
		FROM pending_deletions GROUP BY repository ORDER BY sum(reclaimable_bytes) DESC`,
	},
	{
		name: "everything a rule deleted in a week",
		before: `SELECT run_id, repository, artifact_id, artifact_name, pg_size_pretty(size_in_bytes) AS size, reason, executed_at
		FROM audit_log WHERE rule = 'old-test-results' AND outcome IN ('deleted', 'already_gone')
		  AND executed_at > '2026-06-01'::timestamptz - interval '7 days' ORDER BY executed_at`,
	},
	{
		name: "failures and everything not carried out",
		before: `SELECT run_id, repository, artifact_id, artifact_name, outcome, http_status, error, executed_at
		FROM audit_log WHERE outcome IN ('failed', 'skipped_rate_limit', 'interrupted', 'changed', 'expired_not_archived')
		ORDER BY id DESC LIMIT 50`,
	},
	{
		name: "why one artifact is still here",
		before: `SELECT DISTINCT ON (artifact_id) run_id, action, rule, reason, outcome
		FROM audit_log WHERE artifact_id = 1 ORDER BY artifact_id, id DESC`,
		after: `SELECT run_id, action, rule, reason, outcome
		FROM decisions WHERE artifact_id = 1 ORDER BY run_id DESC, id DESC LIMIT 1`,
	},
	{
		name: "the latest run by rule and outcome",
		before: `SELECT rule, outcome, count(*), pg_size_pretty(sum(size_in_bytes))
		FROM audit_log WHERE run_id = (SELECT max(id) FROM runs) GROUP BY rule, outcome ORDER BY rule, outcome`,
		after: `SELECT rule, outcome, count(*), pg_size_pretty(sum(size_in_bytes))
		FROM decisions WHERE run_id = (SELECT max(id) FROM runs) GROUP BY rule, outcome ORDER BY rule, outcome`,
	},
	{
		name: "the latest runs",
		before: `SELECT id, started_at, trigger, dry_run, status, artifacts_seen, planned_deletions, deleted, already_gone, failed,
		       skipped, pg_size_pretty(bytes_reclaimed) AS reclaimed, pg_size_pretty(would_reclaim) AS would_reclaim, duration, error
		FROM run_summary ORDER BY id DESC LIMIT 10`,
	},
	{
		name:   "every decision of every run",
		before: `SELECT run_id, artifact_id, action, rule, reason, outcome, http_status, executed_at FROM audit_log ORDER BY run_id, artifact_id, id`,
		after:  `SELECT run_id, artifact_id, action, rule, reason, outcome, http_status, executed_at FROM decisions ORDER BY run_id, artifact_id, id`,
	},
	{
		name:   "the decisions of one run, keep and delete",
		before: `SELECT artifact_id, action, rule, outcome FROM audit_log WHERE run_id = 2 ORDER BY artifact_id`,
		after:  `SELECT artifact_id, action, rule, outcome FROM decisions WHERE run_id = 2 ORDER BY artifact_id`,
	},
	{
		name:   "the daily cap's count",
		before: `SELECT count(*) FROM audit_log WHERE (action = 'delete' AND executed_at >= '2026-05-30' AND outcome IN ('deleted', 'already_gone', 'failed')) OR outcome = 'pending'`,
		after:  `SELECT (SELECT count(*) FROM audit_log WHERE action = 'delete' AND executed_at >= '2026-05-30' AND outcome IN ('deleted', 'already_gone', 'failed')) + (SELECT count(*) FROM audit_pending)`,
	},
}

func answers(t *testing.T, st *store.Store, after bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range reviewQuestions {
		sql := q.before
		if after && q.after != "" {
			sql = q.after
		}
		rows, err := st.Pool().Query(context.Background(), sql)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var b strings.Builder
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatalf("%s: %v", q.name, err)
			}
			fmt.Fprintln(&b, vals...)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		if b.Len() == 0 {
			t.Fatalf("%s: no rows: the fixture does not exercise it", q.name)
		}
		out[q.name] = b.String()
	}
	return out
}

// TestUpgradeFrom0004KeepsEveryAnswer fills the 0004 schema the way that
// release wrote it — a row per artifact per run, the pending intent of a
// run that died — migrates in place, and asks every review question again.
func TestUpgradeFrom0004KeepsEveryAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, pgtest.NewEmptyDatabase(t))
	if err := st.MigrateFS(ctx, migrationsUpTo(t, 4)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 5, 28, 12, 0, 0, 0, time.UTC) // runs straddle a month boundary
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := st.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO artifacts (id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
	        first_seen_at, last_seen_at, branch)
	      SELECT i, CASE WHEN i <= 6 THEN 'octo/api' ELSE 'octo/web' END, 'n' || i, 'build-' || i, 1000 * i, 'u', 'a', i = 6,
	             $1, $1, 'main'
	      FROM generate_series(1, 8) i`, t0)
	// Run 1: a dry-run. Run 2: a real run. Run 3: a real run that died with
	// an intent pending. Run 4: a later dry-run, after run 2's deletions.
	exec(`INSERT INTO runs (id, started_at, finished_at, trigger, dry_run, status, policy_sha256, max_deletions,
	        artifacts_seen, kept, planned_deletions, deleted, already_gone, failed, skipped, cap_hit, bytes_reclaimed, would_reclaim, error)
	      VALUES (1, $1, $1, 'schedule', true, 'succeeded', 'x', 3, 8, 3, 5, 0, 0, 0, 2, true, 0, 9000, 'deletion cap reached'),
	             (2, $2, $2, 'schedule', false, 'partial', 'x', 4, 8, 3, 5, 1, 1, 1, 1, true, 9000, 0, '1 deletions failed'),
	             (3, $3, NULL, 'schedule', false, 'running', 'x', 4, 0, 0, 0, 0, 0, 0, 0, false, 0, 0, NULL),
	             (4, $4, $4, 'schedule', true, 'succeeded', 'x', 4, 6, 3, 3, 0, 0, 0, 0, false, 0, 15000, NULL)`,
		t0, t0.Add(time.Hour), t0.Add(2*24*time.Hour), t0.Add(4*24*time.Hour))
	exec(`SELECT setval('runs_id_seq', 4)`)
	row := `INSERT INTO audit_log (run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes, branch, action, rule, reason,
	        outcome, http_status, error, executed_at, expired)
	      SELECT $1, $2, repository, id, name, size_in_bytes, branch, $3, $4, $5, $6, $7, $8, $9, expired FROM artifacts WHERE id = ANY($10)`
	keep := func(run int64, at time.Time, rule string, ids ...int64) {
		exec(row, run, at, "keep", rule, "kept by "+rule, "kept", nil, nil, nil, ids)
	}
	del := func(run int64, at time.Time, outcome string, status any, errText any, ids ...int64) {
		var executed any
		if outcome != "dry_run" && outcome != "skipped_cap" && outcome != "pending" {
			executed = at
		}
		exec(row, run, at, "delete", "old-test-results", "older than 7d", outcome, status, errText, executed, ids)
	}
	r1, r2, r3, r4 := t0, t0.Add(time.Hour), t0.Add(2*24*time.Hour), t0.Add(4*24*time.Hour)
	keep(1, r1, "keep-releases", 1, 2)
	keep(1, r1, "", 3)
	del(1, r1, "dry_run", nil, nil, 4, 5, 6)
	del(1, r1, "skipped_cap", nil, "over MAX_DELETIONS_PER_RUN=3", 7, 8)
	keep(2, r2, "keep-releases", 1, 2)
	keep(2, r2, "", 3)
	del(2, r2, "deleted", 204, nil, 4)
	del(2, r2, "already_gone", 404, nil, 5)
	del(2, r2, "failed", 500, "HTTP 500", 6)
	del(2, r2, "skipped_cap", nil, "over MAX_DELETIONS_PER_RUN=4", 7, 8)
	exec(`UPDATE artifacts SET gone_at = $1 WHERE id IN (4, 5)`, r2)
	keep(3, r3, "keep-releases", 1, 2)
	keep(3, r3, "", 3)
	del(3, r3, "pending", nil, nil, 7)
	keep(4, r4, "keep-releases", 1, 2)
	keep(4, r4, "", 3)
	del(4, r4, "dry_run", nil, nil, 6, 7, 8)

	before := answers(t, st, false)
	var rowsBefore int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&rowsBefore); err != nil {
		t.Fatal(err)
	}

	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrating from 0004: %v", err)
	}

	after := answers(t, st, true)
	for _, q := range reviewQuestions {
		if diff := cmp.Diff(before[q.name], after[q.name]); diff != "" {
			t.Errorf("%s: answer changed by the upgrade (-before +after):\n%s", q.name, diff)
		}
	}
	// Nothing was lost or rewritten: the old rows are where they were
	// (the legacy partition), but the pending intent, now in audit_pending.
	var legacy, pending int
	if err := st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_log_legacy), (SELECT count(*) FROM audit_pending)`).Scan(&legacy, &pending); err != nil {
		t.Fatal(err)
	}
	if legacy != rowsBefore-1 || pending != 1 {
		t.Errorf("after the upgrade: %d legacy rows and %d pending, want %d and 1", legacy, pending, rowsBefore-1)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE audit_log SET reason = 'rewritten' WHERE run_id = 1`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("rewriting an old decision after the upgrade: %v", err)
	}

	// The dead run is closed with totals from its rows once its intent is
	// resolved, as the next start does.
	p, err := st.PendingAudit(ctx)
	if err != nil || len(p) != 1 {
		t.Fatalf("pending after the upgrade: %v, %v", p, err)
	}
	if err := st.ResolveAudit(ctx, p[0].ID, store.Resolution{Outcome: store.OutcomeDeleted, HTTPStatus: 404, ExecutedAt: r4.Add(time.Hour), MarkGone: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AbandonRuns(ctx, r4.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	dead, err := st.Run(ctx, 3)
	if err != nil || dead.Status != store.RunFailed || dead.Kept != 3 || dead.PlannedDeletions != 1 || dead.Deleted != 1 || dead.BytesReclaimed != 7000 {
		t.Errorf("the dead run after AbandonRuns: %+v, %v", dead.RunTotals, err)
	}

	// A run after the upgrade writes only what changed; the decisions view
	// carries the rest from the old rows.
	r5 := r4.Add(time.Hour)
	run5, err := st.CreateRun(ctx, store.NewRun{StartedAt: r5, Trigger: store.TriggerSchedule, DryRun: true, PolicySHA256: "x", MaxDeletions: 4})
	if err != nil {
		t.Fatal(err)
	}
	var keeps []store.AuditEntry
	for id, rule := range map[int64]string{1: "keep-releases", 2: "keep-releases", 3: "", 8: "keep-new"} {
		repo := artifact.Repository("octo/api")
		if id > 6 {
			repo = "octo/web"
		}
		keeps = append(keeps, store.AuditEntry{RunID: run5, RecordedAt: r5, Repository: repo,
			ArtifactID: id, ArtifactName: fmt.Sprintf("build-%d", id), SizeInBytes: 1000 * id, Action: store.ActionKeep, Rule: rule, Reason: "kept by " + rule, Outcome: store.OutcomeKept})
	}
	if err := st.InsertAudit(ctx, keeps); err != nil {
		t.Fatal(err)
	}
	var written, decided int
	if err := st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_log WHERE run_id = $1), (SELECT count(*) FROM decisions WHERE run_id = $1 AND action = 'keep')`, run5).Scan(&written, &decided); err != nil {
		t.Fatal(err)
	}
	if written != 1 || decided != 4 {
		t.Errorf("run after the upgrade: %d keep rows written, %d keep decisions; want 1 (the changed one) and 4", written, decided)
	}
}
