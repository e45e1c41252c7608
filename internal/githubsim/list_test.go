package githubsim

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

func TestListLinkRels(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	ids := seed(s, "octo/app", 5)
	rid, _ := s.RepositoryID("octo/app")
	link := func(query string, page int) string {
		return fmt.Sprintf("<http://example.com/repositories/%d/actions/artifacts?%spage=%d>", rid, query, page)
	}
	middle := link("per_page=2&", 1) + `; rel="prev", ` + link("per_page=2&", 3) + `; rel="next", ` +
		link("per_page=2&", 3) + `; rel="last", ` + link("per_page=2&", 1) + `; rel="first"`
	tests := []struct {
		name      string
		target    string
		wantTotal int
		wantIDs   []int64
		wantLink  string
	}{
		{
			name:      "first page has next and last",
			target:    "/repos/octo/app/actions/artifacts?per_page=2",
			wantTotal: 5,
			wantIDs:   ids[0:2],
			wantLink:  link("per_page=2&", 2) + `; rel="next", ` + link("per_page=2&", 3) + `; rel="last"`,
		},
		{
			name:      "middle page has prev, next, last and first",
			target:    "/repos/octo/app/actions/artifacts?per_page=2&page=2",
			wantTotal: 5,
			wantIDs:   ids[2:4],
			wantLink:  middle,
		},
		{
			name:      "last page has prev and first",
			target:    "/repos/octo/app/actions/artifacts?page=3&per_page=2",
			wantTotal: 5,
			wantIDs:   ids[4:5],
			wantLink:  link("per_page=2&", 2) + `; rel="prev", ` + link("per_page=2&", 1) + `; rel="first"`,
		},
		{
			name:      "single page has no Link",
			target:    "/repos/octo/app/actions/artifacts?per_page=5",
			wantTotal: 5,
			wantIDs:   ids,
		},
		{
			name:      "page beyond the end is empty",
			target:    "/repos/octo/app/actions/artifacts?per_page=2&page=9",
			wantTotal: 5,
			wantIDs:   []int64{},
			wantLink:  link("per_page=2&", 8) + `; rel="prev", ` + link("per_page=2&", 1) + `; rel="first"`,
		},
		{
			name:      "repository id path pages the same",
			target:    fmt.Sprintf("/repositories/%d/actions/artifacts?per_page=2&page=2", rid),
			wantTotal: 5,
			wantIDs:   ids[2:4],
			wantLink:  middle,
		},
		{
			name:      "owner and name are case-insensitive",
			target:    "/repos/OCTO/App/actions/artifacts?per_page=2&page=2",
			wantTotal: 5,
			wantIDs:   ids[2:4],
			wantLink:  middle,
		},
		{
			name:      "other query parameters are kept before page",
			target:    "/repos/octo/app/actions/artifacts?name=art-1&page=1&per_page=1",
			wantTotal: 1,
			wantIDs:   ids[3:4],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := serve(t, s, "GET", tt.target)
			l := decodeList(t, r)
			if *l.TotalCount != tt.wantTotal {
				t.Errorf("total_count = %d, want %d", *l.TotalCount, tt.wantTotal)
			}
			if diff := cmp.Diff(tt.wantIDs, listIDs(l)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if got := r.header.Get("Link"); got != tt.wantLink {
				t.Errorf("Link =\n%s\nwant\n%s", got, tt.wantLink)
			}
			if _, ok := r.header["Link"]; !ok && tt.wantLink != "" {
				t.Error("no Link header")
			}
		})
	}
}

func TestListLinkKeepsQueryOrder(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	seed(s, "octo/app", 3)
	rid, _ := s.RepositoryID("octo/app")
	r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts?page=2&foo=b%20r&per_page=1")
	want := fmt.Sprintf("<http://example.com/repositories/%d/actions/artifacts?foo=b%%20r&per_page=1&page=1>; rel=\"prev\"", rid)
	if got := r.header.Get("Link"); !strings.HasPrefix(got, want) {
		t.Errorf("Link = %s, want prefix %s", got, want)
	}
}

