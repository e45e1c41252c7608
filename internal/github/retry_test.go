package github

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
)

// malformed answers 200 with a body that is not JSON.
func malformed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"total_count": 3, "artifacts": [{"id": `))
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := okList(ghArtifact(1))
	tests := []struct {
		name       string
		steps      []http.HandlerFunc
		maxWait    time.Duration
		wantSleeps []time.Duration
		wantErr    error  // sentinel, nil for success
		wantText   string // in the error
		wantLog    string // in the logs
	}{
		{
			name:       "primary limit resets within max wait",
			steps:      []http.HandlerFunc{primaryLimited(http.StatusForbidden, t0.Add(10*time.Minute)), ok},
			wantSleeps: []time.Duration{10*time.Minute + time.Second},
			wantLog:    `reason="primary rate limit"`,
		},
		{
			name:       "primary limit as 429",
			steps:      []http.HandlerFunc{primaryLimited(http.StatusTooManyRequests, t0.Add(90*time.Second)), ok},
			wantSleeps: []time.Duration{91 * time.Second},
		},
		{
			name:       "primary limit whose reset already passed",
			steps:      []http.HandlerFunc{primaryLimited(http.StatusForbidden, t0.Add(-time.Minute)), ok},
			wantSleeps: []time.Duration{time.Second},
		},
		{
			name:       "primary limit beyond max wait fails fast",
			steps:      []http.HandlerFunc{primaryLimited(http.StatusForbidden, t0.Add(2*time.Hour)), ok},
			wantErr:    ErrRateLimited,
			wantText:   "primary rate limit exhausted until 2026-03-01T14:00:00Z (in 2h0m0s), longer than the max wait of 15m0s",
			wantSleeps: nil,
		},
		{
			name:       "primary limit just inside a short max wait",
			maxWait:    time.Minute,
			steps:      []http.HandlerFunc{primaryLimited(http.StatusForbidden, t0.Add(time.Minute)), ok},
			wantSleeps: []time.Duration{61 * time.Second},
		},
		{
			name:       "primary limit that does not lift after three resets",
			steps:      []http.HandlerFunc{primaryLimited(http.StatusForbidden, t0.Add(time.Minute))},
			wantErr:    ErrRateLimited,
			wantText:   "still exhausted after 3 resets",
			wantSleeps: []time.Duration{61 * time.Second, time.Second, time.Second},
		},
		{
			name:       "secondary limit with Retry-After",
			steps:      []http.HandlerFunc{secondaryLimited("30"), ok},
			wantSleeps: []time.Duration{30 * time.Second},
			wantLog:    `reason="secondary rate limit, retry-after"`,
		},
		{
			name:       "secondary limit without Retry-After backs off from a minute",
			steps:      []http.HandlerFunc{secondaryLimited(""), secondaryLimited(""), secondaryLimited(""), ok},
			wantSleeps: []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute},
		},
		{
			name:       "secondary limit as a plain 429",
			steps:      []http.HandlerFunc{fail(http.StatusTooManyRequests, "Too Many Requests", ""), ok},
			wantSleeps: []time.Duration{time.Minute},
		},
		{
			name:       "secondary limit retries exhausted",
			steps:      []http.HandlerFunc{secondaryLimited("")},
			wantErr:    ErrRateLimited,
			wantText:   "secondary rate limit persisted through 4 tries",
			wantSleeps: []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute},
		},
		{
			name:       "secondary Retry-After beyond max wait fails fast",
			steps:      []http.HandlerFunc{secondaryLimited("3600"), ok},
			wantErr:    ErrRateLimited,
			wantText:   "asks to wait 1h0m0s, longer than the max wait of 15m0s (until 2026-03-01T13:00:00Z)",
			wantSleeps: nil,
		},
		{
			name:       "server error then success",
			steps:      []http.HandlerFunc{fail(http.StatusBadGateway, "Server Error", ""), ok},
			wantSleeps: []time.Duration{time.Second},
			wantLog:    `reason="server error"`,
		},
		{
			name: "server errors exhausted",
			steps: []http.HandlerFunc{
				fail(http.StatusInternalServerError, "", ""), fail(http.StatusBadGateway, "", ""),
				fail(http.StatusServiceUnavailable, "", ""), fail(http.StatusServiceUnavailable, "Unicorn", ""),
			},
			wantText:   "listing artifacts of o/r page 1: GET /repos/o/r/actions/artifacts: 503 Service Unavailable: Unicorn (giving up after 4 tries)",
			wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		},
		{
			name: "202 Accepted then success",
			steps: []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusAccepted, map[string]string{})
			}, ok},
			wantSleeps: []time.Duration{time.Second},
			wantLog:    `reason="accepted, not ready"`,
		},
		{
			name:       "malformed body then success",
			steps:      []http.HandlerFunc{malformed, ok},
			wantSleeps: []time.Duration{time.Second},
			wantLog:    `reason="malformed response"`,
		},
		{
			name:       "malformed bodies exhausted",
			steps:      []http.HandlerFunc{malformed},
			wantText:   "GET /repos/o/r/actions/artifacts: giving up after 4 tries: JSON body cut short or garbled",
			wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		},
		{
			name:       "connection aborted then success",
			steps:      []http.HandlerFunc{abort, abort, ok},
			wantSleeps: []time.Duration{time.Second, 2 * time.Second},
			wantLog:    `reason="network error"`,
		},
		{
			name:  "mixed failures each use their own budget",
			steps: []http.HandlerFunc{fail(http.StatusBadGateway, "", ""), secondaryLimited(""), primaryLimited(http.StatusForbidden, t0.Add(5*time.Minute)), abort, ok},
			// The primary wait runs from t0+61s (after the first two waits) to the reset at t0+5m, plus the margin.
			wantSleeps: []time.Duration{time.Second, time.Minute, 4 * time.Minute, 2 * time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newScript(tc.steps...)
			h := newHarness(t, s, func(c *Config) { c.MaxWait = tc.maxWait })
			// A fresh connection per request, so net/http never retries an
			// aborted one behind the client's back.
			h.srv.Client().Transport.(*http.Transport).DisableKeepAlives = true
			var got collect
			stats, err := h.c.ListArtifacts(t.Context(), "o/r", got.fn)
			switch {
			case tc.wantErr == nil && tc.wantText == "":
				if err != nil {
					t.Fatalf("ListArtifacts: %v", err)
				}
				if diff := cmp.Diff([]int64{1}, got.ids); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			default:
				if err == nil {
					t.Fatal("ListArtifacts succeeded, want an error")
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("errors.Is(%v, %v) = false", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantText) {
					t.Errorf("error = %q\nwant it to contain %q", err, tc.wantText)
				}
			}
			if diff := cmp.Diff(tc.wantSleeps, h.clock.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if want := len(tc.wantSleeps) + 1; stats.Requests != want || s.count() != want || h.c.Requests() != int64(want) {
				t.Errorf("stats.Requests=%d, server saw %d, Requests()=%d; want %d", stats.Requests, s.count(), h.c.Requests(), want)
			}
			if tc.wantLog != "" && !strings.Contains(h.logs.String(), tc.wantLog) {
				t.Errorf("logs lack %s:\n%s", tc.wantLog, h.logs)
			}
			if n := strings.Count(h.logs.String(), "waiting before retrying"); n != len(tc.wantSleeps) {
				t.Errorf("logged %d waits, want %d:\n%s", n, len(tc.wantSleeps), h.logs)
			}
		})
	}
}

// TestWaitLogAttributes checks what a wait's log record says.
func TestWaitLogAttributes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, newScript(secondaryLimited("7"), okList()))
	if _, err := h.c.ListArtifacts(t.Context(), "o/r", func([]artifact.Artifact) error { return nil }); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	for _, want := range []string{"level=WARN", "component=github", "repository=o/r", "wait=7s", "method=GET", "path=/repos/o/r/actions/artifacts", `reason="secondary rate limit, retry-after"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// TestRetriesOtherCalls: Get and Delete share the retry loop.
func TestRetriesOtherCalls(t *testing.T) {
	t.Parallel()
	t.Run("get", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, newScript(fail(http.StatusInternalServerError, "", ""), func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, ghArtifact(9))
		}))
		a, err := h.c.GetArtifact(t.Context(), "o/r", 9)
		if err != nil || a.ID != 9 {
			t.Fatalf("GetArtifact = %+v, %v", a, err)
		}
		if diff := cmp.Diff([]time.Duration{time.Second}, h.clock.Sleeps()); diff != "" {
			t.Errorf("sleeps (-want +got):\n%s", diff)
		}
	})
	t.Run("delete", func(t *testing.T) {
		t.Parallel()
		s := newScript(secondaryLimited("2"), func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
		h := newHarness(t, s)
		if err := h.c.DeleteArtifact(t.Context(), "o/r", 9); err != nil {
			t.Fatal(err)
		}
		for _, r := range s.requests() {
			if r.Method != http.MethodDelete || r.URL.Path != "/repos/o/r/actions/artifacts/9" {
				t.Errorf("request %s %s", r.Method, r.URL.Path)
			}
		}
		if diff := cmp.Diff([]time.Duration{2 * time.Second}, h.clock.Sleeps()); diff != "" {
			t.Errorf("sleeps (-want +got):\n%s", diff)
		}
	})
	t.Run("delete of a deleted artifact", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, newScript(fail(http.StatusNotFound, "Not Found", "")))
		err := h.c.DeleteArtifact(t.Context(), "o/r", 9)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
		if want := "deleting artifact 9 of o/r: DELETE /repos/o/r/actions/artifacts/9: 404 Not Found"; err == nil || err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
}

