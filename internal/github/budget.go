package github

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Budget is one rate-limit budget: the token's, or one GitHub App
// installation's.
type Budget struct {
	// Name is "token", or the installation's id. It is what metrics and logs
	// call the budget; it is never a credential.
	Name      string
	Limit     int
	Remaining int
	Reset     time.Time
}

// Budget reports the rate-limit budget that requests for owner spend: from
// the latest response headers when they are current, else from GET
// /rate_limit (which costs nothing). With a token, every owner spends the
// same budget and owner may be empty.
func (c *Client) Budget(ctx context.Context, owner string) (Budget, error) {
	ctx = WithOwner(ctx, owner)
	b, err := c.budgetFor(ctx, "")
	if err != nil {
		return Budget{}, c.scrubError(fmt.Errorf("rate-limit budget of %s: %w", owner, err))
	}
	if st := b.rateState(); st.Known && c.retry.clock.Now().Before(st.Reset) {
		return Budget{Name: b.name, Limit: st.Limit, Remaining: st.Remaining, Reset: st.Reset}, nil
	}
	cl := &call{budget: b}
	limits, _, err := c.gh.RateLimit.Get(withCall(ctx, cl))
	if err != nil {
		return Budget{}, c.scrubError(fmt.Errorf("GET /rate_limit for %s: %w", owner, c.failure(cl, err)))
	}
	st := b.rateState()
	if core := limits.GetCore(); core != nil {
		// The body is the answer asked for; headers may be missing behind
		// a proxy.
		st = RateState{Limit: core.Limit, Remaining: core.Remaining, Reset: core.Reset.UTC(), Known: true}
		b.set(st)
	}
	if !st.Known {
		return Budget{}, fmt.Errorf("GET /rate_limit for %s: no core rate limit in the answer", owner)
	}
	return Budget{Name: b.name, Limit: st.Limit, Remaining: st.Remaining, Reset: st.Reset}, nil
}

// Budgets returns every budget the client has used or will use, by name,
// with its state as of the latest response (Known false until one came):
// the token's, or each installation's the client has met so far.
func (c *Client) Budgets() []BudgetState {
	var bs []*budgetState
	if c.tokenBudget != nil {
		bs = append(bs, c.tokenBudget)
	}
	if c.app != nil {
		bs = append(bs, c.app.all()...)
	}
	out := make([]BudgetState, 0, len(bs))
	for _, b := range bs {
		out = append(out, BudgetState{Name: b.name, RateState: b.rateState()})
	}
	return out
}

// BudgetState is a budget's name and rate limit, for metrics.
type BudgetState struct {
	Name string
	RateState
}

// budgetFor returns the budget a request spends: the token's, or the
// installation of the owner that path (under the API root) or else ctx
// names.
func (c *Client) budgetFor(ctx context.Context, path string) (*budgetState, error) {
	if c.app == nil {
		return c.tokenBudget, nil
	}
	owner := ownerOf(c.base.Path, path)
	if owner == "" {
		owner = ownerFromContext(ctx)
	}
	return c.app.budgetFor(ctx, owner)
}

// budgetOf is budgetFor for a request, for the retrier.
func (c *Client) budgetOf(req *http.Request) (*budgetState, error) {
	return c.budgetFor(req.Context(), req.URL.Path)
}

// parseRate reads GitHub's x-ratelimit-* headers.
func parseRate(h http.Header) (RateState, bool) {
	remaining, err := strconv.Atoi(h.Get("X-Ratelimit-Remaining"))
	if err != nil {
		return RateState{}, false
	}
	st := RateState{Remaining: remaining, Known: true}
	st.Limit, _ = strconv.Atoi(h.Get("X-Ratelimit-Limit"))
	if reset, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil && reset > 0 {
		st.Reset = time.Unix(reset, 0).UTC()
	}
	return st, true
}
