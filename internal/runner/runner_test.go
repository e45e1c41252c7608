package runner_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testPolicy = `version: 1
repositories: [octo/api, Octo/Web]
safety:
  min_age: 2h
rules:
  - rule: keep-latest
    action: keep
    keep_latest: 2
    group_by: [name, branch]
  - rule: keep-main
    action: keep
    branch: [main]
  - rule: old-builds
    action: delete
    older_than: 5h
`

// seed gives each repository 10 artifacts an hour apart on two branches, so
// that the policy deletes some and keeps others for several reasons.
func seed(b *testbed.Bed) {
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		b.Add(repo, 10, func(i int, a *artifact.Artifact) {
			if i%2 == 1 {
				a.Branch = "feature/x"
			}
		})
	}
}

func newRunner(t *testing.T, b *testbed.Bed, cfg runner.Config) *runner.Runner {
	t.Helper()
	p, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock, cfg.Logger = b.Clock, b.Logger
	if cfg.MaxDeletions == 0 {
		cfg.MaxDeletions = 100
	}
	sc := scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 2, Clock: b.Clock, Logger: b.Logger})
	return runner.New(b.Store, b.Client, sc, p, cfg)
}

// expectedDeletes evaluates the policy over the simulator's own state.
func expectedDeletes(t *testing.T, b *testbed.Bed) map[int64]bool {
	t.Helper()
	p, _ := policy.Parse([]byte(testPolicy))
	want := map[int64]bool{}
	for _, repo := range p.Repositories {
		arts := b.Sim.Artifacts(repo)
		for i, d := range policy.Evaluate(p, arts, b.Clock.Now()) {
			if d.Action == policy.Delete {
				want[arts[i].ID] = true
			}
		}
	}
	return want
}

func simIDs(b *testbed.Bed) map[int64]bool {
	ids := map[int64]bool{}
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		for _, a := range b.Sim.Artifacts(repo) {
			ids[a.ID] = true
		}
	}
	return ids
}

// leavePending makes it look as if a process recorded the intent to delete
// one would-be deletion of a dry-run and died before recording the outcome,
// and returns that intent.
func leavePending(t *testing.T, b *testbed.Bed) store.AuditEntry {
	t.Helper()
	ctx := context.Background()
	first, err := newRunner(t, b, runner.Config{DryRun: true}).Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	victims, err := b.Store.AuditEntries(ctx, store.AuditFilter{RunID: first.RunID, Outcome: store.OutcomeDryRun, Limit: 1})
	if err != nil || len(victims) == 0 {
		t.Fatalf("no dry-run decision to leave pending: %v", err)
	}
	v := victims[0]
	v.Outcome, v.ID = store.OutcomePending, 0
	if _, err := b.Store.InsertPending(ctx, v); err != nil {
		t.Fatal(err)
	}
	return v
}

func outcomeCounts(t *testing.T, b *testbed.Bed, runID int64) map[store.Outcome]int64 {
	t.Helper()
	out := map[store.Outcome]int64{}
	for o, n := range testbed.OutcomeCounts(t, b.Store, runID) {
		out[o] = n.N
	}
	return out
}

