package discovery

import (
	"context"
	"fmt"
	"strings"

	"github.com/retentiond/retentiond/internal/github"
)

// InstallationLister lists an owner's repositories as a GitHub App sees
// them: GET /installation/repositories with the owner's installation token.
// An App may be installed on only some of an owner's repositories, and its
// installation token cannot list the organisation's (GET /orgs/{org}/repos
// shows only public ones to it), so with App authentication this is what
// patterns resolve against.
type InstallationLister struct {
	GitHub interface {
		ListInstallationRepositories(ctx context.Context, owner string) ([]github.InstallationRepository, error)
	}
}

// ListOwnerRepositories lists owner's repositories in its installation. The
// endpoint has no conditional form worth keeping (the listing is one page
// for most installations), so every listing is a full one and prev is
// ignored. Forks are not reported by it and count as not forks.
func (l InstallationLister) ListOwnerRepositories(ctx context.Context, owner string, _ github.ListingState) (github.OwnerListing, error) {
	repos, err := l.GitHub.ListInstallationRepositories(ctx, owner)
	if err != nil {
		return github.OwnerListing{}, fmt.Errorf("listing the repositories of %s's installation: %w", owner, err)
	}
	out := github.OwnerListing{Repositories: make([]github.OwnerRepository, 0, len(repos))}
	for _, r := range repos {
		if !strings.EqualFold(r.FullName.Owner(), owner) {
			continue // an installation covers one account; be sure
		}
		out.Repositories = append(out.Repositories, github.OwnerRepository{ID: r.ID, FullName: r.FullName, Archived: r.Archived})
	}
	if len(out.Repositories) == 0 {
		// An installation (GITHUB_APP_INSTALLATION_ID) that covers another
		// account lists none of owner's: that is not an empty owner.
		return github.OwnerListing{}, fmt.Errorf("the GitHub App's installation lists no repository of %s: install the App on %s, or unset GITHUB_APP_INSTALLATION_ID so that each owner's installation is found", owner, owner)
	}
	pages := max(1, (len(repos)+99)/100)
	out.Pages, out.Requests, out.Counted = pages, pages, pages
	return out, nil
}
