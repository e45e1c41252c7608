package github

import (
	"strings"
	"testing"
)

func TestOwnerOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ base, path, want string }{
		{"/", "/repos/acme/api/actions/artifacts", "acme"},
		{"/", "/orgs/Acme/repos", "Acme"},
		{"/", "/users/octocat/repos", "octocat"},
		{"/api/v3/", "/api/v3/repos/acme/api/actions/artifacts/5", "acme"},
		{"/api/v3/", "/repos/acme/api", ""}, // not under the API root
		{"/", "/repositories/42/actions/artifacts", ""},
		{"/", "/rate_limit", ""},
		{"/", "/installation/repositories", ""},
		{"/", "/repos//x", ""},
		{"/", "/repos", ""},
	} {
		if got := ownerOf(tc.base, tc.path); got != tc.want {
			t.Errorf("ownerOf(%q, %q) = %q, want %q", tc.base, tc.path, got, tc.want)
		}
	}
}

// FuzzOwnerOf: any path gives an owner that is one whole segment of it.
func FuzzOwnerOf(f *testing.F) {
	for _, p := range []string{"/repos/acme/api/actions", "/api/v3/orgs/x/repos", "/users/", "//", "/repos/a%2Fb/c"} {
		f.Add("/", p)
		f.Add("/api/v3/", p)
	}
	f.Fuzz(func(t *testing.T, base, path string) {
		owner := ownerOf(base, path)
		if owner != "" && (strings.Contains(owner, "/") || !strings.Contains(path, "/"+owner)) {
			t.Fatalf("ownerOf(%q, %q) = %q", base, path, owner)
		}
	})
}
