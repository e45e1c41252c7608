package githubsim_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/githubsim"
)

const token = "ghp_test"

// start is in the past of the wall clock, so go-github's client-side
// rate-limit bookkeeping (which uses time.Now) never blocks a test request.
var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	sim   *githubsim.Server
	clock *clock.Fake
	ts    *httptest.Server
}

func newFixture(t *testing.T, opts githubsim.Options) *fixture {
	t.Helper()
	f := &fixture{clock: clock.NewFake(start)}
	if opts.Token == "" {
		opts.Token = token
	}
	opts.Clock = f.clock
	f.sim = githubsim.New(opts)
	f.ts = httptest.NewServer(f.sim)
	t.Cleanup(f.ts.Close)
	return f
}

// client returns a fresh go-github client, since go-github remembers rate
// limits per client.
func (f *fixture) client(t *testing.T, tok string, extra ...github.ClientOptionsFunc) *github.Client {
	t.Helper()
	base := f.ts.URL + "/"
	opts := append([]github.ClientOptionsFunc{github.WithAuthToken(tok), github.WithURLs(&base, nil)}, extra...)
	c, err := github.NewClient(opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// add seeds n artifacts in repo with automatic digests and returns their ids newest first.
func (f *fixture) add(repo string, n int, name func(i int) string, run int64) []int64 {
	ids := make([]int64, n)
	for i := range n {
		ids[n-1-i] = f.sim.AddArtifact(artifact.Artifact{
			Repository: artifact.Repository(repo), Name: name(i), SizeInBytes: int64(i), Digest: githubsim.AutoDigest,
			CreatedAt: start, UpdatedAt: start, ExpiresAt: start.Add(24 * time.Hour),
			WorkflowRunID: run, Branch: "main", HeadSHA: "abc",
		})
	}
	return ids
}

func fixed(s string) func(int) string { return func(int) string { return s } }

func idsOf(arts []*github.Artifact) []int64 {
	out := make([]int64, len(arts))
	for i, a := range arts {
		out[i] = a.GetID()
	}
	return out
}

func TestGoGitHubListArtifactsByNextPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	want := f.add("octo/app", 250, fixed("build"), 1)
	c := f.client(t, token)
	opts := &github.ListArtifactsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var got []int64
	var pages []string
	for {
		list, resp, err := c.Actions.ListArtifacts(t.Context(), "octo", "app", opts)
		if err != nil {
			t.Fatalf("ListArtifacts page %d: %v", opts.Page, err)
		}
		if list.GetTotalCount() != 250 {
			t.Errorf("total_count = %d", list.GetTotalCount())
		}
		got = append(got, idsOf(list.Artifacts)...)
		pages = append(pages, fmt.Sprintf("first=%d prev=%d next=%d last=%d", resp.FirstPage, resp.PrevPage, resp.NextPage, resp.LastPage))
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	wantPages := []string{"first=0 prev=0 next=2 last=3", "first=1 prev=1 next=3 last=3", "first=1 prev=2 next=0 last=0"}
	if diff := cmp.Diff(wantPages, pages); diff != "" {
		t.Errorf("pagination (-want +got):\n%s", diff)
	}
}

var nextLink = regexp.MustCompile(`<([^>]+)>; rel="next"`)

func TestGoGitHubListArtifactsByLinkHeader(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	f.add("octo/app", 120, func(i int) string { return []string{"build", "test"}[i%2] }, 1)
	var want []int64
	for _, a := range f.sim.Artifacts("octo/app") {
		if a.Name == "test" {
			want = append(want, a.ID)
		}
	}
	c := f.client(t, token)
	list, resp, err := c.Actions.ListArtifacts(t.Context(), "octo", "app",
		&github.ListArtifactsOptions{Name: new("test"), ListOptions: github.ListOptions{PerPage: 25}})
	if err != nil {
		t.Fatalf("ListArtifacts: %v", err)
	}
	got := idsOf(list.Artifacts)
	rid, _ := f.sim.RepositoryID("octo/app")
	for {
		m := nextLink.FindStringSubmatch(resp.Header.Get("Link"))
		if m == nil {
			break
		}
		if !strings.HasPrefix(m[1], fmt.Sprintf("%s/repositories/%d/actions/artifacts?", f.ts.URL, rid)) || !strings.Contains(m[1], "name=test") {
			t.Errorf("next link %s does not point at /repositories/{id} with the name filter", m[1])
		}
		req, err := c.NewRequest(t.Context(), "GET", m[1], nil)
		if err != nil {
			t.Fatalf("NewRequest %s: %v", m[1], err)
		}
		var page github.ArtifactList
		if resp, err = c.Do(req, &page); err != nil {
			t.Fatalf("following %s: %v", m[1], err)
		}
		if page.GetTotalCount() != 60 {
			t.Errorf("total_count with name filter = %d, want 60", page.GetTotalCount())
		}
		got = append(got, idsOf(page.Artifacts)...)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if n := f.sim.Requests()["GET list"]; n != 3 {
		t.Errorf("list requests = %d, want 3 pages", n)
	}
}

func TestGoGitHubDeleteWhilePaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	ids := f.add("octo/app", 6, fixed("x"), 0)
	// Someone deletes the newest artifact between page 1 and page 2.
	f.sim.OnRequest(func(route string, r *http.Request) {
		if route == githubsim.RouteList && r.URL.Query().Get("page") == "2" {
			f.sim.RemoveArtifact("octo/app", ids[0])
		}
	})
	c := f.client(t, token)
	opts := &github.ListArtifactsOptions{ListOptions: github.ListOptions{PerPage: 2}}
	var got []int64
	for {
		list, resp, err := c.Actions.ListArtifacts(t.Context(), "octo", "app", opts)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, idsOf(list.Artifacts)...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	// ids[2] slid onto page 1 after it was read: a page-number scan misses it.
	want := []int64{ids[0], ids[1], ids[3], ids[4], ids[5]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids seen (-want +got):\n%s", diff)
	}
}

func TestGoGitHubWorkflowRunArtifacts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	run := f.add("octo/app", 5, func(i int) string { return fmt.Sprintf("test-results-%d", i) }, 42)
	f.add("octo/app", 3, fixed("other"), 43)
	c := f.client(t, token)

	list, resp, err := c.Actions.ListWorkflowRunArtifacts(t.Context(), "octo", "app", 42, &github.ListOptions{PerPage: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(run[:3], idsOf(list.Artifacts)); diff != "" {
		t.Errorf("page 1 (-want +got):\n%s", diff)
	}
	if list.GetTotalCount() != 5 || resp.NextPage != 2 {
		t.Errorf("total %d, next page %d", list.GetTotalCount(), resp.NextPage)
	}

	// go-github has no direction option; a raw request carries it.
	req, err := c.NewRequest(t.Context(), "GET", "repos/octo/app/actions/runs/42/artifacts?direction=asc&name=test-results-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	var asc github.ArtifactList
	if _, err := c.Do(req, &asc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{run[3]}, idsOf(asc.Artifacts)); diff != "" {
		t.Errorf("filtered (-want +got):\n%s", diff)
	}
	req, _ = c.NewRequest(t.Context(), "GET", "repos/octo/app/actions/runs/42/artifacts?direction=asc", nil)
	if _, err := c.Do(req, &asc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{run[4], run[3], run[2], run[1], run[0]}, idsOf(asc.Artifacts)); diff != "" {
		t.Errorf("ascending (-want +got):\n%s", diff)
	}
}

func TestGoGitHubEnterpriseURLs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	f.add("octo/app", 3, fixed("x"), 0)
	c, err := github.NewClient(github.WithAuthToken(token), github.WithEnterpriseURLs(f.ts.URL, f.ts.URL))
	if err != nil {
		t.Fatal(err)
	}
	list, resp, err := c.Actions.ListArtifacts(t.Context(), "octo", "app", &github.ListArtifactsOptions{ListOptions: github.ListOptions{PerPage: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Artifacts) != 1 || resp.NextPage != 2 || !strings.Contains(resp.Header.Get("Link"), f.ts.URL+"/api/v3/repositories/") {
		t.Errorf("enterprise list: %d artifacts, next %d, Link %s", len(list.Artifacts), resp.NextPage, resp.Header.Get("Link"))
	}
}
