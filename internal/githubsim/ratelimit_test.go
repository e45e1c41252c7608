package githubsim

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rateHeaders extracts the x-ratelimit-* headers of a response.
func rateHeaders(r result) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
		out[k] = r.header.Get(k)
	}
	return out
}

func wantRate(limit, remaining int, reset time.Time) map[string]string {
	return map[string]string{
		"X-RateLimit-Limit":     strconv.Itoa(limit),
		"X-RateLimit-Remaining": strconv.Itoa(remaining),
		"X-RateLimit-Used":      strconv.Itoa(limit - remaining),
		"X-RateLimit-Reset":     strconv.FormatInt(reset.Unix(), 10),
		"X-RateLimit-Resource":  "core",
	}
}

func TestRateHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{Token: "s3cret", RateLimit: 100})
	ids := seed(s, "octo/app", 3)
	s.SetExpired("octo/app", ids[2], true)
	auth := []string{"Authorization", "Bearer s3cret"}
	reset := testNow.Add(time.Hour)
	// Requests run in order; each but the 401 and GET /rate_limit costs one request.
	steps := []struct {
		name, method, target string
		header               []string
		wantStatus           int
		wantRemaining        int
	}{
		{"list", "GET", "/repos/octo/app/actions/artifacts", auth, 200, 99},
		{"get", "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[0]), auth, 200, 98},
		{"not found", "GET", "/repos/octo/none/actions/artifacts", auth, 404, 97},
		{"unauthorized is free", "GET", "/repos/octo/app/actions/artifacts", nil, 401, 97},
		{"download", "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d/zip", ids[0]), auth, 302, 96},
		{"gone", "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d/zip", ids[2]), auth, 410, 95},
		{"delete", "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[1]), auth, 204, 94},
		{"rate_limit is free", "GET", "/rate_limit", auth, 200, 94},
		{"unknown route", "GET", "/repos/octo/app/actions/caches", auth, 404, 93},
	}
	for _, st := range steps {
		r := serve(t, s, st.method, st.target, st.header...)
		if r.status != st.wantStatus {
			t.Errorf("%s: status %d, want %d", st.name, r.status, st.wantStatus)
		}
		if diff := cmp.Diff(wantRate(100, st.wantRemaining, reset), rateHeaders(r)); diff != "" {
			t.Errorf("%s: rate headers (-want +got):\n%s", st.name, diff)
		}
	}
}

