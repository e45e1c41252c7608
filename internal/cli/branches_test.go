package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
)

// run and plan wire branch listings: run lists the branches and deletes the
// artifacts of a deleted branch; plan, which makes no GitHub calls, decides
// from what run stored.
func TestRunListsBranchesForBranchDeleted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Add("octo/api", 2, func(i int, a *artifact.Artifact) {
		a.Name, a.Branch = "pr-build", "feature/merged"
		a.CreatedAt = w.Clock.Now().Add(-time.Duration(3+i) * time.Hour)
	})
	w.Sim.SetBranches("octo/api", "main")
	w.Sim.SetBranches("octo/web", "main", "feature/y")
	file := filepath.Join(t.TempDir(), "branches.yaml")
	policy := "version: 1\nrepositories: [octo/api, octo/web]\nsafety:\n  min_age: 2h\nrules:\n" +
		"  - rule: gone\n    action: delete\n    branch_deleted: true\n"
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env["POLICY_FILE"] = file
	// scan lists artifacts only; plan then warns the branches are unknown.
	if r := w.run(t, "scan"); r.code != 0 {
		t.Fatalf("scan: exit %d: %v", r.code, r.err)
	}
	r := w.run(t, "plan")
	if r.code != 0 || !strings.Contains(r.stdout, "0 would be deleted") || !strings.Contains(r.stdout+r.stderr, "no complete branch listing") {
		t.Errorf("plan before any listing: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = w.run(t, "run", "--dry-run=false")
	if r.code != 0 {
		t.Fatalf("run: exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	if n := w.Sim.Requests()["GET "+githubsim.RouteBranches]; n != 2 {
		t.Errorf("%d branch list requests, want one per repository", n)
	}
	for _, a := range w.Sim.Artifacts("octo/api") {
		if a.Branch == "feature/merged" {
			t.Errorf("artifact %d of the deleted branch is still there", a.ID)
		}
	}
	// octo/web's feature/y exists, so its artifacts stay; octo/api's on
	// feature/y (a branch octo/api does not have) went.
	if left := len(w.Sim.Artifacts("octo/web")); left != 10 {
		t.Errorf("octo/web has %d artifacts, want all 10", left)
	}
	if r := w.run(t, "plan"); r.code != 0 || strings.Contains(r.stdout+r.stderr, "no complete branch listing") {
		t.Errorf("plan after the run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
