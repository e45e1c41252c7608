package github

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
)

// OwnerRepository is what an owner's repository listing says about one
// repository: enough to match it against the policy's patterns, to skip it
// when archived, and to recognise it after a rename (the id stays).
type OwnerRepository struct {
	ID       int64
	FullName artifact.Repository // lower-cased owner/name
	Archived bool
	Fork     bool
}

// OwnerListing is the result of ListOwnerRepositories.
type OwnerListing struct {
	Repositories []OwnerRepository
	// User reports that the owner is a user account: the organisation
	// listing answered 404 and the user listing served it.
	User bool
	// Pages and Requests count the pages read and the HTTP requests made,
	// the organisation attempt and retries included.
	Pages, Requests int
}

// ListOwnerRepositories lists every repository of owner, 100 per page:
// GET /orgs/{owner}/repos?type=all, and when that is a 404 (the owner is a
// user, not an organisation) GET /users/{owner}/repos?type=owner. Forks
// and archived repositories are included, flagged. The repositories of one
// owner fit in memory (GitHub's largest organisations have tens of
// thousands, a few MB), so they are returned whole rather than streamed.
func (c *Client) ListOwnerRepositories(ctx context.Context, owner string) (OwnerListing, error) {
	var out OwnerListing
	seen := map[int64]bool{}
	add := func(repos []*gh.Repository) error {
		for _, r := range repos {
			if r == nil {
				continue
			}
			name, err := artifact.ParseRepository(r.GetFullName())
			if err != nil {
				return fmt.Errorf("repository %d: %w", r.GetID(), err)
			}
			// Pages are offsets: a repository created while listing
			// shifts the next page and comes twice.
			if seen[r.GetID()] {
				continue
			}
			seen[r.GetID()] = true
			out.Repositories = append(out.Repositories, OwnerRepository{
				ID: r.GetID(), FullName: name, Archived: r.GetArchived(), Fork: r.GetFork(),
			})
		}
		return nil
	}
	err := c.listRepoPages(ctx, owner, "repositories of organization "+owner, &out, add, func(ctx context.Context, page int) ([]*gh.Repository, *gh.Response, error) {
		return c.gh.Repositories.ListByOrg(ctx, owner, &gh.RepositoryListByOrgOptions{
			Type: "all", ListOptions: gh.ListOptions{Page: page, PerPage: perPage},
		})
	})
	if errors.Is(err, ErrNotFound) && out.Pages == 0 {
		out.User = true
		err = c.listRepoPages(ctx, owner, "repositories of user "+owner, &out, add, func(ctx context.Context, page int) ([]*gh.Repository, *gh.Response, error) {
			return c.gh.Repositories.ListByUser(ctx, owner, &gh.RepositoryListByUserOptions{
				Type: "owner", ListOptions: gh.ListOptions{Page: page, PerPage: perPage},
			})
		})
	}
	if err != nil {
		return out, c.scrubError(fmt.Errorf("listing the repositories of %s: %w", owner, err))
	}
	return out, nil
}

// listRepoPages reads pages from 1 on as long as go-github's NextPage says
// there are more. A repository listing has no total_count to check the
// end against, so a next page that is not a later one is the only
// inconsistency it can catch.
func (c *Client) listRepoPages(ctx context.Context, owner, what string, out *OwnerListing, add func([]*gh.Repository) error,
	fetch func(context.Context, int) ([]*gh.Repository, *gh.Response, error)) error {
	for page := 1; ; {
		// The wait logs name the listing as owner/*.
		cl := &call{repo: artifact.Repository(strings.ToLower(owner) + "/*")}
		repos, resp, err := fetch(withCall(ctx, cl), page)
		out.Requests += cl.requests
		if err != nil {
			return fmt.Errorf("%s page %d: %w", what, page, c.failure(cl, err))
		}
		out.Pages++
		if err := add(repos); err != nil {
			return fmt.Errorf("%s page %d: %w", what, page, err)
		}
		switch {
		case resp.NextPage == 0:
			return nil
		case resp.NextPage <= page:
			return fmt.Errorf("%s page %d: the next page is %d, not a later one", what, page, resp.NextPage)
		}
		page = resp.NextPage
	}
}