func TestListPerPage(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	seed(s, "octo/app", 205)
	rid, _ := s.RepositoryID("octo/app")
	tests := []struct {
		query     string
		wantItems int
		wantNext  string
	}{
		{"", 30, "?page=2>"},
		{"?per_page=101", 100, "?per_page=101&page=2>"},
		{"?per_page=100", 100, "?per_page=100&page=2>"},
		{"?per_page=0", 30, "?per_page=0&page=2>"},
		{"?per_page=abc", 30, "?per_page=abc&page=2>"},
		{"?per_page=7&page=0", 7, "?per_page=7&page=2>"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts"+tt.query)
			l := decodeList(t, r)
			if len(l.Artifacts) != tt.wantItems {
				t.Errorf("got %d artifacts, want %d", len(l.Artifacts), tt.wantItems)
			}
			wantNext := fmt.Sprintf("<http://example.com/repositories/%d/actions/artifacts%s; rel=\"next\"", rid, tt.wantNext)
			if got := r.header.Get("Link"); !strings.HasPrefix(got, wantNext) {
				t.Errorf("Link = %s, want it to start with %s", got, wantNext)
			}
		})
	}
}

func TestListLastPageFromCappedPerPage(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	seed(s, "octo/app", 205)
	r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts?per_page=500")
	if got := r.header.Get("Link"); !strings.Contains(got, "per_page=500&page=3>; rel=\"last\"") {
		t.Errorf("Link = %s, want last page 3 computed from 100 per page and per_page=500 echoed", got)
	}
}

func TestListJSON(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	created := time.Date(2026, 2, 3, 4, 5, 6, 0, time.FixedZone("x", 3600))
	full := s.AddArtifact(artifact.Artifact{
		Repository: "Octo/App", Name: "build \"linux\"", SizeInBytes: 42,
		CreatedAt: created, UpdatedAt: created, ExpiresAt: created.Add(time.Hour),
		Digest:        "sha256:abc",
		WorkflowRunID: 77, Branch: "feature/ü", HeadSHA: "deadbeef",
	})
	bare := s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "old", Expired: true})
	rid, _ := s.RepositoryID("octo/app")
	l := decodeList(t, serve(t, s, "GET", "/repos/octo/app/actions/artifacts"))

	str := func(s string) *string { return &s }
	want := []jsonArtifact{
		{
			ID: bare, NodeID: nodeID(bare), Name: "old", Expired: true,
			URL:                fmt.Sprintf("http://example.com/repos/Octo/App/actions/artifacts/%d", bare),
			ArchiveDownloadURL: fmt.Sprintf("http://example.com/repos/Octo/App/actions/artifacts/%d/zip", bare),
		},
		{
			ID: full, NodeID: nodeID(full), Name: "build \"linux\"", SizeInBytes: 42,
			URL:                fmt.Sprintf("http://example.com/repos/Octo/App/actions/artifacts/%d", full),
			ArchiveDownloadURL: fmt.Sprintf("http://example.com/repos/Octo/App/actions/artifacts/%d/zip", full),
			CreatedAt:          str("2026-02-03T03:05:06Z"), UpdatedAt: str("2026-02-03T03:05:06Z"),
			ExpiresAt: str("2026-02-03T04:05:06Z"), Digest: str("sha256:abc"),
		},
	}
	want[1].WorkflowRun = &struct {
		ID               int64  `json:"id"`
		RepositoryID     int64  `json:"repository_id"`
		HeadRepositoryID int64  `json:"head_repository_id"`
		HeadBranch       string `json:"head_branch"`
		HeadSHA          string `json:"head_sha"`
	}{77, rid, rid, "feature/ü", "deadbeef"}
	if diff := cmp.Diff(want, l.Artifacts); diff != "" {
		t.Errorf("artifacts (-want +got):\n%s", diff)
	}
	if *l.TotalCount != 2 {
		t.Errorf("total_count = %d, want 2", *l.TotalCount)
	}
	raw := string(serve(t, s, "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", bare)).body)
	for _, null := range []string{`"created_at":null`, `"updated_at":null`, `"expires_at":null`, `"digest":null`, `"workflow_run":null`} {
		if !strings.Contains(raw, null) {
			t.Errorf("body %s lacks %s", raw, null)
		}
	}
}

