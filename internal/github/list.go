package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
)

// perPage is the most GitHub serves per page; fewer pages means fewer
// requests against the rate limit.
const perPage = 100

// ListStats describes one listing.
type ListStats struct {
	// Pages is how many pages were received and handed to fn.
	Pages int
	// Requests is how many HTTP requests the listing made, retries included.
	Requests int
	// TotalCount is the total_count GitHub reported on the latest page.
	TotalCount int
}

// Page is one page of a repository's artifact listing, as ListArtifactsPage
// returns it.
type Page struct {
	// Artifacts are the page's artifacts, newest first; nil when NotModified.
	Artifacts []artifact.Artifact
	// TotalCount is GitHub's total_count: the artifacts of the whole listing
	// at the time of this request.
	TotalCount int
	// NextPage is the number of the next page, from the Link header; 0 on
	// the last page and when NotModified (a 304 carries no Link header).
	NextPage int
	// ETag is the response's entity tag, to send back for this page next
	// time. GitHub's are weak (W/"…"); send them back exactly as they came.
	// Like all text from the server, it has the token scrubbed out.
	ETag string
	// NotModified reports a 304: the page is unchanged since ETag was sent,
	// and the caller's copy of it (artifacts, TotalCount, NextPage) stands.
	NotModified bool
	// Counted reports whether fetching the page counted against the primary
	// rate limit. GitHub documents that a 304 to an authorised conditional
	// request does not. Every other answer counts, and so does a page whose
	// 304 came only after a retry, or one asked for without a token.
	Counted bool
	// Requests is how many HTTP requests the page took, retries included,
	// and Charged how many of them counted against the primary rate limit.
	Requests int
	Charged  int

	// listed is how many entries the body's array had, nulls included.
	listed int
}

// Listed is how many entries the page's body listed, nulls included: with
// the page number, where the listing has got to, to check against
// TotalCount when there is no next page.
func (p Page) Listed() int { return p.listed }

// ListArtifactsPage fetches page (from 1) of repo's artifact listing, 100 per
// page, newest first. With a non-empty etag the request is conditional
// (If-None-Match): if the page has not changed, GitHub answers 304 and Page
// has NotModified set, which GitHub does not count against the rate limit.
//
// Pages are offsets computed at request time: an artifact created or deleted
// between two pages shifts the later ones. Only a listing with no deletion
// between its pages is a true snapshot; ListArtifacts is that listing.
func (c *Client) ListArtifactsPage(ctx context.Context, repo artifact.Repository, page int, etag string) (Page, error) {
	if page < 1 {
		return Page{}, fmt.Errorf("listing artifacts of %s: page %d: pages start at 1", repo, page)
	}
	p, err := c.fetchPage(ctx, repo, etag, func(ctx context.Context) (*gh.ArtifactList, *gh.Response, error) {
		return c.gh.Actions.ListArtifacts(ctx, repo.Owner(), repo.Name(), &gh.ListArtifactsOptions{
			ListOptions: gh.ListOptions{Page: page, PerPage: perPage},
		})
	})
	if err != nil {
		return p, c.scrubError(fmt.Errorf("listing artifacts of %s page %d: %w", repo, page, err))
	}
	return p, nil
}

// ListArtifacts lists repo's artifacts, newest first, calling fn with each
// page as it arrives. Pages are not accumulated: fn owns each slice. An error
// from fn stops the listing and is returned wrapped.
//
// Paging is by go-github's Response.NextPage, itself read from GitHub's Link
// header. The listing is a snapshot only if nothing is deleted while it runs,
// which is why a scan lists every page before the janitor deletes anything.
func (c *Client) ListArtifacts(ctx context.Context, repo artifact.Repository, fn func(page []artifact.Artifact) error) (ListStats, error) {
	return c.list(ctx, "artifacts of "+repo.String(), fn, func(ctx context.Context, page int) (Page, error) {
		return c.fetchPage(ctx, repo, "", func(ctx context.Context) (*gh.ArtifactList, *gh.Response, error) {
			return c.gh.Actions.ListArtifacts(ctx, repo.Owner(), repo.Name(), &gh.ListArtifactsOptions{
				ListOptions: gh.ListOptions{Page: page, PerPage: perPage},
			})
		})
	})
}

