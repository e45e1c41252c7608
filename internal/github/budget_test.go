package github

import (
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
)

func TestBudget(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{RateLimit: 1000})
	ctx := t.Context()
	f.sim.AddArtifact(artifact.Artifact{Repository: "octo/api", Name: "build"})
	_, _, reset := f.sim.RateLimit()

	// Nothing known yet: GET /rate_limit, which costs nothing.
	b, err := f.c.Budget(ctx, "octo")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "token" || b.Limit != 1000 || b.Remaining != 1000 || !b.Reset.Equal(reset) {
		t.Errorf("first budget %+v, want token 1000 of 1000 until %s", b, reset)
	}
	if got := f.sim.Requests()["GET "+githubsim.RouteRateLimit]; got != 1 {
		t.Errorf("GET /rate_limit sent %d times, want 1", got)
	}

	// After a listing, its headers are current: no request at all.
	f.list(t, "octo/api")
	f.sim.ResetCounts()
	if b, err = f.c.Budget(ctx, "other-owner"); err != nil || b.Remaining != 999 {
		t.Errorf("budget from the headers: %+v, %v; want 999 left", b, err)
	}
	if n := f.sim.TotalRequests(); n != 0 {
		t.Errorf("a budget the headers answer sent %d requests", n)
	}

	// Once their window has reset, the headers are stale: ask again.
	f.clock.Advance(time.Hour + time.Second)
	if b, err = f.c.Budget(ctx, "octo"); err != nil || b.Remaining != 1000 || !b.Reset.After(reset) {
		t.Errorf("budget after the reset: %+v, %v; want a fresh 1000", b, err)
	}
	if got := f.sim.Requests()["GET "+githubsim.RouteRateLimit]; got != 1 {
		t.Errorf("GET /rate_limit sent %d times after the reset, want 1", got)
	}
	if _, remaining, _ := f.sim.RateLimit(); remaining != 1000 {
		t.Errorf("reading the budget spent it: %d left", remaining)
	}
}
