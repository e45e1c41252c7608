package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

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

// ListArtifacts lists repo's artifacts ("owner/name"), newest first, calling
// fn with each page as it arrives. Pages are not accumulated: fn owns each
// slice. An error from fn stops the listing and is returned wrapped.
//
// Pages after the first come from the Link header's rel="next" URL as GitHub
// gave it, never from a page number the client made up.
func (c *Client) ListArtifacts(ctx context.Context, repo artifact.Repository, fn func(page []artifact.Artifact) error) (ListStats, error) {
	first := fmt.Sprintf("repos/%s/%s/actions/artifacts?per_page=%d", url.PathEscape(repo.Owner()), url.PathEscape(repo.Name()), perPage)
	return c.list(ctx, repo, "artifacts of "+repo.String(), first, fn)
}

// ListRunArtifacts lists the artifacts of one workflow run of repo, newest
// first, page by page like ListArtifacts.
func (c *Client) ListRunArtifacts(ctx context.Context, repo artifact.Repository, runID int64, fn func(page []artifact.Artifact) error) (ListStats, error) {
	first := fmt.Sprintf("repos/%s/%s/actions/runs/%d/artifacts?per_page=%d&direction=desc", url.PathEscape(repo.Owner()), url.PathEscape(repo.Name()), runID, perPage)
	return c.list(ctx, repo, fmt.Sprintf("artifacts of %s run %d", repo, runID), first, fn)
}

// list fetches pages from first on, following rel="next".
func (c *Client) list(ctx context.Context, repo artifact.Repository, what, first string, fn func([]artifact.Artifact) error) (ListStats, error) {
	var stats ListStats
	next := first
	for {
		page := stats.Pages + 1
		body, resp, err := getJSON[gh.ArtifactList](ctx, c, request{method: http.MethodGet, url: next, repo: repo, requests: &stats.Requests})
		if err != nil {
			return stats, c.scrubError(fmt.Errorf("listing %s page %d: %w", what, page, err))
		}
		stats.Pages = page
		stats.TotalCount = int(body.GetTotalCount())

		arts := make([]artifact.Artifact, 0, len(body.Artifacts))
		for _, a := range body.Artifacts {
			if a != nil {
				arts = append(arts, toArtifact(repo, a))
			}
		}
		if err := fn(arts); err != nil {
			return stats, c.scrubError(fmt.Errorf("listing %s page %d: %w", what, page, err))
		}

		requested := resp.Request.URL
		u, err := nextPage(resp.Header, requested)
		if err != nil {
			return stats, c.scrubError(fmt.Errorf("listing %s page %d: %w", what, page, err))
		}
		if u == nil {
			return stats, nil
		}
		switch {
		case !c.sameHost(u):
			// The token would follow the link; GitHub's links never leave its host.
			return stats, fmt.Errorf("listing %s page %d: next link leaves the API host for %s", what, page, u.Host)
		case u.String() == requested.String():
			return stats, fmt.Errorf("listing %s page %d: next link points back at the same page", what, page)
		}
		next = u.String()
	}
}