func TestListSchemeHostAndPrefix(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	ids := seed(s, "octo/app", 3)
	rid, _ := s.RepositoryID("octo/app")

	req := httptest.NewRequest("GET", "/api/v3/repos/octo/app/actions/artifacts?per_page=1", nil)
	req.Host = "ghe.example:8443"
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	r := result{rec.Code, rec.Header(), rec.Body.Bytes()}
	l := decodeList(t, r)
	wantURL := fmt.Sprintf("https://ghe.example:8443/api/v3/repos/octo/app/actions/artifacts/%d", ids[0])
	if l.Artifacts[0].URL != wantURL {
		t.Errorf("url = %s, want %s", l.Artifacts[0].URL, wantURL)
	}
	wantNext := fmt.Sprintf("<https://ghe.example:8443/api/v3/repositories/%d/actions/artifacts?per_page=1&page=2>; rel=\"next\"", rid)
	if got := r.header.Get("Link"); !strings.HasPrefix(got, wantNext) {
		t.Errorf("Link = %s, want prefix %s", got, wantNext)
	}
}

func TestListNameFilter(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	var want []int64
	for i := range 7 {
		name := "other"
		if i%2 == 0 {
			name = "build"
		}
		id := s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: name})
		if name == "build" {
			want = append([]int64{id}, want...)
		}
	}
	rid, _ := s.RepositoryID("octo/app")
	r := serve(t, s, "GET", "/repos/octo/app/actions/artifacts?name=build&per_page=3")
	l := decodeList(t, r)
	if *l.TotalCount != 4 {
		t.Errorf("total_count = %d, want 4 (only build)", *l.TotalCount)
	}
	if diff := cmp.Diff(want[:3], listIDs(l)); diff != "" {
		t.Errorf("page 1 ids (-want +got):\n%s", diff)
	}
	wantLink := fmt.Sprintf(`<http://example.com/repositories/%d/actions/artifacts?name=build&per_page=3&page=2>; rel="next", `+
		`<http://example.com/repositories/%d/actions/artifacts?name=build&per_page=3&page=2>; rel="last"`, rid, rid)
	if got := r.header.Get("Link"); got != wantLink {
		t.Errorf("Link = %s, want %s", got, wantLink)
	}
	l = decodeList(t, serve(t, s, "GET", fmt.Sprintf("/repositories/%d/actions/artifacts?name=build&per_page=3&page=2", rid)))
	if diff := cmp.Diff(want[3:], listIDs(l)); diff != "" {
		t.Errorf("page 2 ids (-want +got):\n%s", diff)
	}
	l = decodeList(t, serve(t, s, "GET", "/repos/octo/app/actions/artifacts?name=nothing"))
	if *l.TotalCount != 0 || len(l.Artifacts) != 0 {
		t.Errorf("unknown name: total %d, %d artifacts; want 0, 0", *l.TotalCount, len(l.Artifacts))
	}
}