func TestDryRunRecordsEverythingAndDeletesNothing(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	want := expectedDeletes(t, b)
	if len(want) == 0 {
		t.Fatal("the test policy deletes nothing; the test would prove nothing")
	}
	sum, err := newRunner(t, b, runner.Config{DryRun: true}).Run(context.Background(), runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != runner.StatusSucceeded {
		t.Fatalf("status %s: %s", sum.Status, sum.Error)
	}
	if got := b.Sim.Requests()["DELETE "+githubsim.RouteDelete]; got != 0 {
		t.Errorf("dry-run sent %d DELETEs", got)
	}
	if diff := cmp.Diff(map[store.Outcome]int64{store.OutcomeDryRun: int64(len(want)), store.OutcomeKept: int64(20 - len(want))}, outcomeCounts(t, b, sum.RunID)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	r, err := b.Store.Run(context.Background(), sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.DryRun || r.Status != "succeeded" || r.ArtifactsSeen != 20 || r.PlannedDeletions != len(want) || r.Kept != 20-len(want) ||
		r.WouldReclaim == 0 || r.Deleted != 0 || r.RepositoriesScanned != 2 || r.PolicySHA256 == "" || r.FinishedAt.IsZero() {
		t.Errorf("runs row %+v", r)
	}
	// Every decision has a rule (or the no-rule reason) and a reason.
	entries, _ := b.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: sum.RunID})
	for _, e := range entries {
		if e.Reason == "" {
			t.Errorf("decision without a reason: %+v", e)
		}
	}
	// The pending_deletions view shows the would-delete list.
	var n int
	if err := b.Store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pending_deletions`).Scan(&n); err != nil || n != len(want) {
		t.Errorf("pending_deletions has %d rows (%v), want %d", n, err, len(want))
	}
}

func TestRealRunDeletesExactlyThePolicysSet(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	want := expectedDeletes(t, b)
	before := simIDs(b)
	sum, err := newRunner(t, b, runner.Config{DeleteInterval: time.Second}).Run(context.Background(), runner.TriggerManual)
	if err != nil || sum.Status != runner.StatusSucceeded {
		t.Fatalf("run: %v %+v", err, sum)
	}
	after := simIDs(b)
	for id := range before {
		if want[id] == after[id] {
			t.Errorf("artifact %d: policy says delete=%v, but present after run=%v", id, want[id], after[id])
		}
	}
	if sum.Janitor.Deleted != len(want) || sum.Janitor.BytesReclaimed == 0 {
		t.Errorf("janitor %+v", sum.Janitor)
	}

	// A second run right after deletes nothing new.
	b.Sim.ResetCounts()
	sum2, err := newRunner(t, b, runner.Config{}).Run(context.Background(), runner.TriggerManual)
	if err != nil || sum2.Status != runner.StatusSucceeded {
		t.Fatalf("second run: %v %+v", err, sum2)
	}
	if got := b.Sim.Requests()["DELETE "+githubsim.RouteDelete]; got != 0 || sum2.Janitor.Planned != 0 {
		t.Errorf("second run sent %d DELETEs, planned %d", got, sum2.Janitor.Planned)
	}
}

func TestFailedScanBlocksDeletionsForThatRepositoryOnly(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	want := expectedDeletes(t, b)
	b.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteList, Repository: "octo/web", Status: http.StatusInternalServerError})
	sum, err := newRunner(t, b, runner.Config{}).Run(context.Background(), runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != runner.StatusPartial || !strings.Contains(sum.Error, "octo/web") {
		t.Fatalf("status %s, error %q", sum.Status, sum.Error)
	}
	if diff := cmp.Diff([]artifact.Repository{"octo/web"}, sum.Blocked); diff != "" {
		t.Errorf("blocked (-want +got):\n%s", diff)
	}
	if got := len(b.Sim.Artifacts("octo/web")); got != 10 {
		t.Errorf("octo/web lost %d artifacts although its scan failed", 10-got)
	}
	apiDeleted := 0
	for id := range want {
		if !b.Sim.Exists("octo/api", id) && !b.Sim.Exists("octo/web", id) {
			apiDeleted++
		}
	}
	if apiDeleted == 0 || sum.Janitor.Deleted != apiDeleted {
		t.Errorf("octo/api deletions: %d in simulator, %d reported", apiDeleted, sum.Janitor.Deleted)
	}
	r, _ := b.Store.Run(context.Background(), sum.RunID)
	if r.Status != "partial" || r.RepositoriesFailed != 1 || !strings.Contains(r.Error, "octo/web") {
		t.Errorf("runs row %+v", r)
	}
}

func TestCapIsRecordedInTheRun(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	want := expectedDeletes(t, b)
	sum, err := newRunner(t, b, runner.Config{MaxDeletions: 2}).Run(context.Background(), runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	// The cap is normal operation: the run succeeded, and says it hit the cap.
	if sum.Status != runner.StatusSucceeded || !strings.Contains(sum.Error, "MAX_DELETIONS_PER_RUN=2") || !sum.Janitor.CapHit {
		t.Fatalf("status %s error %q", sum.Status, sum.Error)
	}
	if diff := cmp.Diff(map[store.Outcome]int64{store.OutcomeDeleted: 2, store.OutcomeSkippedCap: int64(len(want) - 2), store.OutcomeKept: int64(20 - len(want))}, outcomeCounts(t, b, sum.RunID)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestShutdownDuringARun(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	ctx, cancel := context.WithCancel(context.Background())
	deletes := 0
	b.Sim.OnRequest(func(route string, _ *http.Request) {
		if route == githubsim.RouteDelete {
			if deletes++; deletes == 2 {
				cancel() // SIGTERM while the 2nd DELETE is in flight
			}
		}
	})
	sum, err := newRunner(t, b, runner.Config{DeleteInterval: time.Second}).Run(ctx, runner.TriggerSchedule)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Janitor.Deleted != 2 || sum.Janitor.Interrupted == 0 || sum.Status == runner.StatusSucceeded {
		t.Fatalf("summary %+v", sum.Janitor)
	}
	r, err := b.Store.Run(context.Background(), sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if r.FinishedAt.IsZero() || r.Status == "running" || !strings.Contains(r.Error, "shutdown") {
		t.Errorf("run row after shutdown: %+v", r)
	}
	if pending, _ := b.Store.PendingAudit(context.Background()); len(pending) != 0 {
		t.Errorf("%d deletions left pending", len(pending))
	}
}

func TestInterruptedDeletionIsReconciledByTheNextRun(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	ctx := context.Background()
	// A first process scanned, recorded an intent, sent the DELETE and died.
	v := leavePending(t, b)
	b.Sim.RemoveArtifact(v.Repository, v.ArtifactID)

	sum, err := newRunner(t, b, runner.Config{}).Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Reconciled.Deleted != 1 {
		t.Errorf("reconciled %+v", sum.Reconciled)
	}
	if pending, _ := b.Store.PendingAudit(ctx); len(pending) != 0 {
		t.Errorf("%d rows still pending", len(pending))
	}
	// Nothing was deleted twice: every DELETE the simulator saw was for a different artifact.
	if sum.Janitor.Failed != 0 || sum.Janitor.AlreadyGone != 0 {
		t.Errorf("janitor %+v", sum.Janitor)
	}
}

func TestOneRunAtATime(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	ctx := context.Background()
	lock, ok, err := b.Store.TryRunLock(ctx)
	if err != nil || !ok {
		t.Fatalf("taking the lock: %v %v", ok, err)
	}
	if _, err := newRunner(t, b, runner.Config{}).Run(ctx, runner.TriggerSchedule); !errors.Is(err, runner.ErrBusy) {
		t.Errorf("Run while another holds the lock: err = %v, want ErrBusy", err)
	}
	lock.Unlock()

	// Two processes (two pools on one database) racing: both runs happen, one
	// after the other, and no artifact is deleted twice.
	other, err := store.Open(ctx, b.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	p, _ := policy.Parse([]byte(testPolicy))
	runners := []*runner.Runner{
		newRunner(t, b, runner.Config{Wait: true}),
		runner.New(other, b.Client, scanner.New(b.Client, other, scanner.Options{Clock: b.Clock}), p, runner.Config{Wait: true, Clock: b.Clock, MaxDeletions: 100}),
	}
	var wg sync.WaitGroup
	sums := make([]runner.Summary, 2)
	errs := make([]error, 2)
	for i, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[i], errs[i] = r.Run(ctx, runner.TriggerManual)
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
	}
	deleted := []int{sums[0].Janitor.Deleted, sums[1].Janitor.Deleted}
	sort.Ints(deleted)
	if deleted[0] != 0 || deleted[1] == 0 {
		t.Errorf("deletions per run %v: the second run must find nothing left to delete", deleted)
	}
	if d := b.Sim.Requests()["DELETE "+githubsim.RouteDelete]; d != deleted[1] {
		t.Errorf("%d DELETE requests for %d deletions", d, deleted[1])
	}
}

func TestTokenNeverInLogsOrTables(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{Sim: githubsim.Options{ReadOnly: true}})
	seed(b)
	b.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteList, Repository: "octo/web", Status: http.StatusUnauthorized})
	sum, err := newRunner(t, b, runner.Config{}).Run(context.Background(), runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Janitor.Failed == 0 {
		t.Fatal("expected failing deletions to produce error text")
	}
	b.AssertNoToken()
	for _, table := range []string{"runs", "scans", "audit_log", "artifacts"} {
		var n int
		if err := b.Store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+table+` t WHERE t::text LIKE '%' || $1 || '%'`, testbed.Token).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("the token appears in %d rows of %s", n, table)
		}
	}
}

func TestRunClosesWhatADeadProcessLeftRunning(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	ctx := context.Background()
	deadRun, err := b.Store.CreateRun(ctx, store.NewRun{StartedAt: b.Clock.Now(), Trigger: "schedule", PolicySHA256: "x"})
	if err != nil {
		t.Fatal(err)
	}
	deadScan, err := b.Store.StartScan(ctx, store.NewScan{Repository: "octo/api", Kind: store.ScanKindRepository, RunID: &deadRun, StartedAt: b.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	// A webhook's scan on another replica, started a minute ago, is alive.
	liveScan, err := b.Store.StartScan(ctx, store.NewScan{Repository: "octo/api", Kind: store.ScanKindWorkflowRun, WorkflowRunID: 5, StartedAt: b.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	b.Clock.Advance(time.Minute)
	if _, err := newRunner(t, b, runner.Config{DryRun: true}).Run(ctx, runner.TriggerManual); err != nil {
		t.Fatal(err)
	}
	r, _ := b.Store.Run(ctx, deadRun)
	if r.Status != "failed" || r.FinishedAt.IsZero() {
		t.Errorf("dead run: %+v", r)
	}
	if sc, _ := b.Store.Scan(ctx, deadScan); sc.Status != store.ScanFailed {
		t.Errorf("dead run's scan is %s", sc.Status)
	}
	if sc, _ := b.Store.Scan(ctx, liveScan); sc.Status != store.ScanRunning {
		t.Errorf("a live webhook scan was abandoned: %s", sc.Status)
	}
}

// A shutdown between taking the run lock and starting the run (here, while
// reconciling) returns an error and releases the lock.
func TestCancelDuringPreparationReleasesTheLock(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	ctx := context.Background()
	leavePending(t, b)
	cctx, cancel := context.WithCancel(ctx)
	b.Sim.OnRequest(func(route string, _ *http.Request) {
		if route == githubsim.RouteGet {
			cancel() // SIGTERM while the pending deletion is being checked
		}
	})
	if _, err := newRunner(t, b, runner.Config{}).Run(cctx, runner.TriggerManual); err == nil {
		t.Fatal("Run succeeded although its context ended during preparation")
	}
	lock, ok, err := b.Store.TryRunLock(ctx)
	if err != nil || !ok {
		t.Fatalf("the run lock was not released: ok=%v err=%v", ok, err)
	}
	lock.Unlock()
}

// newMetrics returns run metrics on a registry of their own and the
// /metrics handler that serves it.
func newMetrics() (*runner.Metrics, http.Handler) {
	reg := prometheus.NewRegistry()
	return runner.NewMetrics(reg), promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// The scan-duration histogram gets each repository scan's duration on the
// run's clock. Scans go one at a time so that each one's duration is exactly
// the time its own requests took.
func TestScanDurationsReachTheHistogram(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	b.Sim.OnRequest(func(route string, _ *http.Request) {
		if route == githubsim.RouteList {
			b.Clock.Advance(3 * time.Second) // each repository's one page takes 3s
		}
	})
	p, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	m, h := newMetrics()
	sc := scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 1, Clock: b.Clock, Logger: b.Logger})
	r := runner.New(b.Store, b.Client, sc, p, runner.Config{DryRun: true, MaxDeletions: 100, Clock: b.Clock, Logger: b.Logger, Metrics: m})
	if _, err := r.Run(context.Background(), runner.TriggerManual); err != nil {
		t.Fatal(err)
	}
	count, sum, buckets := testbed.Scrape(t, h).Histogram(t, "retentiond_scan_duration_seconds")
	if count != 2 || sum != 6 || buckets[2.5] != 0 || buckets[5] != 2 {
		t.Errorf("scan durations: count %d, sum %g, buckets %v; want 2 scans of 3s", count, sum, buckets)
	}
}

// Every run status and every outcome a deletion can end with is a series at
// 0 before the first run, labelled with the constants' values, and the
// counters add each run's counts to the last.
func TestMetricsAddUpAcrossRuns(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	m, h := newMetrics()
	r := newRunner(t, b, runner.Config{Metrics: m})

	before := testbed.Scrape(t, h)
	statuses := []string{string(runner.StatusFailed), string(runner.StatusPartial), string(runner.StatusSucceeded)}
	outcomes := []string{
		string(store.OutcomeAlreadyGone), string(store.OutcomeChanged), string(store.OutcomeDeleted),
		string(store.OutcomeDryRun), string(store.OutcomeExpiredNotArchived), string(store.OutcomeFailed),
		string(store.OutcomeInterrupted), string(store.OutcomeSkippedCap), string(store.OutcomeSkippedRateLimit),
	}
	if diff := cmp.Diff(statuses, before.LabelValues(t, "retentiond_runs_total", "status")); diff != "" {
		t.Errorf("runs_total statuses before any run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(outcomes, before.LabelValues(t, "retentiond_deletions_total", "outcome")); diff != "" {
		t.Errorf("deletions_total outcomes before any run (-want +got):\n%s", diff)
	}
	for _, s := range statuses {
		if v := before.Value(t, "retentiond_runs_total", "status", s); v != 0 {
			t.Errorf("runs_total{status=%q} = %g before any run", s, v)
		}
	}
	for _, o := range outcomes {
		if v := before.Value(t, "retentiond_deletions_total", "outcome", o); v != 0 {
			t.Errorf("deletions_total{outcome=%q} = %g before any run", o, v)
		}
	}

	ctx := context.Background()
	first, err := r.Run(ctx, runner.TriggerManual)
	if err != nil || first.Status != runner.StatusSucceeded || first.Janitor.Deleted == 0 {
		t.Fatalf("first run: %v %+v", err, first)
	}
	// Newer artifacts on another branch give the second run deletions of
	// its own: the five older than 5h.
	b.Add("octo/api", 10, func(_ int, a *artifact.Artifact) { a.Branch = "feature/y" })
	second, err := r.Run(ctx, runner.TriggerManual)
	if err != nil || second.Status != runner.StatusSucceeded || second.Janitor.Deleted == 0 {
		t.Fatalf("second run: %v %+v", err, second)
	}

	after := testbed.Scrape(t, h)
	for _, c := range []struct {
		name, label, value string
		want               float64
	}{
		{"retentiond_runs_total", "status", string(runner.StatusSucceeded), 2},
		{"retentiond_runs_total", "status", string(runner.StatusFailed), 0},
		{"retentiond_deletions_total", "outcome", string(store.OutcomeDeleted), float64(first.Janitor.Deleted + second.Janitor.Deleted)},
		{"retentiond_deletions_total", "outcome", string(store.OutcomeDryRun), 0},
		{"retentiond_bytes_reclaimed_total", "", "", float64(first.Janitor.BytesReclaimed + second.Janitor.BytesReclaimed)},
		{"retentiond_artifacts_seen", "", "", 30 - float64(first.Janitor.Deleted)},
		{"retentiond_last_run_timestamp_seconds", "", "", float64(second.FinishedAt.Unix())},
	} {
		var labels []string
		if c.label != "" {
			labels = []string{c.label, c.value}
		}
		if got := after.Value(t, c.name, labels...); got != c.want {
			t.Errorf("%s%q = %g, want %g", c.name, labels, got, c.want)
		}
	}
	for name, want := range map[string]dto.MetricType{
		"retentiond_runs_total":                 dto.MetricType_COUNTER,
		"retentiond_deletions_total":            dto.MetricType_COUNTER,
		"retentiond_bytes_reclaimed_total":      dto.MetricType_COUNTER,
		"retentiond_artifacts_seen":             dto.MetricType_GAUGE,
		"retentiond_would_reclaim_bytes":        dto.MetricType_GAUGE,
		"retentiond_last_run_timestamp_seconds": dto.MetricType_GAUGE,
		"retentiond_scan_duration_seconds":      dto.MetricType_HISTOGRAM,
	} {
		if got := after.Type(t, name); got != want {
			t.Errorf("%s is a %s, want a %s", name, got, want)
		}
	}
	if count, _, _ := after.Histogram(t, "retentiond_scan_duration_seconds"); count != 4 {
		t.Errorf("scan_duration_seconds counted %d scans, want 4 (2 repositories, 2 runs)", count)
	}
}
