package github

import (
	"time"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
)

// toArtifact converts go-github's artifact, whose every field is a pointer
// because the API may omit or null it, into retentiond's flat one: a null
// timestamp becomes the zero time, a null workflow_run zero run fields, and
// an absent digest the empty string. repo must already be lower-cased.
func toArtifact(repo artifact.Repository, a *gh.Artifact) artifact.Artifact {
	out := artifact.Artifact{
		ID:                 a.GetID(),
		Repository:         repo,
		NodeID:             a.GetNodeID(),
		Name:               a.GetName(),
		SizeInBytes:        a.GetSizeInBytes(),
		URL:                a.GetURL(),
		ArchiveDownloadURL: a.GetArchiveDownloadURL(),
		Expired:            a.GetExpired(),
		CreatedAt:          timeOf(a.CreatedAt),
		ExpiresAt:          timeOf(a.ExpiresAt),
		UpdatedAt:          timeOf(a.UpdatedAt),
		Digest:             a.GetDigest(),
	}
	if run := a.WorkflowRun; run != nil {
		out.WorkflowRunID = run.GetID()
		out.RepositoryID = run.GetRepositoryID()
		out.HeadRepositoryID = run.GetHeadRepositoryID()
		out.Branch = run.GetHeadBranch()
		out.HeadSHA = run.GetHeadSHA()
	}
	return out
}

// timeOf returns t in UTC, or the zero time for a null timestamp.
func timeOf(t *gh.Timestamp) time.Time {
	if t == nil || t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
