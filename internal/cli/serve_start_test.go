package cli_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/cli"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/testbed"
)

// startServe starts serve at now on a tickClock, waits until its loop
// sleeps towards the first tick (so a run at start is over), and returns
// its base URL; the test's end stops it.
func startServe(t *testing.T, env map[string]string, now time.Time) string {
	t.Helper()
	clk := &tickClock{now: now, sleeping: make(chan struct{}), ticks: make(chan struct{})}
	addrc := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &testbed.SyncBuffer{}
	go func() {
		done <- cli.Run(ctx, []string{"serve"}, cli.Env{Stdout: io.Discard, Stderr: logs,
			Lookup: envconfig.MapLookuper(env), Clock: clk, Listening: func(a net.Addr) { addrc <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v on shutdown", err)
		}
	})
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, logs)
	}
	select {
	case <-clk.sleeping:
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, logs)
	}
	return base
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (w *world) runs(t *testing.T) int {
	t.Helper()
	var n int
	if err := w.Store.Pool().QueryRow(context.Background(), "SELECT count(*) FROM runs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// RUN_ON_START: missed runs at start when no run started since the last
// tick of SCHEDULE before now (or none ever ran), always runs, never
// waits. The clock is injected, so "two hours later" takes no time.
func TestServeRunOnStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mode    string // "" for the default
		prior   bool   // a run at the world's epoch
		after   time.Duration
		wantRun bool
	}{
		{"default, never ran", "", false, 0, true},
		{"missed, ran within the period", "missed", true, 30 * time.Minute, false},
		{"missed, a tick passed since", "missed", true, 2 * time.Hour, true},
		{"always, ran within the period", "always", true, 30 * time.Minute, true},
		{"never, never ran", "never", false, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			env := with(w.env, "HTTP_ADDR", "127.0.0.1:0", "SCHEDULE", "@every 1h", "RUN_ON_START", tc.mode)
			if tc.prior {
				if r := runWith(t, w.env, clock.NewFake(w.Clock.Now()), "run"); r.code != 0 {
					t.Fatalf("prior run: exit %d %v", r.code, r.err)
				}
			}
			before := w.runs(t)
			startServe(t, env, w.Clock.Now().Add(tc.after))
			ran := w.runs(t) > before
			if ran != tc.wantRun {
				t.Errorf("ran at start: %v, want %v", ran, tc.wantRun)
			}
		})
	}
}

// What serve adds for operators: /readyz asks GitHub too, /metrics carries
// the build's identity and the last successful run, read from the database
// at start so that a restart keeps it.
func TestServeReadinessAndBuildMetrics(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	prior := clock.NewFake(w.Clock.Now())
	if r := runWith(t, w.env, prior, "run"); r.code != 0 {
		t.Fatalf("prior run: exit %d %v", r.code, r.err)
	}
	finished := prior.Now()
	base := startServe(t, with(w.env, "HTTP_ADDR", "127.0.0.1:0", "SCHEDULE", "@every 1h", "RUN_ON_START", "never"), w.Clock.Now().Add(10*time.Minute))
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "github: ok") {
		t.Errorf("/readyz %d %q, want 200 with github: ok", code, body)
	}
	_, text := get(t, base+"/metrics")
	m := testbed.Parse(t, text)
	if got := m.Value(t, "retentiond_last_successful_run_timestamp_seconds"); got != float64(finished.Unix()) {
		t.Errorf("last_successful_run = %g, want the prior run's end %d", got, finished.Unix())
	}
	for _, label := range []string{"version", "revision", "goversion"} {
		if v := m.LabelValues(t, "retentiond_build_info", label); len(v) != 1 || v[0] == "" {
			t.Errorf("retentiond_build_info{%s} = %v, want one non-empty value", label, v)
		}
	}
	if series := m["retentiond_build_info"].GetMetric(); len(series) != 1 || series[0].GetGauge().GetValue() != 1 {
		t.Errorf("retentiond_build_info = %v, want one series at 1", series)
	}
}

// A rejected token makes serve unready, with the reason.
func TestServeUnreadyWithABadToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	base := startServe(t, with(w.env, "HTTP_ADDR", "127.0.0.1:0", "SCHEDULE", "@every 1h", "RUN_ON_START", "never", "GITHUB_TOKEN", "ghp_revoked"), w.Clock.Now())
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "github: ") || !strings.Contains(body, "401") {
		t.Errorf("/readyz %d %q, want 503 naming github's 401", code, body)
	}
}
