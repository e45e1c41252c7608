package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/store"
)

func TestPruneDropsWholeExpiredMonthsOnly(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	now := time.Date(2027, 3, 15, 12, 0, 0, 0, time.UTC)
	horizon := now.Add(-store.DefaultAuditRetention) // 2026-02-08
	dec := time.Date(2025, 12, 10, 0, 0, 0, 0, time.UTC)
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC) // after the horizon, in a month that is not over by then
	w.artifacts(dec, 1, 2, 3, 4)
	for i, at := range []time.Time{dec, jan, feb} {
		r := w.run(at, true)
		w.decide(r, at, map[int64]string{int64(i + 1): "old", 4: "keep-" + at.Format("01")})
	}
	// An intent from December, never resolved: it must survive.
	r := w.run(dec, false)
	pendingID, err := w.st.InsertPending(w.ctx, store.AuditEntry{RunID: r, RecordedAt: dec, Repository: "octo/api", ArtifactID: 3,
		ArtifactName: "build-3", Action: store.ActionDelete, Rule: "old", Reason: "x", Outcome: store.OutcomePending})
	if err != nil {
		t.Fatal(err)
	}

	names := func(parts []store.AuditPartition) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p.Name+" "+p.RangeEnd.Format("2006-01-02")+" "+strings.Repeat("r", int(p.Rows)))
		}
		return out
	}
	want := []string{"audit_log_p202512 2026-01-01 rr", "audit_log_p202601 2026-02-01 rr"}
	planned, err := w.st.PruneAudit(w.ctx, store.Prune{Horizon: horizon, DryRun: true, At: now, By: "test"})
	if diff := cmp.Diff(want, names(planned)); diff != "" || err != nil {
		t.Errorf("dry-run prune (-want +got), %v:\n%s", err, diff)
	}
	if n := w.count(`SELECT count(*) FROM audit_log`); n != 6 {
		t.Errorf("a dry-run prune left %d rows, want all 6", n)
	}
	done, err := w.st.PruneAudit(w.ctx, store.Prune{Horizon: horizon, At: now, By: "test", Host: "box"})
	if diff := cmp.Diff(want, names(done)); diff != "" || err != nil {
		t.Errorf("prune (-want +got), %v:\n%s", err, diff)
	}
	if n := w.count(`SELECT count(*) FROM audit_log`); n != 2 {
		t.Errorf("%d rows left, want February's 2", n)
	}
	if n := w.count(`SELECT count(*) FROM pg_class WHERE relname IN ('audit_log_p202512', 'audit_log_p202601')`); n != 0 {
		t.Errorf("%d pruned partitions still exist", n)
	}
	prunes, err := w.st.AuditPrunes(w.ctx, 10)
	if err != nil || len(prunes) != 2 {
		t.Fatalf("audit_prunes: %+v, %v", prunes, err)
	}
	p := prunes[1] // oldest
	if p.Partition != "audit_log_p202512" || p.Rows != 2 || p.PrunedBy != "test" || p.Hostname != "box" || p.DBUser == "" ||
		!p.PrunedAt.Equal(now) || !p.Horizon.Equal(horizon) || !p.RangeStart.Equal(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("prune record: %+v", p)
	}
	// Nothing left to prune: a second prune drops nothing.
	if again, err := w.st.PruneAudit(w.ctx, store.Prune{Horizon: horizon, At: now, By: "test"}); err != nil || len(again) != 0 {
		t.Errorf("second prune: %v, %v", names(again), err)
	}
	// The intent is untouched, and resolving it still works: its month's
	// partition is created again for it.
	pending, err := w.st.PendingAudit(w.ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != pendingID {
		t.Fatalf("pending after prune: %+v, %v", pending, err)
	}
	if err := w.st.ResolveAudit(w.ctx, pendingID, store.Resolution{Outcome: store.OutcomeInterrupted, ExecutedAt: now}); err != nil {
		t.Errorf("resolving an old intent after its month was pruned: %v", err)
	}

	// Rows leave only by a prune: every other way is refused, on the
	// parent and on a partition alike.
	for _, stmt := range []string{
		`DELETE FROM audit_log`,
		`DELETE FROM audit_log_p202602`,
		`UPDATE audit_log_p202602 SET reason = 'rewritten'`,
		`TRUNCATE audit_log`,
		`TRUNCATE audit_log_p202602`,
		`DELETE FROM audit_prunes`,
		`UPDATE audit_prunes SET rows = 0`,
	} {
		if _, err := w.st.Pool().Exec(w.ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want an append-only refusal", stmt, err)
		}
	}
}

func TestEnsureAuditPartitionsCreatesAhead(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(t)
	at := time.Date(2030, 11, 20, 0, 0, 0, 0, time.UTC)
	created, err := w.st.EnsureAuditPartitions(w.ctx, at)
	if diff := cmp.Diff([]string{"audit_log_p203011", "audit_log_p203012", "audit_log_p203101"}, created); diff != "" || err != nil {
		t.Errorf("created (-want +got), %v:\n%s", err, diff)
	}
	if created, err := w.st.EnsureAuditPartitions(w.ctx, at); err != nil || len(created) != 0 {
		t.Errorf("second call created %v, %v", created, err)
	}
	if n := w.count(`SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_log_p203012'::regclass AND tgname = 'audit_log_no_truncate'`); n != 1 {
		t.Error("a new partition has no TRUNCATE guard")
	}
}
