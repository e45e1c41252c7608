package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
)

// BranchPage is one page of a repository's branch list.
type BranchPage struct {
	// Names are the page's branch names, as GitHub sorts them; nil when
	// NotModified.
	Names []string
	// NextPage is the next page's number from the Link header; 0 on the
	// last page and when NotModified (a 304 carries no Link header).
	NextPage int
	// ETag is the page's entity tag, to send back next time.
	ETag string
	// NotModified reports a 304: the page is as it was when ETag was
	// sent, and the caller's copy of it stands.
	NotModified bool
	// Requests is how many HTTP requests the page took, retries included.
	Requests int
}

// ListBranchesPage fetches page (from 1) of repo's branches, 100 per page
// (GET /repos/{owner}/{repo}/branches). With a non-empty etag the request
// is conditional: an unchanged page answers 304, which GitHub does not
// count against the rate limit, and the page has NotModified set.
func (c *Client) ListBranchesPage(ctx context.Context, repo artifact.Repository, page int, etag string) (BranchPage, error) {
	if page < 1 {
		return BranchPage{}, fmt.Errorf("listing branches of %s: page %d: pages start at 1", repo, page)
	}
	cl := &call{repo: repo, ifNoneMatch: etag}
	branches, resp, err := c.gh.Repositories.ListBranches(withCall(ctx, cl), repo.Owner(), repo.Name(),
		&gh.BranchListOptions{ListOptions: gh.ListOptions{Page: page, PerPage: perPage}})
	p := BranchPage{Requests: cl.requests}
	if resp != nil && resp.Response != nil {
		p.ETag = c.scrub(resp.Header.Get("ETag"))
	}
	if err != nil {
		// go-github reports a 304 as an *ErrorResponse; with an ETag
		// sent, it is the answer hoped for.
		var er *gh.ErrorResponse
		if etag != "" && errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotModified && cl.err == nil {
			p.NotModified = true
			if p.ETag == "" {
				p.ETag = etag
			}
			return p, nil
		}
		return p, c.scrubError(fmt.Errorf("listing branches of %s page %d: %w", repo, page, c.failure(cl, err)))
	}
	p.NextPage = resp.NextPage
	p.Names = make([]string, 0, len(branches))
	for _, b := range branches {
		if b != nil && b.GetName() != "" {
			p.Names = append(p.Names, b.GetName())
		}
	}
	return p, nil
}
