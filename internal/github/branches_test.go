package github

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
)

// Branches come 100 a page, sorted, with Link pagination; an unchanged
// page answers 304 to its ETag without costing rate limit, and deleting a
// branch changes the pages from it on, and not the ones before.
func TestListBranchesPagesAndETags(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	repo := artifact.Repository("octo/app")
	var names []string
	for i := range 150 {
		names = append(names, fmt.Sprintf("feature/%03d", i))
	}
	f.sim.SetBranches(repo, append([]string{"main"}, names...)...)

	p1, err := f.c.ListBranchesPage(t.Context(), repo, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Names) != 100 || p1.Names[0] != "feature/000" || p1.NextPage != 2 || !strings.HasPrefix(p1.ETag, `W/"`) {
		t.Fatalf("page 1: %d names from %v, next %d, etag %q", len(p1.Names), p1.Names[:1], p1.NextPage, p1.ETag)
	}
	p2, err := f.c.ListBranchesPage(t.Context(), repo, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append(names[100:], "main"), p2.Names); diff != "" || p2.NextPage != 0 {
		t.Errorf("page 2 (next %d) (-want +got):\n%s", p2.NextPage, diff)
	}

	before := f.c.RateLimit().Remaining
	same, err := f.c.ListBranchesPage(t.Context(), repo, 1, p1.ETag)
	if err != nil || !same.NotModified || same.Names != nil || same.ETag != p1.ETag {
		t.Errorf("conditional page 1: %+v, %v", same, err)
	}
	if after := f.c.RateLimit().Remaining; after != before {
		t.Errorf("a 304 cost rate limit: %d → %d", before, after)
	}
	// Adding an artifact does not touch the branch list's ETags.
	f.sim.AddArtifact(artifact.Artifact{Repository: repo, Name: "build"})
	if p, err := f.c.ListBranchesPage(t.Context(), repo, 2, p2.ETag); err != nil || !p.NotModified {
		t.Errorf("page 2 after an artifact was added: %+v, %v", p, err)
	}
	// A branch on page 2 goes: page 1 is as it was, page 2 is not.
	if !f.sim.DeleteBranch(repo, "feature/120") || f.sim.DeleteBranch(repo, "feature/120") {
		t.Fatal("DeleteBranch did not delete exactly once")
	}
	p2b, err := f.c.ListBranchesPage(t.Context(), repo, 2, p2.ETag)
	if err != nil || p2b.NotModified || len(p2b.Names) != 50 || p2b.ETag == p2.ETag {
		t.Errorf("page 2 after a deletion: %+v, %v", p2b, err)
	}
	// Page 1's content is as it was, and so is its ETag.
	if p, err := f.c.ListBranchesPage(t.Context(), repo, 1, p1.ETag); err != nil || !p.NotModified {
		t.Errorf("page 1 after a deletion: %+v, %v", p, err)
	}
}

func TestListBranchesErrors(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	// A repository the simulator does not have: 404.
	if _, err := f.c.ListBranchesPage(t.Context(), "octo/nothing", 1, ""); err == nil || !strings.Contains(err.Error(), "listing branches of octo/nothing page 1") {
		t.Errorf("unknown repository: %v", err)
	}
	// A repository nobody gave branches has its default branch.
	f.sim.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "build"})
	if p, err := f.c.ListBranchesPage(t.Context(), "octo/app", 1, ""); err != nil || len(p.Names) != 1 || p.Names[0] != "main" {
		t.Errorf("default branches: %+v, %v", p, err)
	}
	f.sim.InjectFault(githubsim.Fault{Route: githubsim.RouteBranches, Status: http.StatusForbidden, Body: `{"message":"Resource not accessible by integration"}`})
	if _, err := f.c.ListBranchesPage(t.Context(), "octo/app", 1, ""); err == nil || !strings.Contains(err.Error(), "403") && !strings.Contains(err.Error(), "not accessible") {
		t.Errorf("forbidden: %v", err)
	}
	if _, err := f.c.ListBranchesPage(t.Context(), "octo/app", 0, ""); err == nil {
		t.Error("page 0 accepted")
	}
}
