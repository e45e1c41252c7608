package github

import (
	"context"
	"fmt"

	"github.com/retentiond/retentiond/internal/artifact"
)

// GetArtifact fetches one artifact of repo.
func (c *Client) GetArtifact(ctx context.Context, repo artifact.Repository, id int64) (artifact.Artifact, error) {
	cl := &call{repo: repo}
	a, resp, err := c.gh.Actions.GetArtifact(withCall(ctx, cl), repo.Owner(), repo.Name(), id)
	switch {
	case err != nil:
		err = c.failure(cl, err)
	case a == nil:
		err = fmt.Errorf("GET %s: 200 with an empty body", c.pathOf(resp.Request.URL))
	}
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
	cl := &call{repo: repo}
	if _, err := c.gh.Actions.DeleteArtifact(withCall(ctx, cl), repo.Owner(), repo.Name(), id); err != nil {
		return c.scrubError(fmt.Errorf("deleting artifact %d of %s: %w", id, repo, c.failure(cl, err)))
	}
	return nil
}
