package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
)

// artifactPath is the API path of one artifact, relative to the base URL.
func artifactPath(repo artifact.Repository, id int64) string {
	return fmt.Sprintf("repos/%s/%s/actions/artifacts/%d", url.PathEscape(repo.Owner()), url.PathEscape(repo.Name()), id)
}

// GetArtifact fetches one artifact of repo.
func (c *Client) GetArtifact(ctx context.Context, repo artifact.Repository, id int64) (artifact.Artifact, error) {
	a, _, err := getJSON[gh.Artifact](ctx, c, request{method: http.MethodGet, url: artifactPath(repo, id), repo: repo})
	if err != nil {
		return artifact.Artifact{}, c.scrubError(fmt.Errorf("getting artifact %d of %s: %w", id, repo, err))
	}
	return toArtifact(repo, a), nil
}

// DeleteArtifact deletes one artifact of repo. Deleting an artifact that is
// already gone returns an error matching ErrNotFound, which a caller that
// only wants it gone may ignore; that also covers a retried DELETE whose
// first attempt succeeded but whose answer was lost.
func (c *Client) DeleteArtifact(ctx context.Context, repo artifact.Repository, id int64) error {
	if _, err := c.send(ctx, request{method: http.MethodDelete, url: artifactPath(repo, id), repo: repo}, nil); err != nil {
		return c.scrubError(fmt.Errorf("deleting artifact %d of %s: %w", id, repo, err))
	}
	return nil
}
