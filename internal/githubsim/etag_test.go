package githubsim

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
)

// TestETagFollowsTheListing checks that page 1's ETag changes with every
// change GitHub's page 1 would show — total_count is in its body, so any
// artifact created or deleted anywhere in the listing — and only then.
func TestETagFollowsTheListing(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	ids := seed(s, "octo/app", 250)
	const target = "/repos/octo/app/actions/artifacts?per_page=100"
	tag := func() string {
		t.Helper()
		r := serve(t, s, "GET", target)
		if r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		return r.header.Get("ETag")
	}
	prev := tag()
	if again := tag(); again != prev {
		t.Fatalf("an unchanged page has a new ETag: %s then %s", prev, again)
	}
	changes := []struct {
		name   string
		change func()
	}{
		{"artifact created", func() { s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "new"}) }},
		{"artifact on page 3 deleted elsewhere", func() { s.RemoveArtifact("octo/app", ids[240]) }},
		{"artifact on page 1 expired", func() { s.SetExpired("octo/app", ids[5], true) }},
		{"artifact on page 1 changed digest", func() { s.SetDigest("octo/app", ids[6], "sha256:00") }},
	}
	for _, c := range changes {
		c.change()
		now := tag()
		if now == prev {
			t.Errorf("%s: page 1's ETag did not change", c.name)
		}
		prev = now
	}
	// Another repository's change is not this listing's.
	seed(s, "octo/other", 3)
	if now := tag(); now != prev {
		t.Errorf("a change in another repository changed the ETag")
	}
}

func TestIfNoneMatchLists(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	seed(s, "octo/app", 3)
	const target = "/repos/octo/app/actions/artifacts"
	etag := serve(t, s, "GET", target).header.Get("ETag")
	strong := etag[2:]
	for _, tc := range []struct {
		inm  string
		want int
	}{
		{etag, 304},
		{strong, 304}, // weak comparison: the strong form matches the weak tag
		{`"other", ` + strong, 304},
		{` W/"other" ,` + etag + ` `, 304},
		{"*", 304},
		{strong[1 : len(strong)-1], 200}, // unquoted: not an entity tag
		{`W/"other"`, 200},
		{",", 200},
	} {
		if r := serve(t, s, "GET", target, "If-None-Match", tc.inm); r.status != tc.want {
			t.Errorf("If-None-Match %q: status %d, want %d", tc.inm, r.status, tc.want)
		}
	}
	// A conditional request for a repository that does not exist is a 404.
	if r := serve(t, s, "GET", "/repos/octo/none/actions/artifacts", "If-None-Match", "*"); r.status != 404 {
		t.Errorf("If-None-Match * on an unknown repository: status %d, want 404", r.status)
	}
}

func TestRateLimitEndpointIsFree(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{Token: "s3cret", RateLimit: 100})
	seed(s, "octo/app", 1)
	auth := []string{"Authorization", "Bearer s3cret"}
	serve(t, s, "GET", "/repos/octo/app/actions/artifacts", auth...)
	for range 3 {
		r := serve(t, s, "GET", "/rate_limit", auth...)
		if r.status != 200 {
			t.Fatalf("GET /rate_limit: status %d", r.status)
		}
		var body struct {
			Resources struct {
				Core struct{ Limit, Used, Remaining int }
			}
			Rate struct{ Limit, Remaining int }
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		c := body.Resources.Core
		if c.Limit != 100 || c.Used != 1 || c.Remaining != 99 || body.Rate.Remaining != 99 {
			t.Errorf("GET /rate_limit: %+v, %+v; want limit 100, used 1, remaining 99", c, body.Rate)
		}
		if got := r.header.Get("X-RateLimit-Remaining"); got != "99" {
			t.Errorf("X-RateLimit-Remaining = %s, want 99", got)
		}
	}
	if r := serve(t, s, "GET", "/rate_limit"); r.status != 401 {
		t.Errorf("GET /rate_limit without the token: status %d, want 401", r.status)
	}
}

// TestLatencyEndsWithTheRequest checks that injected latency is abandoned
// when the client goes away, rather than serving a request nobody awaits.
// (The delay itself is real time, used only by benchmarks.)
func TestLatencyEndsWithTheRequest(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{Latency: time.Hour})
	seed(s, "octo/app", 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/repos/octo/app/actions/artifacts", nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Body.Len() != 0 || rec.Header().Get("ETag") != "" {
		t.Errorf("a request whose client left during the latency was served: %d %q", rec.Code, rec.Body.String())
	}
	if n := s.TotalRequests(); n != 1 {
		t.Errorf("TotalRequests = %d, want 1 (it arrived)", n)
	}
	_, remaining, _ := s.RateLimit()
	if want := 5000; remaining != want {
		t.Errorf("remaining = %d, want %d: an unserved request costs nothing", remaining, want)
	}
}
