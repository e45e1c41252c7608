package deploy_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/cli"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
)

// expression is one PromQL expression and where it comes from.
type expression struct {
	where, expr string
}

// grafanaVars are the dashboard's interval variables, replaced by a
// duration before parsing, as Grafana does before it sends a query.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "7d")

// selector is a metric named by an expression and its label matchers.
type selector struct {
	name     string
	matchers []*labels.Matcher
}

func parseExpr(t *testing.T, e expression) []selector {
	t.Helper()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(e.expr)
	if err != nil {
		t.Errorf("%s: %q: %v", e.where, e.expr, err)
		return nil
	}
	var out []selector
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			if vs.Name == "" {
				t.Errorf("%s: a selector without a metric name: %s", e.where, vs)
			}
			out = append(out, selector{vs.Name, vs.LabelMatchers})
		}
		return nil
	})
	return out
}

// TestMetricsExist: every metric the dashboard and the alerts name, with
// the labels and label values they select on, is in the output of serve's
// real /metrics handler after a real run against the simulator and
// PostgreSQL. And retentiond's own series pass promlint.
func TestMetricsExist(t *testing.T) {
	t.Parallel()
	scraped, text := scrapeAfterRun(t)

	_, alerts := alertExpressions(t)
	_, panels := dashboardExpressions(t)
	for _, e := range append(alerts, panels...) {
		for _, s := range parseExpr(t, e) {
			checkSelector(t, e.where, s, scraped)
		}
	}

	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "retentiond_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	for name := range scraped {
		if !strings.HasPrefix(name, "retentiond_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") &&
			!strings.HasPrefix(name, "promhttp_") {
			t.Errorf("/metrics serves %s: retentiond's own series are named retentiond_*", name)
		}
	}
}

// targetLabels are the labels Prometheus adds when it scrapes, which
// /metrics does not serve.
var targetLabels = []string{"__name__", "instance", "job"}

func checkSelector(t *testing.T, where string, s selector, scraped testbed.Scraped) {
	t.Helper()
	mf, ok := scraped[s.name]
	if !ok {
		// A histogram's series are named after its family.
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base, cut := strings.CutSuffix(s.name, suffix)
			if f, found := scraped[base]; cut && found && (f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY) {
				mf, ok = f, true
			}
		}
	}
	soon := slices.Contains(soonMetrics, s.name)
	switch {
	case ok && soon:
		t.Errorf("%s: %s is served now: remove it from soonMetrics in deploy/helpers_test.go", where, s.name)
		return
	case !ok && soon:
		return
	case !ok:
		t.Errorf("%s: /metrics has no %s", where, s.name)
		return
	}
	values := map[string][]string{} // label -> values served
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			values[l.GetName()] = append(values[l.GetName()], l.GetValue())
		}
	}
	if mf.GetType() == dto.MetricType_HISTOGRAM {
		values["le"] = []string{"any"}
	}
	for _, m := range s.matchers {
		if slices.Contains(targetLabels, m.Name) {
			continue
		}
		served, ok := values[m.Name]
		if !ok {
			t.Errorf("%s: %s has no label %s", where, s.name, m.Name)
			continue
		}
		var want []string
		switch {
		case strings.Contains(m.Value, "$") || m.Name == "le":
			// A dashboard variable, or a bucket bound.
		case m.Type == labels.MatchEqual:
			want = []string{m.Value}
		case m.Type == labels.MatchRegexp && regexp.MustCompile(`^[a-z_|]+$`).MatchString(m.Value):
			want = strings.Split(m.Value, "|")
		}
		for _, v := range want {
			if !slices.Contains(served, v) {
				t.Errorf("%s: %s{%s=%q}: /metrics serves only %q", where, s.name, m.Name, v, served)
			}
		}
	}
}

// scrapeAfterRun starts serve on a simulated organisation and a fresh
// database, lets its schedule fire once, records a pending deletion as a
// process that died mid-DELETE would leave it, and scrapes /metrics.
func scrapeAfterRun(t *testing.T) (testbed.Scraped, string) {
	t.Helper()
	b := testbed.New(t, testbed.Options{})
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		b.Add(repo, 6, nil)
	}
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(policyFile, []byte(`version: 1
repositories: [octo/api, octo/web]
safety:
  min_age: 1h
rules:
  - rule: old-builds
    action: delete
    older_than: 3h
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DATABASE_URL": b.DBURL, "GITHUB_TOKEN": testbed.Token, "GITHUB_API_URL": b.Server.URL, "POLICY_FILE": policyFile,
		"HTTP_ADDR": "127.0.0.1:0", "SCHEDULE": "@every 1h", "LOG_LEVEL": "error", "DELETE_INTERVAL": "0s",
		"RUN_ON_START": "never", // the one run is the scheduled tick
	}
	clk := &tickClock{now: b.Clock.Now(), sleeping: make(chan struct{}), ticks: make(chan struct{})}
	addrc := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve"}, cli.Env{Stdout: io.Discard, Stderr: io.Discard,
			Lookup: envconfig.MapLookuper(env), Clock: clk, Listening: func(a net.Addr) { addrc <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-done:
		done <- err
		t.Fatalf("serve stopped: %v", err)
	}
	<-clk.sleeping // waiting for the first tick
	clk.ticks <- struct{}{}
	<-clk.sleeping // the run is over

	var runID int64
	if err := b.Store.Pool().QueryRow(ctx, `SELECT max(id) FROM runs WHERE status = 'succeeded'`).Scan(&runID); err != nil {
		t.Fatalf("the scheduled run: %v", err)
	}
	if _, err := b.Store.InsertPending(ctx, store.AuditEntry{RunID: runID, RecordedAt: clk.now, Repository: "octo/api",
		ArtifactID: 1, ArtifactName: "build", Action: store.ActionDelete, Rule: "old-builds", Reason: "older than 3h",
		Outcome: store.OutcomePending}); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	s := testbed.Parse(t, string(body))
	if got := s.Value(t, "retentiond_runs_total", "status", "succeeded"); got != 1 {
		t.Fatalf("runs_total{status=succeeded} = %g after one scheduled run", got)
	}
	if got := s.Value(t, "retentiond_pending_deletions"); got != 1 {
		t.Errorf("retentiond_pending_deletions = %g, want the 1 recorded", got)
	}
	if got := s.Value(t, "retentiond_oldest_pending_deletion_timestamp_seconds"); got != float64(clk.now.Unix()) {
		t.Errorf("retentiond_oldest_pending_deletion_timestamp_seconds = %g, want %d", got, clk.now.Unix())
	}
	return s, string(body)
}

// tickClock's Sleep says it is sleeping, then waits for the test to send a
// tick, so the test decides when serve's schedule fires and knows a run
// ended when the next Sleep says so.
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