// ListRunArtifacts lists the artifacts of one workflow run of repo, newest
// first (GitHub's default order), page by page like ListArtifacts.
func (c *Client) ListRunArtifacts(ctx context.Context, repo artifact.Repository, runID int64, fn func(page []artifact.Artifact) error) (ListStats, error) {
	return c.list(ctx, fmt.Sprintf("artifacts of %s run %d", repo, runID), fn, func(ctx context.Context, page int) (Page, error) {
		return c.fetchPage(ctx, repo, "", func(ctx context.Context) (*gh.ArtifactList, *gh.Response, error) {
			return c.gh.Actions.ListWorkflowRunArtifacts(ctx, repo.Owner(), repo.Name(), runID, &gh.ListOptions{Page: page, PerPage: perPage})
		})
	})
}

// list fetches pages from 1 on, as long as NextPage says there are more.
func (c *Client) list(ctx context.Context, what string, fn func([]artifact.Artifact) error, fetch func(context.Context, int) (Page, error)) (ListStats, error) {
	var stats ListStats
	for page := 1; ; {
		p, err := fetch(ctx, page)
		stats.Requests += p.Requests
		if err != nil {
			return stats, c.scrubError(fmt.Errorf("listing %s page %d: %w", what, page, err))
		}
		stats.Pages = page
		stats.TotalCount = p.TotalCount
		if err := fn(p.Artifacts); err != nil {
			return stats, c.scrubError(fmt.Errorf("listing %s page %d: %w", what, page, err))
		}
		switch through := (page-1)*perPage + p.listed; {
		case p.NextPage == 0 && through < p.TotalCount:
			// go-github skips a Link entry it cannot read, so a garbled
			// header would otherwise end the listing early without a word.
			return stats, fmt.Errorf("listing %s page %d: GitHub counts %d artifacts, this page ends at %d, and there is no next page",
				what, page, p.TotalCount, through)
		case p.NextPage == 0:
			return stats, nil
		case p.NextPage <= page:
			return stats, fmt.Errorf("listing %s page %d: the next page is %d, not a later one", what, page, p.NextPage)
		}
		page = p.NextPage
	}
}

// fetchPage makes one list call, conditional when etag is set, and converts
// its answer.
func (c *Client) fetchPage(ctx context.Context, repo artifact.Repository, etag string, list func(context.Context) (*gh.ArtifactList, *gh.Response, error)) (Page, error) {
	cl := &call{repo: repo, ifNoneMatch: etag}
	body, resp, err := list(withCall(ctx, cl))
	p := Page{Requests: cl.requests, Counted: cl.charged > 0, Charged: cl.charged}
	if resp != nil && resp.Response != nil {
		p.ETag = c.scrub(resp.Header.Get("ETag"))
	}
	if err != nil {
		// go-github reports a 304 as an *ErrorResponse; with an ETag sent,
		// it is the answer hoped for.
		var er *gh.ErrorResponse
		if etag != "" && errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotModified && cl.err == nil {
			p.NotModified = true
			if p.ETag == "" {
				p.ETag = etag
			}
			return p, nil
		}
		return p, c.failure(cl, err)
	}
	if body == nil {
		return p, fmt.Errorf("GET %s: 200 with an empty body", c.pathOf(resp.Request.URL))
	}
	p.TotalCount = int(body.GetTotalCount())
	p.NextPage = resp.NextPage
	p.listed = len(body.Artifacts)
	p.Artifacts = make([]artifact.Artifact, 0, len(body.Artifacts))
	for _, a := range body.Artifacts {
		if a != nil {
			p.Artifacts = append(p.Artifacts, toArtifact(repo, a))
		}
	}
	return p, nil
}