// sleepSignal is the real clock, announcing each Sleep as it starts.
type sleepSignal struct {
	clock.Real
	sleeping chan time.Duration
}

func (c sleepSignal) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeping <- d
	return c.Real.Sleep(ctx, d)
}

// TestCancelDuringWait: a cancelled context ends a rate-limit wait at once,
// on the real clock, without another request.
func TestCancelDuringWait(t *testing.T) {
	t.Parallel()
	s := newScript(func(w http.ResponseWriter, r *http.Request) {
		primaryLimited(http.StatusForbidden, time.Now().Add(10*time.Minute))(w, r)
	})
	clk := sleepSignal{sleeping: make(chan time.Duration, 1)}
	h := newHarness(t, s, func(c *Config) { c.Clock = clk })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := h.c.ListArtifacts(ctx, "o/r", func([]artifact.Artifact) error { return nil })
		done <- err
	}()
	if d := <-clk.sleeping; d < 9*time.Minute {
		t.Errorf("waiting %s, want about 10m", d)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if !strings.Contains(err.Error(), "primary rate limit") {
			t.Errorf("err = %q, want it to say what it was waiting for", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ListArtifacts still waiting 20s after cancellation")
	}
	if s.count() != 1 {
		t.Errorf("server saw %d requests, want 1", s.count())
	}
}

// TestCancelledBeforeStart: a done context sends nothing.
func TestCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	s := newScript(okList())
	h := newHarness(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.c.GetArtifact(ctx, "o/r", 1); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if s.count() != 0 {
		t.Errorf("server saw %d requests", s.count())
	}
}

func TestRateLimitState(t *testing.T) {
	t.Parallel()
	s := newScript(
		func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, ghArtifact(1)) }, // no headers
		func(w http.ResponseWriter, r *http.Request) {
			rate(w, 5000, 4321, t0.Add(42*time.Minute))
			writeJSON(w, http.StatusOK, ghArtifact(1))
		},
		fail(http.StatusNotFound, "Not Found", ""), // 404s carry the headers too
	)
	h := newHarness(t, s)
	if got := h.c.RateLimit(); got.Known {
		t.Errorf("RateLimit() before any request = %+v, want unknown", got)
	}
	steps := []RateState{
		{},
		{Limit: 5000, Remaining: 4321, Reset: t0.Add(42 * time.Minute), Known: true},
		{Limit: 5000, Remaining: 4000, Reset: t0.Add(time.Hour), Known: true},
	}
	for i, want := range steps {
		_, _ = h.c.GetArtifact(t.Context(), "o/r", 1)
		if diff := cmp.Diff(want, h.c.RateLimit()); diff != "" {
			t.Errorf("after request %d (-want +got):\n%s", i+1, diff)
		}
	}
	if got := h.c.Requests(); got != 3 {
		t.Errorf("Requests() = %d, want 3", got)
	}
}

