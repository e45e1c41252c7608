package policy_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/policy"
)

// The example at the top of the repository is a real policy: it loads, and
// it decides the way its comments say.
func TestExamplePolicyFile(t *testing.T) {
	t.Parallel()
	p, err := policy.Load(filepath.Join("..", "policies.example.yaml"))
	if err != nil {
		t.Fatalf("policies.example.yaml does not load:\n%v", err)
	}
	if len(p.Rules) != 9 || !cmp.Equal(p.Selector.PatternOwners(), []string{"octo-org"}) || p.MinAge != 24*time.Hour {
		t.Fatalf("rules %d, pattern owners %v, min_age %v", len(p.Rules), p.Selector.PatternOwners(), p.MinAge)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	a := func(id int64, repo, name, branch string, age time.Duration, size int64, expired bool) artifact.Artifact {
		return artifact.Artifact{ID: id, Repository: artifact.Repository(repo), Name: name, Branch: branch, CreatedAt: now.Add(-age), SizeInBytes: size, Expired: expired}
	}
	arts := []artifact.Artifact{
		// Four test reports on one feature branch: the newest three stay.
		a(1, "octo-org/api", "test-results-unit", "feature/x", 10*day, 1_000, false),
		a(2, "octo-org/api", "test-results-unit", "feature/x", 9*day, 1_000, false),
		a(3, "octo-org/api", "test-results-unit", "feature/x", 8*day, 1_000, false),
		a(4, "octo-org/api", "test-results-unit", "feature/x", 11*day, 1_000, false),
		// Release branches keep everything.
		a(5, "octo-org/api", "build", "release/2.0", 400*day, 1_000, false),
		a(6, "octo-org/api", "build", "release/2.0", 401*day, 1_000, false),
		a(7, "octo-org/api", "build", "release/2.0", 402*day, 1_000, false),
		a(8, "octo-org/api", "build", "release/2.0", 403*day, 1_000, false),
		// A big PR build, fourth newest of its group.
		a(10, "octo-org/web", "bundle", "feature/y", 3*day, 900_000_000, false),
		a(11, "octo-org/web", "bundle", "feature/y", 2*day+time.Hour, 1_000, false),
		a(12, "octo-org/web", "bundle", "feature/y", 2*day+2*time.Hour, 1_000, false),
		a(13, "octo-org/web", "bundle", "feature/y", 2*day+3*time.Hour, 1_000, false),
		// Mobile nightlies, and the same name elsewhere.
		a(20, "octo-org/mobile", "nightly-apk", "", 8*day, 1_000, false),
		a(21, "octo-org/api", "nightly-apk", "", 8*day, 1_000, false),
		// Already expired, no branch.
		a(30, "octo-org/api", "logs", "", 100*day, 1_000, true),
		// Published, very old.
		a(40, "octo-org/web", "dist-linux", "feature/z", 1000*day, 1_000, true),
		// A merged pull request's branch, since deleted: past the newest
		// three, the rest goes after 3 days.
		a(50, "octo-org/docs", "site", "feature/gone", 4*day, 1_000, false),
		a(51, "octo-org/docs", "site", "feature/gone", 5*day, 1_000, false),
		a(52, "octo-org/docs", "site", "feature/gone", 6*day, 1_000, false),
		a(53, "octo-org/docs", "site", "feature/gone", 7*day, 1_000, false),
	}
	for i := range arts {
		if arts[i].Branch == "feature/gone" {
			arts[i].BranchState = artifact.BranchDeleted
		}
	}
	got := map[int64]string{}
	for i, d := range policy.Evaluate(p, arts, now) {
		got[arts[i].ID] = fmt.Sprintf("%s %s: %s", d.Action, d.Rule, d.Reason)
	}
	want := map[int64]string{
		2:  "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and 2nd newest of name=test-results-unit, branch=feature/x",
		3:  "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and newest of name=test-results-unit, branch=feature/x",
		1:  "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and 3rd newest of name=test-results-unit, branch=feature/x",
		4:  "delete old-test-results: matched delete rule old-test-results: name test-results-* and older than 7d (11d)",
		5:  "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and newest of name=build, branch=release/2.0",
		6:  "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and 2nd newest of name=build, branch=release/2.0",
		7:  "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and 3rd newest of name=build, branch=release/2.0",
		8:  "keep keep-releases: kept by keep-releases: branch release/**",
		10: "delete huge-pr-builds: matched delete rule huge-pr-builds: branch !main,!release/** and size > 500MB (900MB) and older than 2d (3d)",
		11: "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and newest of name=bundle, branch=feature/y",
		12: "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and 2nd newest of name=bundle, branch=feature/y",
		13: "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and 3rd newest of name=bundle, branch=feature/y",
		20: "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and newest of name=nightly-apk, branch=(none)",
		21: "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and newest of name=nightly-apk, branch=(none)",
		30: "delete expired: matched delete rule expired: expired",
		40: "keep keep-published: kept by keep-published: name dist-*",
		50: "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and newest of name=site, branch=feature/gone",
		51: "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and 2nd newest of name=site, branch=feature/gone",
		52: "keep keep-latest-per-branch: kept by keep-latest-per-branch: not expired and 3rd newest of name=site, branch=feature/gone",
		53: "delete deleted-branches: matched delete rule deleted-branches: branch feature/gone deleted and older than 3d (7d)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
}

func ExampleEvaluate() {
	p, err := policy.Parse([]byte(`
version: 1
repositories: [octo-org/api]
rules:
  - rule: keep-releases
    action: keep
    branch: ["main", "release/**"]
  - rule: old-test-results
    action: delete
    name: ["test-results-*", "coverage-*"]
    older_than: 7d
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	arts := []artifact.Artifact{
		{ID: 1, Repository: "octo-org/api", Name: "test-results-unit", Branch: "feature/x", CreatedAt: now.Add(-228 * time.Hour)},
		{ID: 2, Repository: "octo-org/api", Name: "test-results-unit", Branch: "main", CreatedAt: now.Add(-228 * time.Hour)},
		{ID: 3, Repository: "octo-org/api", Name: "coverage-go", Branch: "feature/x", CreatedAt: now.Add(-3 * time.Hour)},
		{ID: 4, Repository: "octo-org/api", Name: "build", Branch: "feature/x", CreatedAt: now.Add(-228 * time.Hour)},
	}
	for i, d := range policy.Evaluate(p, arts, now) {
		fmt.Printf("%d %s %q: %s\n", arts[i].ID, d.Action, d.Rule, d.Reason)
	}
	// Output:
	// 1 delete "old-test-results": matched delete rule old-test-results: name test-results-* and older than 7d (9d12h)
	// 2 keep "keep-releases": kept by keep-releases: branch main
	// 3 keep "": no delete rule matched
	// 4 keep "": no delete rule matched
}
