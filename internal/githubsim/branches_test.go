package githubsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The branch list on the wire: sorted objects with name, commit and
// protected; Link headers that point at /repositories/{id}/branches; the
// same answer by id; 304 to a matching If-None-Match; 404 for an unknown
// repository.
func TestServeBranches(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	s.SetBranches("Octo/App", "main", "release/1.0", "feature/a", "feature/b")
	r := serve(t, s, "GET", "/repos/octo/app/branches?per_page=3")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var page []struct {
		Name   string `json:"name"`
		Commit struct {
			SHA string `json:"sha"`
			URL string `json:"url"`
		} `json:"commit"`
		Protected bool `json:"protected"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range page {
		names = append(names, b.Name)
		if len(b.Commit.SHA) != 40 || !strings.Contains(b.Commit.URL, "/commits/"+b.Commit.SHA) || b.Protected != (b.Name == "main") {
			t.Errorf("branch %+v", b)
		}
	}
	if diff := cmp.Diff([]string{"feature/a", "feature/b", "main"}, names); diff != "" {
		t.Errorf("page 1 (-want +got):\n%s", diff)
	}
	id := s.repos["octo/app"].id
	base := "http://example.com/repositories/" + itoa(int(id)) + "/branches?per_page=3&page="
	if want := "<" + base + `2>; rel="next", <` + base + `2>; rel="last"`; r.header.Get("Link") != want {
		t.Errorf("Link %q, want %q", r.header.Get("Link"), want)
	}
	byID := serve(t, s, "GET", "/repositories/"+itoa(int(id))+"/branches?per_page=3&page=2")
	if byID.status != http.StatusOK || !strings.Contains(string(byID.body), `"release/1.0"`) || byID.header.Get("Link") == "" {
		t.Errorf("page 2 by id: %d %s", byID.status, byID.body)
	}
	if nm := serve(t, s, "GET", "/repos/octo/app/branches?per_page=3", "If-None-Match", r.header.Get("ETag")); nm.status != http.StatusNotModified || len(nm.body) != 0 {
		t.Errorf("conditional: %d %q", nm.status, nm.body)
	}
	// Deleting release/1.0 (page 2) changes page 2; page 1 changes too,
	// but only because its Link header loses page 2.
	s.DeleteBranch("octo/app", "release/1.0")
	if nm := serve(t, s, "GET", "/repos/octo/app/branches?per_page=3&page=2", "If-None-Match", byID.header.Get("ETag")); nm.status != http.StatusOK {
		t.Errorf("page 2 after its deletion: %d", nm.status)
	}
	if got := s.Branches("octo/app"); len(got) != 3 {
		t.Errorf("Branches = %v", got)
	}
	// With pages to spare, a deletion on the last page leaves page 1 as it was.
	s.SetBranches("octo/app", "a", "b", "c", "d", "e", "f", "g", "h")
	first := serve(t, s, "GET", "/repos/octo/app/branches?per_page=3").header.Get("ETag")
	s.DeleteBranch("octo/app", "h")
	if nm := serve(t, s, "GET", "/repos/octo/app/branches?per_page=3", "If-None-Match", first); nm.status != http.StatusNotModified {
		t.Errorf("page 1 after a deletion on page 3: %d", nm.status)
	}
	if nf := serve(t, s, "GET", "/repos/octo/none/branches"); nf.status != http.StatusNotFound {
		t.Errorf("unknown repository: %d", nf.status)
	}
	if post := serve(t, s, "POST", "/repos/octo/app/branches"); post.status != http.StatusNotFound {
		t.Errorf("POST: %d", post.status)
	}
}
