package githubsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/retentiond/retentiond/internal/artifact"
)

type jsonRepo struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Archived bool   `json:"archived"`
	Fork     bool   `json:"fork"`
	Owner    struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"owner"`
}

func decodeRepos(t *testing.T, r result) []jsonRepo {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
	var out []jsonRepo
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return out
}

func TestOwnerReposPaginationAndLinks(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	for i := range 205 {
		s.AddRepository(fmt.Sprintf("Acme/r%03d", i))
	}
	page1 := serve(t, s, http.MethodGet, "/orgs/acme/repos?per_page=500")
	repos := decodeRepos(t, page1)
	if len(repos) != 100 || repos[0].FullName != "Acme/r204" || repos[0].Owner.Type != "Organization" {
		t.Fatalf("page 1: %d repositories, first %+v; want 100, newest first, of an organisation", len(repos), repos[0])
	}
	link := page1.header.Get("Link")
	if !strings.Contains(link, `/organizations/`) || !strings.Contains(link, `per_page=500&page=2>; rel="next"`) || !strings.Contains(link, `page=3>; rel="last"`) {
		t.Errorf("page 1 Link: %s", link)
	}
	// The links' /organizations/{id}/repos path serves the same listing.
	next := strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(link, "<"), ">", 2)[0], "http://example.com")
	last := decodeRepos(t, serve(t, s, http.MethodGet, strings.Replace(next, "page=2", "page=3", 1)))
	if len(last) != 5 || last[4].FullName != "Acme/r000" {
		t.Errorf("last page: %d repositories, %+v", len(last), last)
	}
	if got := decodeRepos(t, serve(t, s, http.MethodGet, "/orgs/acme/repos")); len(got) != 30 {
		t.Errorf("default page size %d, want 30", len(got))
	}
	if r := serve(t, s, http.MethodGet, "/orgs/nobody/repos"); r.status != http.StatusNotFound {
		t.Errorf("unknown owner: %d", r.status)
	}
}

func TestOwnerReposUserAndTypes(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	s.AddRepository("octocat/zeta")
	s.AddRepository("octocat/alpha")
	s.SetOwnerKind("octocat", User)
	s.SetFork("octocat/zeta", true)
	if r := serve(t, s, http.MethodGet, "/orgs/octocat/repos"); r.status != http.StatusNotFound {
		t.Errorf("/orgs/{user}/repos: %d, want 404", r.status)
	}
	repos := decodeRepos(t, serve(t, s, http.MethodGet, "/users/octocat/repos"))
	if len(repos) != 2 || repos[0].Name != "alpha" || repos[0].Owner.Type != "User" || !repos[1].Fork {
		t.Errorf("user listing: %+v; want by full name, a user's, the fork flagged", repos)
	}
	s.AddRepository("acme/a")
	s.AddRepository("acme/b")
	s.SetFork("acme/b", true)
	if got := decodeRepos(t, serve(t, s, http.MethodGet, "/orgs/acme/repos?type=forks")); len(got) != 1 || got[0].Name != "b" {
		t.Errorf("type=forks: %+v", got)
	}
	if got := decodeRepos(t, serve(t, s, http.MethodGet, "/orgs/acme/repos?type=sources")); len(got) != 1 || got[0].Name != "a" {
		t.Errorf("type=sources: %+v", got)
	}
	// An organisation is an account too: /users/{org}/repos serves it.
	if got := decodeRepos(t, serve(t, s, http.MethodGet, "/users/acme/repos")); len(got) != 2 {
		t.Errorf("/users/{org}/repos: %+v", got)
	}
}

func TestOwnerReposETagAndRateLimit(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	s.AddRepository("acme/a")
	first := serve(t, s, http.MethodGet, "/orgs/acme/repos?per_page=100")
	etag := first.header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || first.header.Get("x-ratelimit-used") != "1" {
		t.Fatalf("first listing: ETag %q, used %q", etag, first.header.Get("x-ratelimit-used"))
	}
	again := serve(t, s, http.MethodGet, "/orgs/acme/repos?per_page=100", "If-None-Match", etag)
	if again.status != http.StatusNotModified || again.header.Get("x-ratelimit-used") != "1" || len(again.body) != 0 {
		t.Errorf("conditional listing: %d, used %q, body %q; want a free, empty 304", again.status, again.header.Get("x-ratelimit-used"), again.body)
	}
	for _, step := range []struct {
		name   string
		change func()
	}{
		{"archived", func() { s.SetArchived("acme/a", true) }},
		{"added", func() { s.AddRepository("acme/b") }},
		{"renamed", func() { s.RenameRepository("acme/b", "acme/c") }},
	} {
		name := step.name
		step.change()
		r := serve(t, s, http.MethodGet, "/orgs/acme/repos?per_page=100", "If-None-Match", etag)
		if r.status != http.StatusOK || r.header.Get("ETag") == etag {
			t.Errorf("after the repository was %s: %d, ETag %q; want 200 with a new ETag", name, r.status, r.header.Get("ETag"))
		}
		etag = r.header.Get("ETag")
	}
}

func TestRenameRepositoryRedirectsAndKeepsArtifacts(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	id := s.AddArtifact(artifact.Artifact{Repository: "acme/old", Name: "build"})
	repoID, _ := s.RepositoryID("acme/old")
	if !s.RenameRepository("acme/old", "acme/new") {
		t.Fatal("rename refused")
	}
	if got, _ := s.RepositoryID("acme/new"); got != repoID {
		t.Errorf("renamed repository id %d, want %d", got, repoID)
	}
	arts := s.Artifacts("acme/new")
	if len(arts) != 1 || arts[0].ID != id || arts[0].Repository != "acme/new" {
		t.Errorf("artifacts after the rename: %+v", arts)
	}
	r := serve(t, s, http.MethodGet, "/repos/acme/old/actions/artifacts?per_page=100")
	want := fmt.Sprintf("http://example.com/repositories/%d/actions/artifacts?per_page=100", repoID)
	if r.status != http.StatusMovedPermanently || r.header.Get("Location") != want {
		t.Errorf("old name: %d Location %q; want 301 to %s", r.status, r.header.Get("Location"), want)
	}
	if s.RenameRepository("acme/missing", "acme/x") || s.RenameRepository("acme/new", "acme/new") {
		t.Error("a rename of a missing repository, or onto a taken name, succeeded")
	}
}

func TestArchivedRepositoryRefusesDelete(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	id := s.AddArtifact(artifact.Artifact{Repository: "acme/old", Name: "build"})
	s.SetArchived("acme/old", true)
	r := serve(t, s, http.MethodDelete, fmt.Sprintf("/repos/acme/old/actions/artifacts/%d", id))
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "archived") || !s.Exists("acme/old", id) {
		t.Errorf("delete in an archived repository: %d %s", r.status, r.body)
	}
	repoID, _ := s.RepositoryID("acme/old")
	r = serve(t, s, http.MethodDelete, fmt.Sprintf("/repositories/%d/actions/artifacts/%d", repoID, id))
	if r.status != http.StatusForbidden || !s.Exists("acme/old", id) {
		t.Errorf("delete by repository id in an archived repository: %d %s", r.status, r.body)
	}
}