func TestListDeleteShiftsLaterPages(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	ids := seed(s, "octo/app", 6)
	page1 := decodeList(t, serve(t, s, "GET", "/repos/octo/app/actions/artifacts?per_page=2"))
	if diff := cmp.Diff(ids[0:2], listIDs(page1)); diff != "" {
		t.Fatalf("page 1 (-want +got):\n%s", diff)
	}
	// A client deleting what it just saw, then asking for page 2, skips ids[2:4].
	for _, id := range listIDs(page1) {
		if r := serve(t, s, "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", id)); r.status != http.StatusNoContent {
			t.Fatalf("DELETE status = %d", r.status)
		}
	}
	page2 := decodeList(t, serve(t, s, "GET", "/repos/octo/app/actions/artifacts?per_page=2&page=2"))
	if diff := cmp.Diff(ids[4:6], listIDs(page2)); diff != "" {
		t.Errorf("page 2 after deleting page 1 (-want +got):\n%s", diff)
	}
	if *page2.TotalCount != 4 {
		t.Errorf("total_count = %d, want 4", *page2.TotalCount)
	}
	// An external deletion shifts pages the same way.
	s.RemoveArtifact("octo/app", ids[2])
	page1 = decodeList(t, serve(t, s, "GET", "/repos/octo/app/actions/artifacts?per_page=2"))
	if diff := cmp.Diff(ids[3:5], listIDs(page1)); diff != "" {
		t.Errorf("page 1 after external removal (-want +got):\n%s", diff)
	}
}

func TestListRun(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	var run []int64 // oldest first
	for i := range 5 {
		name := "build"
		if i == 2 {
			name = "coverage"
		}
		run = append(run, s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: name, WorkflowRunID: 42}))
		s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "build", WorkflowRunID: 43})
	}
	s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "orphan"})
	rid, _ := s.RepositoryID("octo/app")
	desc := []int64{run[4], run[3], run[2], run[1], run[0]}
	tests := []struct {
		name      string
		target    string
		wantTotal int
		wantIDs   []int64
		wantLink  string
	}{
		{"default is desc", "/repos/octo/app/actions/runs/42/artifacts", 5, desc, ""},
		{"desc", "/repos/octo/app/actions/runs/42/artifacts?direction=desc", 5, desc, ""},
		{"asc", "/repos/octo/app/actions/runs/42/artifacts?direction=asc", 5, run, ""},
		{"name", "/repos/octo/app/actions/runs/42/artifacts?name=build&direction=asc", 4, []int64{run[0], run[1], run[3], run[4]}, ""},
		{
			"asc paged", "/repos/octo/app/actions/runs/42/artifacts?direction=asc&per_page=2&page=2", 5, run[2:4],
			fmt.Sprintf(`<http://example.com/repositories/%[1]d/actions/runs/42/artifacts?direction=asc&per_page=2&page=1>; rel="prev", `+
				`<http://example.com/repositories/%[1]d/actions/runs/42/artifacts?direction=asc&per_page=2&page=3>; rel="next", `+
				`<http://example.com/repositories/%[1]d/actions/runs/42/artifacts?direction=asc&per_page=2&page=3>; rel="last", `+
				`<http://example.com/repositories/%[1]d/actions/runs/42/artifacts?direction=asc&per_page=2&page=1>; rel="first"`, rid),
		},
		{"by repository id", fmt.Sprintf("/repositories/%d/actions/runs/42/artifacts?per_page=2&page=3", rid), 5, run[0:1], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := serve(t, s, "GET", tt.target)
			l := decodeList(t, r)
			if *l.TotalCount != tt.wantTotal {
				t.Errorf("total_count = %d, want %d", *l.TotalCount, tt.wantTotal)
			}
			if diff := cmp.Diff(tt.wantIDs, listIDs(l)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if tt.wantLink != "" && r.header.Get("Link") != tt.wantLink {
				t.Errorf("Link =\n%s\nwant\n%s", r.header.Get("Link"), tt.wantLink)
			}
		})
	}
}