// TestRetriesBodyCutShort: the retrier reads each body whole, so a
// connection dropped in the middle of a page is retried like any other.
func TestRetriesBodyCutShort(t *testing.T) {
	t.Parallel()
	s := newScript(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte(`{"total_count": 1, "artifacts": [`))
	}, okList(ghArtifact(1)))
	h := newHarness(t, s)
	h.srv.Client().Transport.(*http.Transport).DisableKeepAlives = true
	var got collect
	stats, err := h.c.ListArtifacts(t.Context(), "o/r", got.fn)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Requests != 2 || len(got.ids) != 1 {
		t.Errorf("stats %+v, ids %v; want the page after one retry", stats, got.ids)
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, h.clock.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
	if !strings.Contains(h.logs.String(), `reason="network error"`) {
		t.Errorf("logs lack the network error:\n%s", h.logs)
	}
}

// TestAttemptTimeout: HTTPClient.Timeout bounds each attempt, not the call,
// so an attempt that hangs is cut off and retried.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	s := newScript(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hangs until the client gives up on it
	}, okList(ghArtifact(1)))
	h := newHarness(t, s, func(c *Config) {
		c.HTTPClient = &http.Client{Transport: c.HTTPClient.Transport, Timeout: 100 * time.Millisecond}
	})
	if _, err := h.c.ListArtifacts(t.Context(), "o/r", func([]artifact.Artifact) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if s.count() != 2 {
		t.Errorf("server saw %d requests, want 2", s.count())
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, h.clock.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

// TestRateStatePerClient: two clients, two tokens, two budgets.
func TestRateStatePerClient(t *testing.T) {
	t.Parallel()
	answer := func(remaining int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			rate(w, 5000, remaining, t0.Add(time.Hour))
			writeJSON(w, http.StatusOK, ghArtifact(1))
		}
	}
	a, b := newHarness(t, newScript(answer(4000))), newHarness(t, newScript(answer(12)))
	for _, h := range []*harness{a, b, a} {
		if _, err := h.c.GetArtifact(t.Context(), "o/r", 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := [2]int{a.c.RateLimit().Remaining, b.c.RateLimit().Remaining}; got != [2]int{4000, 12} {
		t.Errorf("remaining = %v, want [4000 12]", got)
	}
	if got := [2]int64{a.c.Requests(), b.c.Requests()}; got != [2]int64{2, 1} {
		t.Errorf("requests = %v, want [2 1]", got)
	}
}
