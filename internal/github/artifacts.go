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
func artifactPath(repo string, id int64) string {
	owner, name := artifact.SplitRepository(repo)
	return fmt.Sprintf("repos/%s/%s/actions/artifacts/%d", url.PathEscape(owner), url.PathEscape(name), id)
}

// GetArtifact fetches one artifact of repo.
func (c *Client) GetArtifact(ctx context.Context, repo string, id int64) (artifact.Artifact, error) {
	repo, err := artifact.ParseRepository(repo)
	if err != nil {
		return artifact.Artifact{}, fmt.Errorf("getting artifact %d: %w", id, err)
	}
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
func (c *Client) DeleteArtifact(ctx context.Context, repo string, id int64) error {
	repo, err := artifact.ParseRepository(repo)
	if err != nil {
		return fmt.Errorf("deleting artifact %d: %w", id, err)
	}
	if _, err := c.send(ctx, request{method: http.MethodDelete, url: artifactPath(repo, id), repo: repo}, nil); err != nil {
		return c.scrubError(fmt.Errorf("deleting artifact %d of %s: %w", id, repo, err))
	}
	return nil
}