func TestPrimaryRateLimit(t *testing.T) {
	t.Parallel()
	for _, status := range []int{0, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			s, clk := newSim(t, Options{RateLimit: 3, RateLimitStatus: status})
			seed(s, "octo/app", 1)
			for range 3 {
				if r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts"); r.status != 200 {
					t.Fatalf("status %d within budget", r.status)
				}
			}
			r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts")
			want := http.StatusForbidden
			if status != 0 {
				want = status
			}
			if r.status != want {
				t.Fatalf("exhausted: status %d, want %d", r.status, want)
			}
			if diff := cmp.Diff(wantRate(3, 0, testNow.Add(time.Hour)), rateHeaders(r)); diff != "" {
				t.Errorf("exhausted rate headers (-want +got):\n%s", diff)
			}
			e := decodeError(t, r)
			if !strings.HasPrefix(e.Message, "API rate limit exceeded for ") || !strings.HasSuffix(e.DocumentationURL, "#primary-rate-limit") {
				t.Errorf("exhausted body = %+v", e)
			}
			// Unknown resources are refused too: the limit comes first.
			if r := serve(t, s, "GET", "/repos/octo/none/actions/artifacts"); r.status != want {
				t.Errorf("exhausted 404: status %d, want %d", r.status, want)
			}
			clk.Advance(time.Hour)
			r = serve(t, s, "GET", "/repos/octo/app/actions/artifacts")
			if r.status != 200 {
				t.Fatalf("after reset: status %d", r.status)
			}
			if diff := cmp.Diff(wantRate(3, 2, testNow.Add(2*time.Hour)), rateHeaders(r)); diff != "" {
				t.Errorf("after reset rate headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetRateLimit(t *testing.T) {
	t.Parallel()
	s, clk := newSim(t, Options{})
	seed(s, "octo/app", 1)
	reset := testNow.Add(10 * time.Minute)
	s.SetRateLimit(1, reset)
	if limit, remaining, gotReset := s.RateLimit(); limit != 5000 || remaining != 1 || !gotReset.Equal(reset) {
		t.Errorf("RateLimit() = %d, %d, %v", limit, remaining, gotReset)
	}
	if r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts"); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("last request: status %d, remaining %s", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
	if r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts"); r.status != 403 {
		t.Errorf("over budget: status %d, want 403", r.status)
	}
	clk.Advance(10 * time.Minute)
	if r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts"); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "4999" {
		t.Errorf("after reset: status %d, remaining %s", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
}

func TestAuthorization(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{Token: "s3cret"})
	seed(s, "octo/app", 1)
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"bearer", "Bearer s3cret", 200},
		{"token scheme", "token s3cret", 200},
		{"scheme case-insensitive", "bearer s3cret", 200},
		{"missing", "", 401},
		{"wrong token", "Bearer other", 401},
		{"basic", "Basic czNjcmV0", 401},
		{"no scheme", "s3cret", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h []string
			if tt.header != "" {
				h = []string{"Authorization", tt.header}
			}
			r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts", h...)
			if r.status != tt.want {
				t.Fatalf("status = %d, want %d", r.status, tt.want)
			}
			if tt.want == 401 {
				want := errorBody{Message: "Bad credentials", DocumentationURL: "https://docs.github.com/rest"}
				if diff := cmp.Diff(want, decodeError(t, r)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSecondaryPointsPerMinute(t *testing.T) {
	t.Parallel()
	s, clk := newSim(t, Options{SecondaryLimits: true})
	ids := seed(s, "octo/app", 181)
	for i := range 900 {
		if r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts?per_page=1"); r.status != 200 {
			t.Fatalf("GET %d: status %d", i+1, r.status)
		}
	}
	r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts?per_page=1")
	assertSecondary(t, r, "60")
	// Other endpoints have their own points.
	if r := serve(t, s, "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[0])); r.status != 200 {
		t.Errorf("get on a fresh endpoint: status %d", r.status)
	}
	clk.Advance(45 * time.Second)
	assertSecondary(t, serve(t, s, "GET", "/repos/octo/app/actions/artifacts"), "15")
	clk.Advance(15 * time.Second)
	if r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts"); r.status != 200 {
		t.Errorf("next minute: status %d", r.status)
	}

	// DELETE costs 5 points: 180 a minute.
	for i := range 180 {
		if r := serve(t, s, "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[i])); r.status != 204 {
			t.Fatalf("DELETE %d: status %d", i+1, r.status)
		}
	}
	assertSecondary(t, serve(t, s, "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[180])), "60")
	if !s.Exists("octo/app", ids[180]) {
		t.Error("refused DELETE removed the artifact")
	}
}

func assertSecondary(t *testing.T, r result, retryAfter string) {
	t.Helper()
	if r.status != http.StatusForbidden {
		t.Fatalf("status = %d, want 403; body %s", r.status, r.body)
	}
	if got := r.header.Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After = %q, want %q", got, retryAfter)
	}
	e := decodeError(t, r)
	if !strings.Contains(e.Message, "secondary rate limit") || !strings.HasSuffix(e.DocumentationURL, "#about-secondary-rate-limits") {
		t.Errorf("body = %+v", e)
	}
	if r.header.Get("X-RateLimit-Remaining") == "0" {
		t.Error("secondary limit reports remaining 0, which clients read as the primary limit")
	}
}

func TestSecondaryConcurrency(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{SecondaryLimits: true, MaxConcurrent: 2})
	if d := New(Options{SecondaryLimits: true}); d.maxConc != 100 || d.maxPoints != 900 {
		t.Errorf("defaults: %d concurrent, %d points; want 100, 900", d.maxConc, d.maxPoints)
	}
	seed(s, "octo/slow", 1)
	seed(s, "octo/app", 1)
	f := DelayFault(RouteList, time.Hour)
	f.Repository = "octo/slow"
	s.InjectFault(f)
	entered := make(chan struct{}, 2)
	s.OnRequest(func(route string, r *http.Request) {
		if strings.Contains(r.URL.Path, "/slow/") {
			entered <- struct{}{}
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			req := httptest.NewRequestWithContext(ctx, "GET", "/repos/octo/slow/actions/artifacts", nil)
			s.ServeHTTP(httptest.NewRecorder(), req)
		})
	}
	<-entered
	<-entered
	r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts")
	assertSecondary(t, r, "")
	cancel()
	wg.Wait()
	if r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts"); r.status != 200 {
		t.Errorf("after the slow requests ended: status %d", r.status)
	}
}

func TestConditionalRequests(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	ids := seed(s, "octo/app", 4)
	const target = "/repos/octo/app/actions/artifacts?per_page=2"
	first := serve(t, s, "GET", target)
	etag := first.header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || !strings.HasSuffix(etag, `"`) {
		t.Fatalf("ETag = %q, want a weak tag", etag)
	}
	if got := first.header.Get("Cache-Control"); got != "private, max-age=60, s-maxage=60" {
		t.Errorf("Cache-Control = %q", got)
	}
	remaining := first.header.Get("X-RateLimit-Remaining")

	for _, inm := range []string{etag, strings.TrimPrefix(etag, "W/"), `W/"nope", ` + etag, "*"} {
		r := serve(t, s, "GET", target, "If-None-Match", inm)
		if r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Errorf("If-None-Match %s: status %d, body %q; want 304, empty", inm, r.status, r.body)
		}
		if got := r.header.Get("X-RateLimit-Remaining"); got != remaining {
			t.Errorf("If-None-Match %s: remaining %s, want %s (304s are free)", inm, got, remaining)
		}
		if r.header.Get("ETag") != etag {
			t.Errorf("304 ETag = %q, want %q", r.header.Get("ETag"), etag)
		}
	}
	if r := serve(t, s, "GET", target, "If-None-Match", `W/"nope"`); r.status != 200 {
		t.Errorf("stale If-None-Match: status %d, want 200", r.status)
	}
	if other := serve(t, s, "GET", target+"&page=2").header.Get("ETag"); other == etag {
		t.Error("page 2 has the ETag of page 1")
	}

	// A 304 is served even with the budget spent, since it costs nothing.
	s.SetRateLimit(0, testNow.Add(time.Hour))
	if r := serve(t, s, "GET", target, "If-None-Match", etag); r.status != http.StatusNotModified {
		t.Errorf("exhausted conditional: status %d, want 304", r.status)
	}
	s.SetRateLimit(100, testNow.Add(time.Hour))

	// As on GitHub, an ETag digests the page: an artifact expiring on page 2
	// changes page 2's tag and leaves page 1's alone.
	page2 := serve(t, s, "GET", target+"&page=2").header.Get("ETag")
	s.SetExpired("octo/app", ids[3], true)
	if r := serve(t, s, "GET", target, "If-None-Match", etag); r.status != http.StatusNotModified {
		t.Errorf("page 1 after an expiry on page 2: status %d, want 304", r.status)
	}
	if r := serve(t, s, "GET", target+"&page=2", "If-None-Match", page2); r.status != 200 || r.header.Get("ETag") == page2 {
		t.Errorf("page 2 after an expiry on it: status %d, ETag %s; want 200 and a new tag", r.status, r.header.Get("ETag"))
	}
	s.SetExpired("octo/app", ids[0], true)
	changed := serve(t, s, "GET", target, "If-None-Match", etag)
	if changed.status != 200 || changed.header.Get("ETag") == etag {
		t.Errorf("after a change on page 1: status %d, ETag %s; want 200 and a new tag", changed.status, changed.header.Get("ETag"))
	}

	get := serve(t, s, "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[0]))
	if r := serve(t, s, "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[0]), "If-None-Match", get.header.Get("ETag")); r.status != http.StatusNotModified {
		t.Errorf("conditional get: status %d, want 304", r.status)
	}
}
