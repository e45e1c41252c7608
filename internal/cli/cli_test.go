package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/cli"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const policyYAML = `version: 1
repositories: [octo/api, octo/web]
safety:
  min_age: 2h
rules:
  - rule: keep-latest
    action: keep
    keep_latest: 2
    group_by: [name, branch]
  - rule: old-builds
    action: delete
    older_than: 5h
`

// world is a simulator, a database and the environment that points
// retentiond at them.
type world struct {
	*testbed.Bed
	env map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	b := testbed.New(t, testbed.Options{})
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		b.Add(repo, 10, func(i int, a *artifact.Artifact) {
			if i%3 == 0 {
				a.Branch = "feature/y"
			}
		})
	}
	file := filepath.Join(t.TempDir(), "policies.yaml")
	if err := os.WriteFile(file, []byte(policyYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return &world{Bed: b, env: map[string]string{
		"DATABASE_URL":    b.DBURL,
		"GITHUB_TOKEN":    testbed.Token,
		"GITHUB_API_URL":  b.Server.URL,
		"POLICY_FILE":     file,
		"LOG_FORMAT":      "json",
		"LOG_LEVEL":       "debug",
		"DELETE_INTERVAL": "0s",
	}}
}

type result struct {
	stdout, stderr string
	code           int
	err            error
}

func (w *world) run(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, w.env, w.Clock, args...)
}

func runWith(t *testing.T, env map[string]string, clk interface {
	Now() time.Time
	Sleep(context.Context, time.Duration) error
}, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := cli.Env{Stdout: &out, Stderr: &errb, Lookup: envconfig.MapLookuper(env)}
	if clk != nil {
		e.Clock = clk
	}
	err := cli.Run(context.Background(), args, e)
	return result{stdout: out.String(), stderr: errb.String(), code: cli.ExitCode(err), err: err}
}

func TestHelpDescribesEveryCommandAndVariable(t *testing.T) {
	t.Parallel()
	r := runWith(t, nil, nil, "--help")
	if r.code != 0 {
		t.Fatalf("--help exit %d", r.code)
	}
	for _, want := range []string{"serve", "run", "plan", "audit", "apply", "download", "demo", "scan", "migrate", "policy", "version",
		"DATABASE_URL", "GITHUB_TOKEN_FILE", "GITHUB_API_URL", "POLICY_FILE", "SCHEDULE", "DRY_RUN", "MAX_DELETIONS_PER_RUN",
		"SCAN_CONCURRENCY", "HTTP_ADDR", "LOG_LEVEL", "LOG_FORMAT", "GITHUB_MAX_WAIT", "DELETE_INTERVAL", "WEBHOOK_SECRET", "APPLY_MAX_AGE",
		"ARCHIVE_DIR", "ARCHIVE_MAX_BYTES"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
	for _, args := range [][]string{{"help", "run"}, {"run", "--help"}, {"scan", "-h"}} {
		r := runWith(t, nil, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: retentiond") || !strings.Contains(r.stdout, "Environment:") {
			t.Errorf("%v: exit %d, output %q", args, r.code, r.stdout)
		}
	}
	if r := runWith(t, nil, nil, "frobnicate"); r.code != 2 || !strings.Contains(r.err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %v", r.code, r.err)
	}
	if r := runWith(t, nil, nil); r.code != 2 {
		t.Errorf("no command: exit %d", r.code)
	}
	if r := runWith(t, nil, nil, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "retentiond ") {
		t.Errorf("version: %q", r.stdout)
	}
}

func TestConfigurationErrorsExitTwo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad bool", map[string]string{"DRY_RUN": "maybe", "DATABASE_URL": "postgres://x@127.0.0.1:1/x"}, []string{"run"}, "DRY_RUN"},
		{"no database", map[string]string{"GITHUB_TOKEN": "t"}, []string{"audit"}, "DATABASE_URL: is required"},
		{"missing policy file", map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "POLICY_FILE": "testdata/none.yaml"}, []string{"scan"}, "POLICY_FILE: reading policy file"},
		{"no token", map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "POLICY_FILE": "../../policies.example.yaml"}, []string{"run"}, "GITHUB_TOKEN: is required"},
		{"bad flag", nil, []string{"run", "--dry-run=perhaps"}, "dry-run"},
		{"extra argument", nil, []string{"plan", "now"}, "plan takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runWith(t, tt.env, nil, tt.args...)
			if r.code != 2 || r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
				t.Errorf("exit %d, err %v; want 2 and %q", r.code, r.err, tt.want)
			}
		})
	}
}

func TestUnreachableDatabaseIsOneClearError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	r := runWith(t, map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-pw@" + addr + "/retentiond?connect_timeout=2"}, nil, "audit")
	if r.code != 1 || !strings.Contains(r.err.Error(), addr) {
		t.Fatalf("exit %d, err %v", r.code, r.err)
	}
	if strings.Contains(r.err.Error()+r.stderr+r.stdout, "s3cr3t-pw") {
		t.Error("the database password was printed")
	}
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte(policyYAML), 0o600)
	os.WriteFile(bad, []byte("version: 1\nrepositories: [octo/api]\nrules:\n  - rule: x\n    action: destroy\n    older_than: 7days\n"), 0o600)
	r := runWith(t, nil, nil, "policy", "check", good)
	if r.code != 0 || !strings.Contains(r.stdout, "OK") || !strings.Contains(r.stdout, "old-builds") {
		t.Errorf("good policy: exit %d\n%s", r.code, r.stdout)
	}
	r = runWith(t, nil, nil, "policy", "check", bad)
	if r.code != 2 {
		t.Fatalf("bad policy: exit %d", r.code)
	}
	msg := r.err.Error()
	for _, want := range []string{bad + ":5:13", bad + ":6:17"} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors %q lack the position %s", msg, want)
		}
	}
	if r := runWith(t, nil, nil, "policy", "check", "../../policies.example.yaml"); r.code != 0 {
		t.Errorf("the shipped example fails its check: %v", r.err)
	}
}

func TestScanCommand(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.run(t, "scan")
	if r.code != 0 {
		t.Fatalf("scan: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	for _, want := range []string{"octo/api", "octo/web", "complete", "2 repositories, 20 artifacts", "2 requests, 0 failed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("scan output lacks %q:\n%s", want, r.stdout)
		}
	}
	// One repository failing makes the exit status 1, and says which.
	w.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteList, Repository: "octo/web", Status: http.StatusNotFound})
	r = w.run(t, "scan")
	if r.code != 1 || !strings.Contains(r.stdout, "1 failed") || !strings.Contains(r.stdout, "octo/web: scanning octo/web") {
		t.Errorf("failing scan: exit %d\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, testbed.Token) {
		t.Error("token printed")
	}
}

func TestScanRunCommand(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	runID := w.Sim.Artifacts("octo/api")[0].WorkflowRunID
	r := w.run(t, "scan", "--run", "Octo/API", "1000000")
	if r.code != 1 {
		t.Errorf("unknown run: exit %d", r.code)
	}
	r = w.run(t, "scan", "--run", "octo/api", strconv.FormatInt(runID, 10))
	if r.code != 0 || !strings.Contains(r.stdout, "1 artifacts") {
		t.Fatalf("scan --run: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	if got := w.Sim.Requests()["GET "+githubsim.RouteListRun]; got != 2 {
		t.Errorf("run listing requests = %d", got)
	}
	if r := w.run(t, "scan", "--run", "octo/api"); r.code != 2 {
		t.Errorf("missing RUN_ID: exit %d", r.code)
	}
}

func TestRunPlanAudit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)

	// plan before any scan warns.
	r := w.run(t, "plan")
	if r.code != 0 || !strings.Contains(r.stdout, "never scanned") {
		t.Errorf("plan before scan: exit %d\n%s", r.code, r.stdout)
	}

	// A dry-run by default.
	r = w.run(t, "run")
	if r.code != 0 {
		t.Fatalf("run: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, "dry-run") || !strings.Contains(r.stdout, "would delete") || !strings.Contains(r.stdout, "retentiond audit --run 1") {
		t.Errorf("run output:\n%s", r.stdout)
	}
	if d := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]; d != 0 {
		t.Fatalf("dry-run deleted %d", d)
	}

	// plan over the database agrees with the dry-run, in every format.
	r = w.run(t, "plan", "--format", "json")
	var planned []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &planned); err != nil || len(planned) == 0 {
		t.Fatalf("plan json: %v\n%s", err, r.stdout)
	}
	if r := w.run(t, "plan", "--format", "csv"); !strings.HasPrefix(r.stdout, "repository,artifact_id,") || strings.Count(r.stdout, "\n") != len(planned)+1 {
		t.Errorf("plan csv:\n%s", r.stdout)
	}
	if r := w.run(t, "plan"); !strings.Contains(r.stdout, "would be deleted") || !strings.Contains(r.stdout, "old-builds") {
		t.Errorf("plan table:\n%s", r.stdout)
	}

	// audit lists runs, then one run's decisions with filters.
	if r := w.run(t, "audit"); r.code != 0 || !strings.Contains(r.stdout, "dry-run") || !strings.Contains(r.stdout, "succeeded") {
		t.Errorf("audit:\n%s", r.stdout)
	}
	r = w.run(t, "audit", "--run", "1", "--format", "json")
	var decided []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &decided); err != nil || len(decided) != len(planned) {
		t.Fatalf("audit --run json: %d decisions, plan had %d (%v)", len(decided), len(planned), err)
	}
	if decided[0]["outcome"] != "dry_run" || decided[0]["rule"] != "old-builds" {
		t.Errorf("decision %v", decided[0])
	}
	if r := w.run(t, "audit", "--run", "1", "--action", "keep"); !strings.Contains(r.stdout, "kept by keep-latest") {
		t.Errorf("audit keeps:\n%s", r.stdout)
	}
	if r := w.run(t, "audit", "--run", "1", "--repository", "octo/none"); !strings.Contains(r.stdout, "0 decisions") {
		t.Errorf("audit filter:\n%s", r.stdout)
	}
	if r := w.run(t, "audit", "--run", "99"); r.code != 1 || !strings.Contains(r.err.Error(), "run 99") {
		t.Errorf("audit of a missing run: exit %d %v", r.code, r.err)
	}

	// Deleting is explicit.
	r = w.run(t, "run", "--dry-run=false")
	if r.code != 0 || !strings.Contains(r.stdout, "DELETING") {
		t.Fatalf("real run: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	if d := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]; d != len(planned) {
		t.Errorf("%d DELETEs, plan said %d", d, len(planned))
	}
	if strings.Contains(r.stdout+r.stderr, testbed.Token) {
		t.Error("token printed")
	}
}

// TestDemoWithDatabaseURL: with DATABASE_URL set, the demo creates a
// database of its own on that server and writes nothing into the one
// DATABASE_URL names, which may be a real, append-only audit log.
func TestDemoWithDatabaseURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	name := fmt.Sprintf("retentiond_test_demo_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, pgtest.AdminURL())
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	r := runWith(t, map[string]string{"DATABASE_URL": url, "LOG_FORMAT": "json"}, nil, "demo", "--database", name)
	if r.code != 0 {
		t.Fatalf("demo: exit %d %v\n%s\n%s", r.code, r.err, r.stdout, r.stderr)
	}
	for _, want := range []string{"simulated GitHub", "dry-run", "would delete", "Largest would-delete items", "SELECT * FROM run_summary", "audit --run 1", "/" + name,
		"Second tick", "5 requests, 0 of them counted against the rate limit", "5 repositories not modified (304)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	count := func(dbURL string) int {
		t.Helper()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM runs").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(url); n != 0 {
		t.Errorf("the demo wrote %d runs into DATABASE_URL's own database", n)
	}
	demoURL, err := store.WithDatabase(url, name)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(demoURL); n != 2 {
		t.Errorf("the demo's database holds %d runs, want 2 (the run and its second tick)", n)
	}
	// DATABASE_URL naming the demo's own database is refused: the demo
	// would drop it.
	r = runWith(t, map[string]string{"DATABASE_URL": demoURL}, nil, "demo", "--database", name)
	if r.code != 2 || !strings.Contains(r.err.Error(), "DATABASE_URL: names the database "+name) {
		t.Errorf("DATABASE_URL naming the demo database: exit %d %v", r.code, r.err)
	}
}

// tickClock's Sleep says it is sleeping, then waits for the test to send a
// tick, so a test decides when serve's schedule fires and knows a run ended
// when the next Sleep says so.
type tickClock struct {
	now      time.Time
	sleeping chan struct{}
	ticks    chan struct{}
}

func (c *tickClock) Now() time.Time { return c.now }

func (c *tickClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case c.sleeping <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-c.ticks:
		c.now = c.now.Add(d)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "SCHEDULE": "@every 1h", "RUN_ON_START": "never"}
	for k, v := range w.env {
		env[k] = v
	}
	clk := &tickClock{now: w.Clock.Now(), sleeping: make(chan struct{}), ticks: make(chan struct{})}
	addrc := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve"}, cli.Env{Stdout: io.Discard, Stderr: io.Discard,
			Lookup: envconfig.MapLookuper(env), Clock: clk, Listening: func(a net.Addr) { addrc <- a }})
	}()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, "database: ok") {
		t.Errorf("/readyz %d %q", code, body)
	}
	scrape := func() testbed.Scraped {
		t.Helper()
		code, body := get("/metrics")
		if code != 200 {
			t.Fatalf("/metrics %d %q", code, body)
		}
		return testbed.Parse(t, body)
	}
	// run lets the schedule fire once and returns when that run has ended
	// and the loop sleeps again.
	run := func() {
		clk.ticks <- struct{}{}
		<-clk.sleeping
	}

	<-clk.sleeping // serve waits for its first scheduled run
	before := scrape()
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := before[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if got := before.Value(t, "retentiond_runs_total", "status", string(runner.StatusSucceeded)); got != 0 {
		t.Errorf("runs_total{status=succeeded} = %g before any run", got)
	}
	if got := before.Value(t, "retentiond_deletions_total", "outcome", string(store.OutcomeDryRun)); got != 0 {
		t.Errorf("deletions_total{outcome=dry_run} = %g before any run", got)
	}
	if n := w.Sim.TotalRequests(); n == 0 {
		if got := before.Value(t, "retentiond_github_rate_limit_remaining", "budget", "token"); got != -1 {
			t.Errorf("rate_limit_remaining = %g before any request, want -1", got)
		}
	}

	var dryRuns, requests float64
	for i := 1; i <= 2; i++ {
		run()
		m := scrape()
		if got := m.Value(t, "retentiond_runs_total", "status", string(runner.StatusSucceeded)); got != float64(i) {
			t.Errorf("after run %d: runs_total{status=succeeded} = %g", i, got)
		}
		if got := m.Value(t, "retentiond_artifacts_seen"); got != 20 {
			t.Errorf("after run %d: artifacts_seen = %g, want 20", i, got)
		}
		d := m.Value(t, "retentiond_deletions_total", "outcome", string(store.OutcomeDryRun))
		if d <= dryRuns {
			t.Errorf("after run %d: deletions_total{outcome=dry_run} = %g, want more than %g", i, d, dryRuns)
		}
		dryRuns = d
		total := w.Sim.TotalRequests()
		req := m.Value(t, "retentiond_github_requests_total")
		if req != float64(total) || req <= requests {
			t.Errorf("after run %d: github_requests_total = %g, want the %d the simulator saw, more than %g", i, req, total, requests)
		}
		requests = req
		// Concurrent responses may be recorded out of order, so the
		// remaining budget is any one of the run's responses'.
		if got := m.Value(t, "retentiond_github_rate_limit_remaining", "budget", "token"); got < float64(5000-total) || got >= 5000 {
			t.Errorf("after run %d: rate_limit_remaining = %g, want between %d and 4999", i, got, 5000-total)
		}
	}
	for name, want := range map[string]dto.MetricType{
		"retentiond_runs_total":                  dto.MetricType_COUNTER,
		"retentiond_deletions_total":             dto.MetricType_COUNTER,
		"retentiond_github_requests_total":       dto.MetricType_COUNTER,
		"retentiond_github_rate_limit_remaining": dto.MetricType_GAUGE,
	} {
		if got := before.Type(t, name); got != want {
			t.Errorf("%s is a %s, want a %s", name, got, want)
		}
	}
	cancel() // SIGTERM
	if err := <-done; err != nil {
		t.Errorf("serve returned %v on shutdown", err)
	}
}
