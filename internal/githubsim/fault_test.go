package githubsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFaultNthAndTimes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		nth, times int
		want       []int
	}{
		{"first only", 1, 1, []int{502, 200, 200, 200, 200}},
		{"second and third", 2, 2, []int{200, 502, 502, 200, 200}},
		{"zero nth means first, zero times means forever", 0, 0, []int{502, 502, 502, 502, 502}},
		{"from the third on", 3, 0, []int{200, 200, 502, 502, 502}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newSim(t, Options{})
			seed(s, "octo/app", 1)
			f := StatusFault(RouteList, http.StatusBadGateway)
			f.Nth, f.Times = tt.nth, tt.times
			s.InjectFault(f)
			var got []int
			for range tt.want {
				got = append(got, serve(t, s, "GET", "/repos/octo/app/actions/artifacts").status)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFaultMatching(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	app := seed(s, "octo/app", 2)
	other := seed(s, "octo/other", 1)
	f := StatusFault(RouteDelete, http.StatusInternalServerError)
	f.Method, f.Repository, f.Times = "delete", "Octo/App", 0
	s.InjectFault(f)
	rid, _ := s.RepositoryID("octo/app")
	tests := []struct {
		name, method, target string
		want                 int
	}{
		{"get of the repository", "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", app[0]), 200},
		{"delete in another repository", "DELETE", fmt.Sprintf("/repos/octo/other/actions/artifacts/%d", other[0]), 204},
		{"delete in the repository", "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", app[0]), 500},
		{"delete by repository id", "DELETE", fmt.Sprintf("/repositories/%d/actions/artifacts/%d", rid, app[1]), 500},
	}
	for _, tt := range tests {
		if r := serve(t, s, tt.method, tt.target); r.status != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, r.status, tt.want)
		}
	}
	if !s.Exists("octo/app", app[0]) {
		t.Error("a faulted DELETE removed the artifact")
	}
	s.ClearFaults()
	if r := serve(t, s, "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", app[0])); r.status != 204 {
		t.Errorf("after ClearFaults: status %d, want 204", r.status)
	}
}

func TestStatusFaultResponse(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	seed(s, "octo/app", 1)
	before := serve(t, s, "GET", "/repos/octo/app/actions/artifacts").header.Get("X-RateLimit-Remaining")

	s.InjectFault(StatusFault(RouteList, http.StatusBadGateway))
	r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts")
	want := errorBody{Message: "Bad Gateway", DocumentationURL: docRoot}
	if diff := cmp.Diff(want, decodeError(t, r)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if got := r.header.Get("X-RateLimit-Remaining"); got != before {
		t.Errorf("remaining after a fault = %s, want %s (faults are free)", got, before)
	}

	f := Fault{Route: RouteList, Times: 1, Status: 503, Body: "<html>unicorn</html>", NoRateHeaders: true,
		Header: http.Header{"content-type": {"text/html"}}}
	s.InjectFault(f)
	r = serve(t, s, "GET", "/repos/octo/app/actions/artifacts")
	if r.status != 503 || string(r.body) != f.Body || r.header.Get("Content-Type") != "text/html" {
		t.Errorf("custom fault: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r.header.Get("X-RateLimit-Limit") != "" {
		t.Error("NoRateHeaders fault carries rate-limit headers")
	}
}

func TestSecondaryLimitFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter time.Duration
		status     int
		want       string
	}{
		{"with Retry-After", 30 * time.Second, 0, "30"},
		{"rounded up to seconds", 1500 * time.Millisecond, 0, "2"},
		{"without Retry-After", 0, 0, ""},
		{"as 429", 0, http.StatusTooManyRequests, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newSim(t, Options{})
			seed(s, "octo/app", 1)
			f := SecondaryLimitFault(RouteList, tt.retryAfter)
			if tt.status != 0 {
				f.Status = tt.status
			}
			s.InjectFault(f)
			r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts")
			if tt.status == 0 {
				assertSecondary(t, r, tt.want)
				return
			}
			if r.status != tt.status || r.header.Get("Retry-After") != "" {
				t.Errorf("status %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
			}
		})
	}
}

