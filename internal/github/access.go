package github

import (
	"context"
	"fmt"

	"github.com/retentiond/retentiond/internal/artifact"
)

// CoreBudget calls GET /rate_limit, which GitHub does not count against any
// rate limit, and returns the core (REST) budget. It is how `check` and
// serve's readiness tell a good token from a bad one (ErrUnauthorized)
// without spending anything.
func (c *Client) CoreBudget(ctx context.Context) (RateState, error) {
	cl := &call{}
	rl, _, err := c.gh.RateLimit.Get(withCall(ctx, cl))
	if err != nil {
		return RateState{}, c.scrubError(fmt.Errorf("reading the rate limit: %w", c.failure(cl, err)))
	}
	if rl == nil || rl.Core == nil {
		return RateState{}, fmt.Errorf("reading the rate limit: GET /rate_limit: no core budget in the answer")
	}
	return RateState{Limit: rl.Core.Limit, Remaining: rl.Core.Remaining, Reset: rl.Core.Reset.UTC(), Known: true}, nil
}

// RepoAccess is what GET /repos/{owner}/{repo} says about a repository and
// the authenticated user's role in it.
type RepoAccess struct {
	Archived bool
	// PermissionsKnown is false when the answer carried no permissions
	// object (GitHub leaves it out for tokens that are not a user's, such
	// as an App installation's).
	PermissionsKnown bool
	// Push is write access, which deleting an artifact needs (a classic
	// token also needs the repo scope; a fine-grained one Actions: write,
	// which GitHub does not show here).
	Push bool
}

// RepositoryAccess reads repo's metadata: whether it is archived and whether
// the token's user can write to it. It never tries a DELETE.
func (c *Client) RepositoryAccess(ctx context.Context, repo artifact.Repository) (RepoAccess, error) {
	cl := &call{repo: repo}
	r, _, err := c.gh.Repositories.Get(withCall(ctx, cl), repo.Owner(), repo.Name())
	if err != nil {
		return RepoAccess{}, c.scrubError(fmt.Errorf("reading repository %s: %w", repo, c.failure(cl, err)))
	}
	a := RepoAccess{Archived: r.GetArchived()}
	if p := r.GetPermissions(); p != nil {
		a.PermissionsKnown = true
		a.Push = p.GetPush() || p.GetMaintain() || p.GetAdmin()
	}
	return a, nil
}
