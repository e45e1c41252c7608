package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
)

func TestListArtifactsPages(t *testing.T) {
	t.Parallel()
	first := "/repos/o/r/actions/artifacts?page=1&per_page=100"
	tests := []struct {
		name      string
		n         int
		wantSizes []int
		wantURIs  []string
	}{
		{
			name:      "250 artifacts over three pages",
			n:         250,
			wantSizes: []int{100, 100, 50},
			wantURIs: []string{
				first,
				"/repos/o/r/actions/artifacts?page=2&per_page=100",
				"/repos/o/r/actions/artifacts?page=3&per_page=100",
			},
		},
		{name: "exactly one full page", n: 100, wantSizes: []int{100}, wantURIs: []string{first}},
		{name: "a single short page", n: 7, wantSizes: []int{7}, wantURIs: []string{first}},
		{name: "empty repository", n: 0, wantSizes: []int{0}, wantURIs: []string{first}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := &pagedRepo{n: tc.n}
			h := newHarness(t, repo)
			var got collect
			stats, err := h.c.ListArtifacts(t.Context(), "o/r", got.fn)
			if err != nil {
				t.Fatalf("ListArtifacts: %v", err)
			}
			if diff := cmp.Diff(ListStats{Pages: len(tc.wantSizes), Requests: len(tc.wantURIs), TotalCount: tc.n}, stats); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSizes, got.sizes); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantURIs, repo.seen()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			var wantIDs []int64
			for id := tc.n; id > 0; id-- {
				wantIDs = append(wantIDs, int64(id))
			}
			if diff := cmp.Diff(wantIDs, got.ids); diff != "" {
				t.Errorf("ids, newest first (-want +got):\n%s", diff)
			}
			if got := h.c.Requests(); got != int64(len(tc.wantURIs)) {
				t.Errorf("Requests() = %d, want %d", got, len(tc.wantURIs))
			}
			if len(h.clock.Sleeps()) != 0 {
				t.Errorf("slept %v, want no waits", h.clock.Sleeps())
			}
		})
	}
}

// TestListArtifactsConvertsEachPage checks the page handed to fn: the
// repository is the one asked for, not whatever GitHub echoes.
func TestListArtifactsConvertsEachPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &pagedRepo{n: 1})
	var pages [][]artifact.Artifact
	if _, err := h.c.ListArtifacts(t.Context(), "o/r", func(p []artifact.Artifact) error {
		pages = append(pages, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	created := t0.Add(-time.Minute)
	want := [][]artifact.Artifact{{{
		ID:                 1,
		Repository:         "o/r",
		NodeID:             "MDg6QXJ0aWZhY3Q1",
		Name:               "build-1",
		SizeInBytes:        1000,
		URL:                "https://api.github.com/repos/o/r/actions/artifacts/1",
		ArchiveDownloadURL: "https://api.github.com/repos/o/r/actions/artifacts/1/zip",
		CreatedAt:          created,
		UpdatedAt:          created,
		ExpiresAt:          created.Add(90 * 24 * time.Hour),
		Digest:             fmt.Sprintf("sha256:%064d", 1),
		WorkflowRunID:      7001,
		RepositoryID:       42,
		HeadRepositoryID:   42,
		Branch:             "main",
		HeadSHA:            fmt.Sprintf("%040d", 1),
	}}}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

func TestListArtifactsStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	repo := &pagedRepo{n: 250}
	h := newHarness(t, repo)
	errStop := errors.New("store is full")
	calls := 0
	stats, err := h.c.ListArtifacts(t.Context(), "o/r", func([]artifact.Artifact) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("err = %v, want %v", err, errStop)
	}
	if calls != 1 || len(repo.seen()) != 1 || stats.Pages != 1 {
		t.Errorf("calls=%d requests=%d pages=%d, want one of each", calls, len(repo.seen()), stats.Pages)
	}
}

func TestListRunArtifacts(t *testing.T) {
	t.Parallel()
	s := newScript(okList(ghArtifact(3), ghArtifact(2)))
	h := newHarness(t, s)
	var got collect
	stats, err := h.c.ListRunArtifacts(t.Context(), "o/r", 99, got.fn)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ListStats{Pages: 1, Requests: 1, TotalCount: 2}, stats); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if got, want := s.requests()[0].URL.RequestURI(), "/repos/o/r/actions/runs/99/artifacts?page=1&per_page=100"; got != want {
		t.Errorf("request = %s, want %s", got, want)
	}
	if diff := cmp.Diff([]int64{3, 2}, got.ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

func TestListArtifactsClientErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		step     http.HandlerFunc
		sentinel error
		wantText string
	}{
		{
			name:     "unknown repository",
			step:     fail(http.StatusNotFound, "Not Found", "https://docs.github.com/rest/actions/artifacts#list-artifacts-for-a-repository"),
			sentinel: ErrNotFound,
			wantText: "listing artifacts of o/r page 1: GET /repos/o/r/actions/artifacts: 404 Not Found",
		},
		{
			name:     "bad credentials",
			step:     fail(http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest"),
			sentinel: ErrUnauthorized,
			wantText: "GET /repos/o/r/actions/artifacts: 401 Unauthorized: Bad credentials",
		},
		{
			name:     "missing permission",
			step:     fail(http.StatusForbidden, "Resource not accessible by integration", "https://docs.github.com/rest"),
			wantText: "403 Forbidden: Resource not accessible by integration",
		},
		{
			name:     "unprocessable",
			step:     fail(http.StatusUnprocessableEntity, "Validation Failed", ""),
			wantText: "422 Unprocessable Entity: Validation Failed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newScript(tc.step, okList())
			h := newHarness(t, s)
			stats, err := h.c.ListArtifacts(t.Context(), "o/r", func([]artifact.Artifact) error {
				t.Error("fn called on a failed listing")
				return nil
			})
			if err == nil {
				t.Fatal("ListArtifacts succeeded, want an error")
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.sentinel)
			}
			for _, s := range []error{ErrNotFound, ErrUnauthorized, ErrExpired, ErrRateLimited} {
				if s != tc.sentinel && errors.Is(err, s) {
					t.Errorf("error %v also matches %v", err, s)
				}
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error = %q, want it to contain %q", err, tc.wantText)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Method != http.MethodGet {
				t.Errorf("errors.As(*APIError) = %+v", apiErr)
			}
			if s.count() != 1 || stats.Requests != 1 {
				t.Errorf("made %d requests (stats %d), want 1: client errors are not retried", s.count(), stats.Requests)
			}
			if len(h.clock.Sleeps()) != 0 {
				t.Errorf("slept %v", h.clock.Sleeps())
			}
		})
	}
}

