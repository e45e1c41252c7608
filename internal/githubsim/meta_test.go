package githubsim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/githubsim"
)

// GET /rate_limit reports the core budget through go-github and costs none
// of it; a bad token gets 401 there as everywhere.
func TestRateLimitEndpointIsFree(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{RateLimit: 100})
	f.add("octo/api", 1, fixed("a"), 1)
	c := f.client(t, token)
	ctx := context.Background()
	if _, _, err := c.Actions.ListArtifacts(ctx, "octo", "api", nil); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		rl, _, err := c.RateLimit.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := rl.GetCore(); got.Limit != 100 || got.Remaining != 99 || !got.Reset.Time.Equal(start.Add(3600e9)) {
			t.Errorf("core = %+v, want limit 100, remaining 99 (the list only), reset an hour after start", got)
		}
	}
	_, _, err := f.client(t, "wrong").RateLimit.Get(ctx)
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad token: %v, want 401", err)
	}
}

// GET /repos/{owner}/{repo} carries the user's permissions: push is false
// on a read-only server; an unknown repository is 404.
func TestRepositoryPermissions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		readOnly bool
		push     bool
	}{{"write", false, true}, {"read only", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, githubsim.Options{ReadOnly: c.readOnly})
			f.add("Octo/API", 1, fixed("a"), 1)
			r, _, err := f.client(t, token).Repositories.Get(ctx, "octo", "api")
			if err != nil {
				t.Fatal(err)
			}
			if r.GetFullName() != "Octo/API" || r.GetPermissions().GetPush() != c.push || !r.GetPermissions().GetPull() || r.GetArchived() {
				t.Errorf("repository = %s permissions %+v archived %v, want Octo/API push %v", r.GetFullName(), r.GetPermissions(), r.GetArchived(), c.push)
			}
			_, resp, err := f.client(t, token).Repositories.Get(ctx, "octo", "nope")
			if err == nil || resp.StatusCode != http.StatusNotFound {
				t.Errorf("unknown repository: %v, want 404", err)
			}
		})
	}
}
