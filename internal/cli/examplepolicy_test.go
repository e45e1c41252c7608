package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/retentiond/retentiond"
	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/policy"
)

// TestExamplePolicyRefusesToDelete: the image's default policy is the
// example, so a container started with DRY_RUN=false and no policy mounted
// must not delete with it; a dry-run under it warns and goes on.
func TestExamplePolicyRefusesToDelete(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	example, err := policy.ParseFile("example", retentiond.ExamplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	// Six of a name on a feature branch, two months old: the example keeps
	// the three newest and deletes the rest (stale-branch-artifacts).
	// The example selects octo-org/*: two repositories of that organisation.
	if got := example.Selector.PatternOwners(); !slices.Equal(got, []string{"octo-org"}) {
		t.Fatalf("the example's pattern owners are %v; this test gives octo-org repositories", got)
	}
	for _, repo := range []artifact.Repository{"octo-org/api", "octo-org/web"} {
		w.Add(repo, 6, func(i int, a *artifact.Artifact) { a.Branch = "feature/x"; a.CreatedAt = a.CreatedAt.AddDate(0, -2, 0) })
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(file, retentiond.ExamplePolicy, 0o600); err != nil {
		t.Fatal(err)
	}
	archiveDir := filepath.Join(dir, "archive")
	if err := os.Mkdir(archiveDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Nothing is sent to this URL: the refusal comes first.
	real := w.with("POLICY_FILE", file, "ARCHIVE_DIR", archiveDir, "GITHUB_API_URL", "https://api.github.com", "HTTP_ADDR", "127.0.0.1:0")
	runsBefore := countRuns(t, w)
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"run with DRY_RUN=false", withVar(real, "DRY_RUN", "false"), []string{"run"}},
		{"run --dry-run=false", real, []string{"run", "--dry-run=false"}},
		{"serve with DRY_RUN=false", withVar(real, "DRY_RUN", "false"), []string{"serve"}},
	} {
		r := runWith(t, c.env, w.Clock, c.args...)
		if r.code != 2 || !strings.Contains(r.err.Error(), "POLICY_FILE: "+file+" is the example policy") ||
			!strings.Contains(r.err.Error(), "/etc/retentiond/policies.yaml") {
			t.Errorf("%s: exit %d %v, want 2 naming POLICY_FILE and where to mount a policy", c.name, r.code, r.err)
		}
	}
	if n := countRuns(t, w); n != runsBefore {
		t.Errorf("%d runs recorded by refused commands", n-runsBefore)
	}

	// A dry-run under the example goes on, and says so.
	sim := w.with("POLICY_FILE", file, "ARCHIVE_DIR", archiveDir)
	r := runWith(t, sim, w.Clock, "run")
	if r.code != 0 || !strings.Contains(r.stderr, "is the example policy shipped with retentiond") {
		t.Fatalf("dry-run under the example policy: exit %d %v, want 0 and a warning\n%s", r.code, r.err, r.stderr)
	}
	// Against the simulator (a loopback API) it may delete, as demo --keep
	// invites, with the same warning.
	r = runWith(t, sim, w.Clock, "run", "--dry-run=false")
	if r.code != 0 || !strings.Contains(r.stderr, "only because GITHUB_API_URL is on this machine") {
		t.Fatalf("real run under the example policy against the simulator: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	if d := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]; d == 0 {
		t.Error("no DELETE against the simulator")
	}
	// One byte changed and it is the operator's policy: no warning.
	if err := os.WriteFile(file, append(retentiond.ExamplePolicy, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runWith(t, sim, w.Clock, "run"); r.code != 0 || strings.Contains(r.stderr, "example policy") {
		t.Errorf("an edited policy: exit %d %v, want 0 and no example warning\n%s", r.code, r.err, r.stderr)
	}
}

func withVar(env map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range env {
		if key != k {
			out[key] = val
		}
	}
	return out
}

func countRuns(t *testing.T, w *world) int {
	t.Helper()
	var n int
	if err := w.Store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM runs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
