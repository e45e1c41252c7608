package github

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
)

func TestListOwnerRepositoriesOrgPaginates(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	for i := range 250 {
		f.sim.AddRepository(fmt.Sprintf("Acme/repo-%03d", i))
	}
	f.sim.SetArchived("acme/repo-007", true)
	f.sim.SetFork("acme/repo-008", true)
	f.sim.AddRepository("other/x")
	f.sim.ResetCounts()

	got, err := f.c.ListOwnerRepositories(t.Context(), "acme", ListingState{})
	if err != nil {
		t.Fatal(err)
	}
	if got.State.User || got.Pages != 3 || got.Requests != 3 || len(got.Repositories) != 250 {
		t.Fatalf("listing: user %v, %d pages, %d requests, %d repositories; want an organisation, 3, 3, 250",
			got.State.User, got.Pages, got.Requests, len(got.Repositories))
	}
	if n := f.sim.Requests()["GET "+githubsim.RouteOrgRepos]; n != 3 {
		t.Errorf("simulator saw %d organisation listing requests, want 3 (ceil(250/100))", n)
	}
	byName := map[artifact.Repository]OwnerRepository{}
	for _, r := range got.Repositories {
		byName[r.FullName] = r
	}
	id, _ := f.sim.RepositoryID("acme/repo-007")
	if diff := cmp.Diff(OwnerRepository{ID: id, FullName: "acme/repo-007", Archived: true}, byName["acme/repo-007"]); diff != "" {
		t.Errorf("archived repository (-want +got):\n%s", diff)
	}
	if !byName["acme/repo-008"].Fork {
		t.Error("fork flag lost")
	}
	if _, ok := byName["other/x"]; ok {
		t.Error("another owner's repository was listed")
	}
	// Newest first, as GitHub sorts an organisation's listing by default.
	if got.Repositories[0].FullName != "acme/repo-249" {
		t.Errorf("first repository %s, want the newest, acme/repo-249", got.Repositories[0].FullName)
	}
}

func TestListOwnerRepositoriesUserFallsBack(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	f.sim.AddRepository("octocat/b")
	f.sim.AddRepository("octocat/a")
	f.sim.SetOwnerKind("octocat", githubsim.User)
	f.sim.ResetCounts()
	got, err := f.c.ListOwnerRepositories(t.Context(), "octocat", ListingState{})
	if err != nil {
		t.Fatal(err)
	}
	names := []artifact.Repository{}
	for _, r := range got.Repositories {
		names = append(names, r.FullName)
	}
	if !got.State.User || got.Requests != 2 || !cmp.Equal(names, []artifact.Repository{"octocat/a", "octocat/b"}) {
		t.Errorf("user listing: user %v, %d requests, %v; want the 404 then the user listing by name", got.State.User, got.Requests, names)
	}
	counts := f.sim.Requests()
	if counts["GET "+githubsim.RouteOrgRepos] != 1 || counts["GET "+githubsim.RouteUserRepos] != 1 {
		t.Errorf("requests: %v", counts)
	}
}

func TestListOwnerRepositoriesUnknownOwner(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	_, err := f.c.ListOwnerRepositories(t.Context(), "nobody", ListingState{})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown owner: %v, want ErrNotFound", err)
	}
}

func TestListOwnerRepositoriesFailure(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	for i := range 150 {
		f.sim.AddRepository(fmt.Sprintf("acme/r%d", i))
	}
	// Page 2 fails for good: the listing fails, it does not end early.
	f.sim.InjectFault(githubsim.Fault{Route: githubsim.RouteOrgRepos, Nth: 2, Status: http.StatusForbidden,
		Body: `{"message":"Resource not accessible by integration"}`})
	_, err := f.c.ListOwnerRepositories(t.Context(), "acme", ListingState{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("failing page: %v, want a 403 APIError", err)
	}
}

func TestListOwnerRepositoriesConditional(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	for i := range 150 {
		f.sim.AddRepository(fmt.Sprintf("acme/r%03d", i))
	}
	first, err := f.c.ListOwnerRepositories(t.Context(), "acme", ListingState{})
	if err != nil || len(first.State.ETags) != 2 || first.Counted != 2 {
		t.Fatalf("first listing: %d ETags, %d counted, %v; want 2 and 2", len(first.State.ETags), first.Counted, err)
	}
	// Nothing changed: two free 304s.
	again, err := f.c.ListOwnerRepositories(t.Context(), "acme", first.State)
	if err != nil || !again.NotModified || again.Requests != 2 || again.Counted != 0 || again.Repositories != nil {
		t.Fatalf("unchanged: not modified %v, %d requests, %d counted, %v", again.NotModified, again.Requests, again.Counted, err)
	}
	// An archived repository on page 2 changes that page: a full listing.
	f.sim.SetArchived("acme/r000", true)
	changed, err := f.c.ListOwnerRepositories(t.Context(), "acme", first.State)
	if err != nil || changed.NotModified || len(changed.Repositories) != 150 {
		t.Fatalf("changed: not modified %v, %d repositories, %v", changed.NotModified, len(changed.Repositories), err)
	}
	archived := 0
	for _, r := range changed.Repositories {
		if r.Archived {
			archived++
		}
	}
	if archived != 1 || changed.Counted > 3 {
		t.Errorf("changed listing: %d archived, %d counted; want 1 and at most one more than the 2 pages", archived, changed.Counted)
	}
}
