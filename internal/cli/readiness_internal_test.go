package cli

import (
	"context"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/testbed"
)

// /readyz's GitHub check asks at most once per githubReadyEvery of the
// injected clock, whatever the probe rate, and keeps a failure as long.
func TestGitHubReadinessAsksOncePerMinute(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	g := &githubReadiness{gh: b.Client, clock: b.Clock}
	asked := func() int { return b.Sim.Requests()["GET "+githubsim.RouteRateLimit] }
	ctx := context.Background()
	for range 5 {
		if err := g.check(ctx); err != nil {
			t.Fatal(err)
		}
		b.Clock.Advance(10 * time.Second)
	}
	if n := asked(); n != 1 {
		t.Errorf("%d GET /rate_limit in 50s, want 1", n)
	}
	b.Clock.Advance(20 * time.Second) // 70s after the first
	if err := g.check(ctx); err != nil {
		t.Fatal(err)
	}
	if n := asked(); n != 2 {
		t.Errorf("%d GET /rate_limit after a minute, want 2", n)
	}
}