// TestListArtifactsNextLinkHostIgnored: pages are asked for by number on
// the API host, so a next link pointing at another host takes nothing there.
func TestListArtifactsNextLinkHostIgnored(t *testing.T) {
	t.Parallel()
	foreign := newScript(okList())
	other := newHarness(t, foreign)
	s := newScript(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", fmt.Sprintf(`<%s/repositories/42/actions/artifacts?page=2>; rel="next"`, other.srv.URL))
		okList(ghArtifact(2))(w, r)
	}, okList(ghArtifact(1)))
	h := newHarness(t, s)
	var got collect
	stats, err := h.c.ListArtifacts(t.Context(), "o/r", got.fn)
	if err != nil {
		t.Fatal(err)
	}
	if foreign.count() != 0 {
		t.Errorf("foreign host got %d requests", foreign.count())
	}
	reqs := s.requests()
	if len(reqs) != 2 || reqs[1].URL.RequestURI() != "/repos/o/r/actions/artifacts?page=2&per_page=100" || reqs[1].Header.Get("Authorization") == "" {
		t.Errorf("requests %v, want page 2 from the API host with the token", reqs)
	}
	if diff := cmp.Diff([]int64{2, 1}, got.ids); diff != "" || stats.Pages != 2 {
		t.Errorf("pages = %d, ids (-want +got):\n%s", stats.Pages, diff)
	}
}

// fullPageOf answers with 100 artifacts out of total and the given Link header.
func fullPageOf(total int, link string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arts := make([]*gh.Artifact, perPage)
		for i := range arts {
			arts[i] = ghArtifact(int64(total - i))
		}
		if link != "" {
			w.Header().Set("Link", strings.ReplaceAll(link, "HOST", r.Host))
		}
		writeJSON(w, http.StatusOK, gh.ArtifactList{TotalCount: new(int64(total)), Artifacts: arts})
	}
}

// TestListArtifactsEndsEarly: go-github skips a Link entry it cannot read,
// so a listing whose page says more artifacts remain than it ends at, with no
// next page, fails rather than looking complete.
func TestListArtifactsEndsEarly(t *testing.T) {
	t.Parallel()
	for name, link := range map[string]string{
		"garbled Link":                    `<http://HOST/repositories/42/actions/artifacts?page=2; rel="next"`,
		"no Link at all":                  "",
		"next link without a page number": `<http://HOST/repositories/42/actions/artifacts?cursor=x>; rel="next"`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newScript(fullPageOf(250, link))
			h := newHarness(t, s)
			calls := 0
			_, err := h.c.ListArtifacts(t.Context(), "o/r", func([]artifact.Artifact) error { calls++; return nil })
			if err == nil || !strings.Contains(err.Error(), "GitHub counts 250 artifacts, this page ends at 100, and there is no next page") {
				t.Errorf("err = %v, want the listing to fail as incomplete", err)
			}
			if calls != 1 || s.count() != 1 {
				t.Errorf("fn called %d times after %d requests, want 1 and 1", calls, s.count())
			}
		})
	}
}

// TestListArtifactsNextPageGoesBack: a next page that is not a later one
// would loop, so the listing stops with an error.
func TestListArtifactsNextPageGoesBack(t *testing.T) {
	t.Parallel()
	s := newScript(fullPageOf(250, `<http://HOST/repositories/42/actions/artifacts?per_page=100&page=1>; rel="next"`))
	h := newHarness(t, s)
	_, err := h.c.ListArtifacts(t.Context(), "o/r", func([]artifact.Artifact) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "the next page is 1, not a later one") || s.count() != 1 {
		t.Errorf("err = %v after %d requests, want a loop detected after 1", err, s.count())
	}
}

// TestListArtifactsNullEntries: a null element in the artifacts array is skipped.
func TestListArtifactsNullEntries(t *testing.T) {
	t.Parallel()
	s := newScript(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"total_count": 2, "artifacts": []*gh.Artifact{nil, ghArtifact(5)}})
	})
	h := newHarness(t, s)
	var got collect
	if _, err := h.c.ListArtifacts(context.Background(), "o/r", got.fn); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{5}, got.ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}