func TestMalformedFault(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	seed(s, "octo/app", 1)
	s.InjectFault(MalformedFault(RouteList))
	r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != jsonContentType {
		t.Fatalf("status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err == nil {
		t.Errorf("malformed body %s decoded", r.body)
	}
	if r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts"); r.status != 200 || !json.Valid(r.body) {
		t.Errorf("next request: status %d, valid JSON %v", r.status, json.Valid(r.body))
	}
}

func TestAbortFault(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	seed(s, "octo/app", 1)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	s.InjectFault(AbortFault(RouteList))
	resp, err := ts.Client().Get(ts.URL + "/repos/octo/app/actions/artifacts")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("aborted request succeeded with %d", resp.StatusCode)
	}
	resp, err = ts.Client().Get(ts.URL + "/repos/octo/app/actions/artifacts")
	if err != nil {
		t.Fatalf("request after the abort: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("request after the abort: status %d", resp.StatusCode)
	}
}

func TestDelayFault(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	seed(s, "octo/app", 1)
	short := DelayFault(RouteGet, time.Millisecond)
	s.InjectFault(short)
	id := s.Artifacts("octo/app")[0].ID
	if r := serve(t, s, "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", id)); r.status != 200 {
		t.Errorf("after a short delay: status %d, want the normal 200", r.status)
	}

	s.InjectFault(DelayFault(RouteList, time.Hour))
	entered := make(chan struct{})
	s.OnRequest(func(route string, _ *http.Request) {
		if route == RouteList {
			close(entered)
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/repos/octo/app/actions/artifacts", nil))
	}()
	<-entered
	cancel()
	// A guard, not synchronisation: the handler must return once cancelled,
	// long before the hour is up.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("delayed handler ignored the cancelled context")
	}
	if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
		t.Errorf("cancelled request wrote %d bytes and headers %v", rec.Body.Len(), rec.Header())
	}
}

func TestBlobFault(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	id := seed(s, "octo/app", 1)[0]
	f := StatusFault(RouteBlob, http.StatusServiceUnavailable)
	f.Repository = "octo/app"
	s.InjectFault(f)
	loc := downloadLink(t, s, id)
	if r := serve(t, s, "GET", loc); r.status != http.StatusServiceUnavailable {
		t.Errorf("blob fault: status %d", r.status)
	}
	if r := serve(t, s, "GET", loc); r.status != http.StatusOK {
		t.Errorf("after the blob fault: status %d", r.status)
	}
}

func TestRequestCounts(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{Token: "t"})
	ids := seed(s, "octo/app", 2)
	var routes []string
	s.OnRequest(func(route string, _ *http.Request) { routes = append(routes, route) })
	auth := []string{"Authorization", "token t"}
	serve(t, s, "GET", "/repos/octo/app/actions/artifacts", auth...)
	serve(t, s, "GET", "/repos/octo/app/actions/artifacts") // 401, still counted
	serve(t, s, "GET", "/repos/octo/app/actions/runs/1/artifacts", auth...)
	serve(t, s, "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[0]), auth...)
	serve(t, s, "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[0]), auth...)
	serve(t, s, "GET", downloadLink(t, s, ids[1], auth...))
	serve(t, s, "PUT", "/nowhere", auth...)
	want := map[string]int{
		"GET list": 2, "GET list_run": 1, "GET get": 1, "DELETE delete": 1,
		"GET download": 1, "GET blob": 1, "PUT unknown": 1,
	}
	if diff := cmp.Diff(want, s.Requests()); diff != "" {
		t.Errorf("Requests (-want +got):\n%s", diff)
	}
	if got := s.TotalRequests(); got != 8 {
		t.Errorf("TotalRequests = %d, want 8", got)
	}
	wantRoutes := []string{"list", "list", "list_run", "get", "delete", "download", "blob", "unknown"}
	if diff := cmp.Diff(wantRoutes, routes); diff != "" {
		t.Errorf("hook routes (-want +got):\n%s", diff)
	}
	s.ResetCounts()
	if len(s.Requests()) != 0 || s.TotalRequests() != 0 {
		t.Errorf("after ResetCounts: %v, %d", s.Requests(), s.TotalRequests())
	}
}
