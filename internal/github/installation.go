package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
)

// InstallationRepository is one repository a GitHub App installation can
// reach.
type InstallationRepository struct {
	// ID is GitHub's repository id, which survives a rename.
	ID       int64
	FullName artifact.Repository
	// Archived repositories can be listed but their artifacts cannot be
	// deleted.
	Archived bool
}

// ListInstallationRepositories lists every repository of owner's
// installation (GET /installation/repositories, 100 a page), with its
// installation token and on its budget. With a plain token the request is
// sent with that token, which works when it is an installation token (a
// rotated GITHUB_TOKEN_FILE) and is refused (403) otherwise.
func (c *Client) ListInstallationRepositories(ctx context.Context, owner string) ([]InstallationRepository, error) {
	ctx = WithOwner(ctx, owner)
	var out []InstallationRepository
	for page := 1; ; {
		cl := &call{}
		list, resp, err := c.gh.Apps.ListRepos(withCall(ctx, cl), &gh.ListOptions{Page: page, PerPage: perPage})
		if err != nil {
			return nil, c.scrubError(fmt.Errorf("listing the installation repositories of %s page %d: %w", owner, page, c.failure(cl, err)))
		}
		for _, r := range list.Repositories {
			name, err := artifact.ParseRepository(r.GetFullName())
			if err != nil || r.GetID() == 0 {
				return nil, fmt.Errorf("listing the installation repositories of %s page %d: a repository without a usable id or full name (%q)", owner, page, c.scrub(r.GetFullName()))
			}
			out = append(out, InstallationRepository{ID: r.GetID(), FullName: name, Archived: r.GetArchived()})
		}
		total := list.GetTotalCount()
		switch {
		case resp.NextPage == 0 && len(out) < total:
			// As for artifacts: a Link header go-github could not read
			// must not pass for the end of the listing.
			return nil, fmt.Errorf("listing the installation repositories of %s page %d: GitHub counts %d repositories, %d were listed, and there is no next page", owner, page, total, len(out))
		case resp.NextPage == 0:
			return out, nil
		case resp.NextPage <= page:
			return nil, fmt.Errorf("listing the installation repositories of %s page %d: the next page is %d, not a later one", owner, page, resp.NextPage)
		}
		page = resp.NextPage
	}
}
