package github

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
)

// TestSimListArtifactsPageConditional walks one repository's first page
// through the life an incremental scan gives it: fetched, unchanged (304,
// free), changed (200, a new ETag, charged), unchanged again.
func TestSimListArtifactsPageConditional(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	repo := f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 150, Now: t0})[0]

	first, err := f.c.ListArtifactsPage(t.Context(), repo, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if first.NotModified || len(first.Artifacts) != 100 || first.TotalCount != 150 || first.NextPage != 2 || !first.Counted || first.Requests != 1 {
		t.Fatalf("first fetch = %s, want 100 of 150, next page 2, counted, one request", describe(first))
	}
	if !strings.HasPrefix(first.ETag, `W/"`) {
		t.Fatalf("ETag = %q, want the simulator's weak tag", first.ETag)
	}
	before := f.c.RateLimit()

	same, err := f.c.ListArtifactsPage(t.Context(), repo, 1, first.ETag)
	if err != nil {
		t.Fatal(err)
	}
	want := Page{ETag: first.ETag, NotModified: true, Counted: false, Requests: 1}
	if diff := cmp.Diff(want, same, cmp.AllowUnexported(Page{})); diff != "" {
		t.Errorf("unchanged page (-want +got):\n%s", diff)
	}
	if after := f.c.RateLimit(); after.Remaining != before.Remaining || !after.Known {
		t.Errorf("remaining went from %d to %d over a 304; a 304 is free", before.Remaining, after.Remaining)
	}

	newest := f.sim.AddArtifact(artifact.Artifact{Repository: repo, Name: "fresh", SizeInBytes: 1, CreatedAt: t0})
	changed, err := f.c.ListArtifactsPage(t.Context(), repo, 1, first.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if changed.NotModified || changed.ETag == "" || changed.ETag == first.ETag || !changed.Counted {
		t.Fatalf("after a change = %s, want a 200 with a new ETag, counted", describe(changed))
	}
	if len(changed.Artifacts) != 100 || changed.Artifacts[0].ID != newest || changed.TotalCount != 151 {
		t.Errorf("after a change: first id %d of %d, total %d; want the new artifact %d first, 151 in all",
			changed.Artifacts[0].ID, len(changed.Artifacts), changed.TotalCount, newest)
	}
	if got := f.c.RateLimit().Remaining; got != before.Remaining-1 {
		t.Errorf("remaining = %d after a 200, want %d", got, before.Remaining-1)
	}

	again, err := f.c.ListArtifactsPage(t.Context(), repo, 1, changed.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if !again.NotModified || again.Counted || again.ETag != changed.ETag {
		t.Errorf("unchanged after the change = %s, want a free 304 with the new ETag", describe(again))
	}
	if got := f.sim.Requests()["GET list"]; got != 4 {
		t.Errorf("sim saw %d list requests, want 4", got)
	}
}

// TestSimListArtifactsPageLastPage: the last page has no next page, and an
// ETag for one page says nothing about another.
func TestSimListArtifactsPageLastPage(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	repo := f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 150, Now: t0})[0]
	one, err := f.c.ListArtifactsPage(t.Context(), repo, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	two, err := f.c.ListArtifactsPage(t.Context(), repo, 2, one.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if two.NotModified || len(two.Artifacts) != 50 || two.NextPage != 0 || two.TotalCount != 150 || two.ETag == one.ETag {
		t.Errorf("page 2 = %s, want the last 50, no next page, its own ETag", describe(two))
	}
	if got, want := ids(append(one.Artifacts, two.Artifacts...)), ids(f.sim.Artifacts(repo)); !cmp.Equal(got, want) {
		t.Errorf("pages 1 and 2 hold %d ids that differ from the simulator's %d", len(got), len(want))
	}
}

// TestSimListArtifactsPageExhaustedBudget: with the primary limit spent, a
// conditional request for an unchanged page still gets its free 304 at once,
// while a changed page waits for the reset like any request.
func TestSimListArtifactsPageExhaustedBudget(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	repo := f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 10, Now: t0})[0]
	first, err := f.c.ListArtifactsPage(t.Context(), repo, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	f.sim.SetRateLimit(0, t0.Add(5*time.Minute))

	same, err := f.c.ListArtifactsPage(t.Context(), repo, 1, first.ETag)
	if err != nil || !same.NotModified || same.Counted {
		t.Fatalf("unchanged page with the budget spent = %s, %v; want a free 304", describe(same), err)
	}
	if len(f.clock.Sleeps()) != 0 {
		t.Errorf("slept %v for a 304", f.clock.Sleeps())
	}
	if st := f.c.RateLimit(); st.Remaining != 0 {
		t.Errorf("RateLimit() = %+v, want the spent budget the 304 reported", st)
	}

	f.sim.RemoveArtifact(repo, first.Artifacts[0].ID)
	changed, err := f.c.ListArtifactsPage(t.Context(), repo, 1, first.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if changed.NotModified || len(changed.Artifacts) != 9 || changed.Requests != 2 || !changed.Counted {
		t.Errorf("changed page = %s, want 9 artifacts after one wait (two requests)", describe(changed))
	}
	if diff := cmp.Diff([]time.Duration{5*time.Minute + time.Second}, f.clock.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

// TestListArtifactsPageRequest checks what a conditional page request sends.
func TestListArtifactsPageRequest(t *testing.T) {
	t.Parallel()
	const etag = `W/"0123abcd"`
	s := newScript(func(w http.ResponseWriter, r *http.Request) {
		rate(w, 5000, 4000, t0.Add(time.Hour))
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
	})
	h := newHarness(t, s)
	p, err := h.c.ListArtifactsPage(t.Context(), "o/r", 3, etag)
	if err != nil {
		t.Fatal(err)
	}
	if !p.NotModified || p.ETag != etag {
		t.Errorf("page = %s, want a 304 with the ETag", describe(p))
	}
	r := s.requests()[0]
	got := map[string]string{"uri": r.URL.RequestURI(), "If-None-Match": r.Header.Get("If-None-Match"), "Authorization": r.Header.Get("Authorization")}
	want := map[string]string{"uri": "/repos/o/r/actions/artifacts?page=3&per_page=100", "If-None-Match": etag, "Authorization": "Bearer " + testToken}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}

	// Only the conditional call carries the ETag.
	if _, err := h.c.GetArtifact(t.Context(), "o/r", 1); err == nil {
		t.Error("GetArtifact answered 304 succeeded, want an error")
	}
	if got := s.requests()[1].Header.Get("If-None-Match"); got != "" {
		t.Errorf("unconditional request sent If-None-Match %q", got)
	}
}

func TestListArtifactsPageErrors(t *testing.T) {
	t.Parallel()
	t.Run("page 0", func(t *testing.T) {
		t.Parallel()
		s := newScript(okList())
		h := newHarness(t, s)
		if _, err := h.c.ListArtifactsPage(t.Context(), "o/r", 0, ""); err == nil || s.count() != 0 {
			t.Errorf("page 0: err = %v after %d requests, want a refusal before sending", err, s.count())
		}
	})
	t.Run("304 to an unconditional request", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, newScript(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotModified) }))
		_, err := h.c.ListArtifactsPage(t.Context(), "o/r", 1, "")
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotModified {
			t.Errorf("err = %v, want an *APIError with status 304", err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, newScript(fail(http.StatusNotFound, "Not Found", "")))
		_, err := h.c.ListArtifactsPage(t.Context(), "o/r", 2, `W/"x"`)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "listing artifacts of o/r page 2: GET /repos/o/r/actions/artifacts: 404 Not Found") {
			t.Errorf("err = %v, want ErrNotFound saying what was listed", err)
		}
	})
}

// describe prints a page without its artifacts.
func describe(p Page) string {
	return fmt.Sprintf("{%d artifacts, total %d, next page %d, ETag %q, not modified %t, counted %t, %d requests}",
		len(p.Artifacts), p.TotalCount, p.NextPage, p.ETag, p.NotModified, p.Counted, p.Requests)
}
