package cli

import (
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
)

// demoArchived is the demo organisation's archived repository: octo-org/*
// finds it, and the run skips it, since GitHub refuses to delete the
// artifacts of an archived repository.
const demoArchived artifact.Repository = "octo-org/legacy-site"

// seedDemoArchived adds demoArchived with a few old builds, archived.
func seedDemoArchived(sim *githubsim.Server, now time.Time) {
	for i := range 40 {
		created := now.Add(-time.Duration(100+i) * 24 * time.Hour)
		sim.AddArtifact(artifact.Artifact{
			Repository: demoArchived, Name: "site-build", SizeInBytes: 25_000_000 + int64(i)*10_000,
			CreatedAt: created, UpdatedAt: created, ExpiresAt: created.Add(400 * 24 * time.Hour),
			WorkflowRunID: int64(8_000_000_001 + i), Branch: "main", HeadSHA: "0123456789abcdef0123456789abcdef01234567",
		})
	}
	sim.SetArchived(demoArchived, true)
}
