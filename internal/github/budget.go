package github

import (
	"context"
	"fmt"
	"time"
)

// Budget is a primary rate-limit budget: the requests left of Limit until
// Reset. Name tells budgets apart; repositories whose owners share a Name
// share its Remaining.
type Budget struct {
	Name             string
	Limit, Remaining int
	Reset            time.Time
}

// Budget returns the budget that requests for owner's repositories spend.
// With one token there is one budget, whatever the owner. It is the latest
// response's x-ratelimit-* headers while their window is current, else the
// answer of GET /rate_limit, which GitHub does not count against the limit.
func (c *Client) Budget(ctx context.Context, owner string) (Budget, error) {
	if st := c.RateLimit(); st.Known && c.retry.clock.Now().Before(st.Reset) {
		return Budget{Name: "token", Limit: st.Limit, Remaining: st.Remaining, Reset: st.Reset}, nil
	}
	rl, _, err := c.gh.RateLimit.Get(withCall(ctx, &call{}))
	if err != nil {
		return Budget{}, c.scrubError(fmt.Errorf("reading the rate limit for %s: %w", owner, err))
	}
	if rl == nil || rl.Core == nil {
		return Budget{}, fmt.Errorf("reading the rate limit for %s: GET /rate_limit has no core resource", owner)
	}
	return Budget{Name: "token", Limit: rl.Core.Limit, Remaining: rl.Core.Remaining, Reset: rl.Core.Reset.UTC()}, nil
}
