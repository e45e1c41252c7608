package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

func state(s artifact.BranchState) func(*artifact.Artifact) {
	return func(a *artifact.Artifact) { a.BranchState = s }
}

// fork makes the artifact's run come from another repository.
func fork(a *artifact.Artifact) { a.RepositoryID, a.HeadRepositoryID = 1, 2 }

// sameRepo gives the run this repository as its head.
func sameRepo(a *artifact.Artifact) { a.RepositoryID, a.HeadRepositoryID = 1, 1 }

func TestBranchDeleted(t *testing.T) {
	t.Parallel()
	p := withRules(t, "", `  - rule: gone-branches
    action: delete
    branch_deleted: true
    older_than: 1d
`)
	gone, exists, unknown := artifact.BranchDeleted, artifact.BranchExists, artifact.BranchUnknown
	blocked := keep(RuleBranchUnknown, "kept: delete rule gone-branches needs to know whether branch feat/x still exists, and octo-org/api has no complete branch listing")
	for _, tc := range []struct {
		name string
		a    artifact.Artifact
		want Decision
	}{
		{"branch gone", art(1, branch("feat/x"), sameRepo, state(gone)),
			del("gone-branches", "matched delete rule gone-branches: branch feat/x deleted and older than 1d (10d)")},
		{"branch gone, run without repository ids", art(2, branch("feat/x"), state(gone)),
			del("gone-branches", "matched delete rule gone-branches: branch feat/x deleted and older than 1d (10d)")},
		{"branch exists", art(3, branch("feat/x"), sameRepo, state(exists)), keep("", reasonNoDeleteRule)},
		{"from a fork, never deleted", art(4, branch("feat/x"), fork, state(gone)), keep("", reasonNoDeleteRule)},
		{"from a fork, listing missing: nothing to wait for", art(5, branch("feat/x"), fork), keep("", reasonNoDeleteRule)},
		{"no branch never matches", art(6, noRun, state(gone)), keep("", reasonNoDeleteRule)},
		{"no listing blocks", art(7, branch("feat/x"), sameRepo, state(unknown)), blocked},
		{"no listing, too young anyway", art(8, branch("feat/x"), age(1)), keep("", reasonNoDeleteRule)},
		{"branch gone but young", art(9, branch("feat/x"), age(1), state(gone)), keep("", reasonNoDeleteRule)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Evaluate(p, []artifact.Artifact{tc.a}, testNow)[0]
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// An unknown branch state blocks only what depends on it: another delete
// rule still deletes, and a keep rule that might keep keeps.
func TestBranchDeletedUnknownBlocksOnlyWhatDependsOnIt(t *testing.T) {
	t.Parallel()
	p := withRules(t, "", `  - rule: keep-gone-logs
    action: keep
    name: logs
    branch_deleted: true
  - rule: gone-branches
    action: delete
    branch_deleted: true
  - rule: old
    action: delete
    older_than: 7d
`)
	arts := []artifact.Artifact{
		art(1, branch("feat/x")),                                            // old: deleted by "old" whatever the branches
		art(2, branch("feat/x"), name("logs")),                              // keep-gone-logs might keep it: kept
		art(3, branch("feat/x"), age(3*day)),                                // only gone-branches could delete it: blocked
		art(4, branch("feat/x"), state(artifact.BranchDeleted), age(3*day)), // known: deleted
	}
	got := Evaluate(p, arts, testNow)
	want := []Decision{
		del("old", "matched delete rule old: older than 7d (10d)"),
		keep("keep-gone-logs", "kept by keep-gone-logs: unknown whether branch feat/x still exists, and octo-org/api has no complete branch listing"),
		keep(RuleBranchUnknown, "kept: delete rule gone-branches needs to know whether branch feat/x still exists, and octo-org/api has no complete branch listing"),
		del("gone-branches", "matched delete rule gone-branches: branch feat/x deleted"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestUsesBranchDeleted(t *testing.T) {
	t.Parallel()
	p := withRules(t, "", `  - rule: gone-web
    action: delete
    repositories: [octo-org/web]
    branch_deleted: true
`)
	if p.UsesBranchDeleted("octo-org/api") || !p.UsesBranchDeleted("octo-org/web") {
		t.Error("branch listings asked for the wrong repositories")
	}
	if withRules(t, "", "  - rule: old\n    action: delete\n    older_than: 1d\n").UsesBranchDeleted("octo-org/web") {
		t.Error("a policy without branch_deleted asks for branches")
	}
}

func TestBranchDeletedParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ rules, want string }{
		{"  - rule: r\n    action: delete\n    branch_deleted: false\n", "branch_deleted: false is not a condition"},
		{"  - rule: r\n    action: delete\n    branch_deleted: yes please\n", "branch_deleted"},
		{"  - rule: r\n    action: keep\n    branch_deleted: true\n    keep_latest: 2\n", "cannot be combined with keep_latest"},
	} {
		_, err := Parse([]byte("version: 1\nrepositories: [o/r]\nrules:\n" + tc.rules))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.rules, err, tc.want)
		}
	}
	// It counts as a condition: a delete rule with only branch_deleted is valid.
	if _, err := Parse([]byte("version: 1\nrepositories: [o/r]\nrules:\n  - rule: r\n    action: delete\n    branch_deleted: true\n")); err != nil {
		t.Errorf("a rule with only branch_deleted: %v", err)
	}
}
