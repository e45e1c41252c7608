package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/cli"
	"github.com/retentiond/retentiond/internal/store"
)

// audit --artifact prints one artifact's history across runs: a keep that
// two runs made is one decision that held for two runs, though only the
// first wrote a row; and --action keep still lists every keep of the second.
func TestAuditArtifactHistory(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for i := range 2 {
		if r := w.run(t, "run"); r.code != 0 {
			t.Fatalf("run %d: exit %d %v\n%s", i+1, r.code, r.err, r.stderr)
		}
		w.Clock.Advance(time.Minute) // too little for any decision to change
	}
	ctx := context.Background()
	var kept int64
	var keepRows2, keeps1, keeps2 int
	if err := w.Store.Pool().QueryRow(ctx, `SELECT min(artifact_id) FROM audit_log WHERE run_id = 1 AND action = 'keep' AND rule = 'keep-latest'`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if err := w.Store.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_log WHERE run_id = 2 AND action = 'keep'),
		(SELECT kept FROM runs WHERE id = 1), (SELECT kept FROM runs WHERE id = 2)`).Scan(&keepRows2, &keeps1, &keeps2); err != nil {
		t.Fatal(err)
	}
	// Run 2's keeps are all run 1's (a few of run 1's may have aged into
	// deletes), so it writes no keep row.
	if keepRows2 != 0 || keeps2 > keeps1 || keeps2 == 0 {
		t.Errorf("run 2: %d keep rows written, runs.kept = %d (run 1: %d); want 0 rows", keepRows2, keeps2, keeps1)
	}
	r := w.run(t, "audit", "--run", "2", "--action", "keep", "--format", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); r.code != 0 || err != nil || len(rows) != keeps2 {
		t.Errorf("audit --run 2 --action keep: exit %d, %v, %d rows; want run 2's %d keeps", r.code, err, len(rows), keeps2)
	}

	id := strconv.FormatInt(kept, 10)
	r = w.run(t, "audit", "--artifact", id, "--format", "json")
	var spans []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &spans); r.code != 0 || err != nil {
		t.Fatalf("audit --artifact %s: exit %d %v %v\n%s", id, r.code, r.err, err, r.stdout)
	}
	if len(spans) != 1 || spans[0]["run_id"] != 1.0 || spans[0]["last_run_id"] != 2.0 || spans[0]["runs"] != 2.0 || spans[0]["action"] != "keep" {
		t.Errorf("history of %s: %v; want one keep from run 1 through run 2", id, spans)
	}
	r = w.run(t, "audit", "--artifact", id)
	if r.code != 0 || !strings.Contains(r.stdout, "THROUGH") || !strings.Contains(r.stdout, "1 decisions recorded") {
		t.Errorf("audit --artifact %s table: exit %d\n%s", id, r.code, r.stdout)
	}
	if r := w.run(t, "audit", "--artifact", id, "--run", "1"); r.code != 2 {
		t.Errorf("--artifact with --run: exit %d, want 2", r.code)
	}
	if r := w.run(t, "audit", "--artifact", "999"); r.code != 0 || !strings.Contains(r.stdout, "no decision about artifact 999") {
		t.Errorf("unknown artifact: exit %d\n%s", r.code, r.stdout)
	}
}

// audit prune drops only what AUDIT_RETENTION says is old, and --dry-run
// nothing; each drop is recorded.
func TestAuditPrune(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if r := w.run(t, "run"); r.code != 0 {
		t.Fatalf("run: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	ctx := context.Background()
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := w.Store.Pool().QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	rows := count(`SELECT count(*) FROM audit_log`)
	if r := w.run(t, "audit", "prune"); r.code != 0 || !strings.Contains(r.stdout, "nothing to prune") {
		t.Errorf("prune of a fresh log: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	w.Clock.Advance(500 * 24 * time.Hour)
	r := w.run(t, "audit", "prune", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "partitions, "+strconv.Itoa(rows)+" rows (dry-run: nothing dropped)") {
		t.Errorf("prune --dry-run: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	if n := count(`SELECT count(*) FROM audit_log`); n != rows {
		t.Errorf("--dry-run left %d rows of %d", n, rows)
	}
	if r := w.run(t, "audit", "prune", "--bogus"); r.code != 2 {
		t.Errorf("prune --bogus: exit %d, want 2", r.code)
	}
	if r := w.runEnv(t, map[string]string{"AUDIT_RETENTION": "600d"}, "audit", "prune"); r.code != 0 || !strings.Contains(r.stdout, "nothing to prune") {
		t.Errorf("prune with AUDIT_RETENTION=600d: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	r = w.run(t, "audit", "prune")
	if r.code != 0 || !strings.Contains(r.stdout, "partitions, "+strconv.Itoa(rows)+" rows; recorded in audit_prunes") {
		t.Errorf("prune: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	if n := count(`SELECT count(*) FROM audit_log`); n != 0 {
		t.Errorf("%d rows left after the prune", n)
	}
	if n := count(`SELECT sum(rows) FROM audit_prunes WHERE pruned_by = 'retentiond audit prune'`); n != rows {
		t.Errorf("prune records count %d rows, want %d", n, rows)
	}
	// The run itself is still listed.
	if r := w.run(t, "audit"); r.code != 0 || !strings.Contains(r.stdout, "schedule") && !strings.Contains(r.stdout, "manual") {
		t.Errorf("audit after prune: exit %d\n%s", r.code, r.stdout)
	}
}

// runEnv runs with extra variables on top of the world's.
func (w *world) runEnv(t *testing.T, extra map[string]string, args ...string) result {
	t.Helper()
	env := map[string]string{}
	for k, v := range w.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return runWith(t, env, w.Clock, args...)
}

// serve prunes the audit log before each scheduled run.
func TestServePrunesBeforeEachRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	old := w.Clock.Now().Add(-500 * 24 * time.Hour)
	runID, err := w.Store.CreateRun(ctx, store.NewRun{StartedAt: old, Trigger: store.TriggerSchedule, DryRun: true, PolicySHA256: "x", MaxDeletions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Store.InsertAudit(ctx, []store.AuditEntry{{RunID: runID, RecordedAt: old, Repository: "octo/api", ArtifactID: 1,
		ArtifactName: "b", Action: store.ActionDelete, Rule: "old", Reason: "x", Outcome: store.OutcomeDryRun}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Store.Pool().Exec(ctx, `UPDATE runs SET status = 'succeeded', finished_at = started_at WHERE id = $1`, runID); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "SCHEDULE": "@every 1h"}
	for k, v := range w.env {
		env[k] = v
	}
	clk := &tickClock{now: w.Clock.Now(), sleeping: make(chan struct{}), ticks: make(chan struct{})}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(sctx, []string{"serve"}, cli.Env{Stdout: io.Discard, Stderr: io.Discard,
			Lookup: envconfig.MapLookuper(env), Clock: clk})
	}()
	<-clk.sleeping // waiting for the first run
	clk.ticks <- struct{}{}
	<-clk.sleeping // the run has ended
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	var pruned, left int
	if err := w.Store.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_prunes WHERE pruned_by = 'retentiond serve' AND rows = 1),
		(SELECT count(*) FROM audit_log WHERE run_id = $1)`, runID).Scan(&pruned, &left); err != nil {
		t.Fatal(err)
	}
	if pruned != 1 || left != 0 {
		t.Errorf("after serve's first run: %d prune records of the old row, %d old rows left; want 1 and 0", pruned, left)
	}
}
