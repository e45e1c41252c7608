package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
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

// ListingState is what a listing leaves for the next one to be
// conditional: which endpoint served the owner and each page's ETag.
type ListingState struct {
	// User reports that the owner is a user account: the organisation
	// listing answered 404 and the user listing served it.
	User bool
	// ETags are the pages' entity tags, page 1 first; empty when GitHub
	// sent none, and then the next listing is a full one.
	ETags []string
}

// OwnerListing is the result of ListOwnerRepositories.
type OwnerListing struct {
	// Repositories are the owner's repositories; nil when NotModified.
	Repositories []OwnerRepository
	// NotModified reports that every page of the previous listing
	// answered 304: nothing changed, and the caller's copy stands.
	NotModified bool
	// State is what the next listing sends to be conditional.
	State ListingState
	// Pages and Requests count the pages read and the HTTP requests made,
	// the organisation attempt, 304s and retries included; Counted those
	// that cost rate limit (a 304 does not).
	Pages, Requests, Counted int
}

// ListOwnerRepositories lists every repository of owner, 100 per page:
// GET /orgs/{owner}/repos?type=all, and when that is a 404 (the owner is a
// user, not an organisation) GET /users/{owner}/repos?type=owner. Forks
// and archived repositories are included, flagged. The repositories of one
// owner fit in memory (GitHub's largest organisations have tens of
// thousands, a few MB), so they are returned whole rather than streamed.
//
// With the State of a previous listing that had ETags, it first asks each
// of those pages conditionally (If-None-Match). When every one answers
// 304 — free, by GitHub's documentation — nothing changed and the result
// is NotModified, at no cost to the rate limit. Otherwise, at the first
// page that changed, it lists in full. Both listings sort newest first
// (sort=created), so a repository created since changes page 1, and any
// other change changes the page it is on or those after it: a set of 304s
// is an unchanged set of repositories.
func (c *Client) ListOwnerRepositories(ctx context.Context, owner string, prev ListingState) (OwnerListing, error) {
	var out OwnerListing
	if len(prev.ETags) > 0 {
		same, err := c.ownerUnchanged(ctx, owner, prev, &out)
		switch {
		case errors.Is(err, ErrNotFound):
			// The owner moved between organisation and user, or went:
			// the full listing below says which.
		case err != nil:
			return out, c.scrubError(fmt.Errorf("listing the repositories of %s: %w", owner, err))
		case same:
			out.NotModified, out.State = true, prev
			return out, nil
		}
		out.Pages, out.State = 0, ListingState{}
	}
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
	err := c.listRepoPages(ctx, owner, "repositories of organization "+owner, &out, add, c.orgPage(owner), nil)
	if errors.Is(err, ErrNotFound) && out.Pages == 0 {
		out.State.User = true
		err = c.listRepoPages(ctx, owner, "repositories of user "+owner, &out, add, c.userPage(owner), nil)
	}
	if err != nil {
		return out, c.scrubError(fmt.Errorf("listing the repositories of %s: %w", owner, err))
	}
	if slices.Contains(out.State.ETags, "") {
		// A page without an ETag cannot be asked for conditionally.
		out.State.ETags = nil
	}
	return out, nil
}

// repoPageFunc fetches one page of an owner's repositories.
type repoPageFunc func(ctx context.Context, page int) ([]*gh.Repository, *gh.Response, error)

func (c *Client) orgPage(owner string) repoPageFunc {
	return func(ctx context.Context, page int) ([]*gh.Repository, *gh.Response, error) {
		return c.gh.Repositories.ListByOrg(ctx, owner, &gh.RepositoryListByOrgOptions{
			Type: "all", Sort: "created", Direction: "desc", ListOptions: gh.ListOptions{Page: page, PerPage: perPage},
		})
	}
}

func (c *Client) userPage(owner string) repoPageFunc {
	return func(ctx context.Context, page int) ([]*gh.Repository, *gh.Response, error) {
		// Newest first, like an organisation's: GitHub sorts a user's by
		// name unless told, and a repository added at the end of a full
		// last page would then change no page that was listed before.
		return c.gh.Repositories.ListByUser(ctx, owner, &gh.RepositoryListByUserOptions{
			Type: "owner", Sort: "created", Direction: "desc", ListOptions: gh.ListOptions{Page: page, PerPage: perPage},
		})
	}
}

// ownerUnchanged asks each page of the previous listing conditionally and
// reports whether all of them answered 304. It stops at the first page
// that did not.
func (c *Client) ownerUnchanged(ctx context.Context, owner string, prev ListingState, out *OwnerListing) (bool, error) {
	fetch := c.orgPage(owner)
	if prev.User {
		fetch = c.userPage(owner)
	}
	same := true
	err := c.listRepoPages(ctx, owner, "repositories of "+owner, out, func([]*gh.Repository) error {
		same = false
		return errStopListing
	}, fetch, prev.ETags)
	if errors.Is(err, errStopListing) {
		return false, nil
	}
	return same, err
}

// errStopListing ends a conditional listing at its first changed page.
var errStopListing = errors.New("the listing changed")

// listRepoPages reads pages from 1 on as long as go-github's NextPage says
// there are more. A repository listing has no total_count to check the
// end against, so a next page that is not a later one is the only
// inconsistency it can catch. With etags, it asks exactly those pages,
// each conditionally, and hands add only the pages that changed.
func (c *Client) listRepoPages(ctx context.Context, owner, what string, out *OwnerListing, add func([]*gh.Repository) error,
	fetch repoPageFunc, etags []string) error {
	for page := 1; ; {
		// The wait logs name the listing as owner/*.
		cl := &call{repo: artifact.Repository(strings.ToLower(owner) + "/*")}
		if etags != nil {
			cl.ifNoneMatch = etags[page-1]
		}
		repos, resp, err := fetch(withCall(ctx, cl), page)
		out.Requests += cl.requests
		out.Counted += cl.charged
		var er *gh.ErrorResponse
		if etags != nil && err != nil && errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotModified && cl.err == nil {
			if page == len(etags) {
				return nil
			}
			page++
			continue
		}
		if err != nil {
			return fmt.Errorf("%s page %d: %w", what, page, c.failure(cl, err))
		}
		out.Pages++
		if resp != nil && resp.Response != nil {
			out.State.ETags = append(out.State.ETags, c.scrub(resp.Header.Get("ETag")))
		}
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