func TestListRunEmptiedAndUnknown(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	id := s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "x", WorkflowRunID: 7})
	s.RemoveArtifact("octo/app", id)
	l := decodeList(t, serve(t, s, "GET", "/repos/octo/app/actions/runs/7/artifacts"))
	if *l.TotalCount != 0 || len(l.Artifacts) != 0 {
		t.Errorf("emptied run: total %d, %d artifacts; want 0, 0", *l.TotalCount, len(l.Artifacts))
	}
	if r := serve(t, s, "GET", "/repos/octo/app/actions/runs/8/artifacts"); r.status != http.StatusNotFound {
		t.Errorf("unknown run: status %d, want 404", r.status)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	id := seed(s, "octo/app", 1)[0]
	other := seed(s, "octo/other", 1)[0]
	tests := []struct {
		name, method, target, wantDoc string
	}{
		{"unknown repository", "GET", "/repos/octo/nope/actions/artifacts", docArtifacts + "#list-artifacts-for-a-repository"},
		{"unknown repository id", "GET", "/repositories/1/actions/artifacts", docArtifacts + "#list-artifacts-for-a-repository"},
		{"unknown artifact", "GET", "/repos/octo/app/actions/artifacts/1", docArtifacts + "#get-an-artifact"},
		{"artifact of another repository", "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", other), docArtifacts + "#get-an-artifact"},
		{"delete unknown", "DELETE", "/repos/octo/app/actions/artifacts/1", docArtifacts + "#delete-an-artifact"},
		{"download unknown", "GET", "/repos/octo/app/actions/artifacts/1/zip", docArtifacts + "#download-an-artifact"},
		{"download tar", "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d/tar", id), docArtifacts + "#download-an-artifact"},
		{"unknown path", "GET", "/repos/octo/app/actions/secrets", docRoot},
		{"wrong method", "POST", "/repos/octo/app/actions/artifacts", docRoot},
		{"non-numeric id", "GET", "/repos/octo/app/actions/artifacts/abc", docRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := serve(t, s, tt.method, tt.target)
			if r.status != http.StatusNotFound {
				t.Fatalf("status = %d, want 404", r.status)
			}
			want := errorBody{Message: "Not Found", DocumentationURL: tt.wantDoc, Status: "404"}
			if diff := cmp.Diff(want, decodeError(t, r)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if r.header.Get("X-RateLimit-Remaining") == "" {
				t.Error("404 lacks x-ratelimit-remaining")
			}
		})
	}
}

func TestGetAndDelete(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	ids := seed(s, "octo/app", 2)
	r := serve(t, s, "GET", fmt.Sprintf("/repos/OCTO/App/actions/artifacts/%d", ids[0]))
	if r.status != http.StatusOK || r.header.Get("Content-Type") != jsonContentType {
		t.Fatalf("get: status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
	if !strings.HasPrefix(string(r.body), fmt.Sprintf(`{"id":%d,`, ids[0])) {
		t.Errorf("get body %s", r.body)
	}
	r = serve(t, s, "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[0]))
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("delete: status %d, body %q; want 204 and empty", r.status, r.body)
	}
	if s.Exists("octo/app", ids[0]) {
		t.Error("artifact still exists after DELETE")
	}
	if r := serve(t, s, "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", ids[0])); r.status != http.StatusNotFound {
		t.Errorf("second delete: status %d, want 404", r.status)
	}
	rid, _ := s.RepositoryID("octo/app")
	if r := serve(t, s, "DELETE", fmt.Sprintf("/repositories/%d/actions/artifacts/%d", rid, ids[1])); r.status != http.StatusNoContent {
		t.Errorf("delete by repository id: status %d, want 204", r.status)
	}
}

func TestReadOnlyDelete(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, message, want string
	}{
		{"personal access token", "", "Resource not accessible by personal access token"},
		{"integration", "Resource not accessible by integration", "Resource not accessible by integration"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newSim(t, Options{ReadOnly: true, ForbiddenMessage: tt.message})
			id := seed(s, "octo/app", 1)[0]
			r := serve(t, s, "DELETE", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d", id))
			if r.status != http.StatusForbidden {
				t.Fatalf("status = %d, want 403", r.status)
			}
			if got := decodeError(t, r).Message; got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
			if !s.Exists("octo/app", id) {
				t.Error("read-only DELETE removed the artifact")
			}
		})
	}
}
