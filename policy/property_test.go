package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

// randomArtifacts returns n artifacts with the awkward cases mixed in:
// ties on created_at, unknown creation times, artifacts without a branch,
// the same artifact listed twice, repositories outside the policy.
func randomArtifacts(seed uint64, n int) []artifact.Artifact {
	rng := rand.New(rand.NewPCG(seed, 42))
	repos := []string{"octo-org/api", "octo-org/api", "octo-org/web", "octo-org/old"}
	names := []string{"build", "test-results-unit", "coverage-go", "dist-linux", "skip", "nightly-1"}
	branches := []string{"main", "release/1.0", "dev", "feature/a/b", "", ""}
	arts := make([]artifact.Artifact, 0, n)
	for i := range n {
		if i > 0 && rng.IntN(50) == 0 {
			arts = append(arts, arts[rng.IntN(len(arts))])
			continue
		}
		a := artifact.Artifact{
			ID:          int64(rng.IntN(5 * n)),
			Repository:  artifact.Repository(repos[rng.IntN(len(repos))]),
			Name:        names[rng.IntN(len(names))],
			Branch:      branches[rng.IntN(len(branches))],
			SizeInBytes: int64(1) << rng.IntN(34),
			Expired:     rng.IntN(5) == 0,
			// Whole hours make ties on created_at common.
			CreatedAt: testNow.Add(-time.Duration(rng.IntN(60*24)-12) * time.Hour),
		}
		if a.Branch != "" {
			a.HeadSHA = fmt.Sprintf("sha%d", rng.IntN(8))
			a.WorkflowRunID = int64(rng.IntN(100))
		}
		if rng.IntN(20) == 0 {
			a.CreatedAt = time.Time{}
		}
		arts = append(arts, a)
	}
	return arts
}

var ruleTemplates = []string{
	"    action: keep\n    keep_latest: %d\n    group_by: [name, branch]\n",
	"    action: keep\n    keep_latest: %d\n",
	"    action: keep\n    expired: false\n    keep_latest: %d\n    group_by: [head_sha]\n",
	"    action: keep\n    branch: [\"main\", \"release/**\"]\n",
	"    action: keep\n    name: \"dist-*\"\n    newer_than: %dd\n",
	"    action: keep\n    repositories: \"octo-org/web\"\n    size_less_than: %dKiB\n",
	"    action: delete\n    name: [\"test-results-*\", \"coverage-*\"]\n    older_than: %dd\n",
	"    action: delete\n    branch: [\"!main\", \"!release/**\"]\n    size_greater_than: %dMB\n",
	"    action: delete\n    older_than: %dd\n",
	"    action: delete\n    expired: true\n    archive: true\n",
	"    action: delete\n    repositories: \"octo-org/*\"\n    name: \"nightly-*\"\n    newer_than: %dd\n",
	"    action: delete\n    branch: \"feature/**\"\n    older_than: %dh\n",
}

var minAges = []string{"0s", "1h", "24h", "7d"}

// randomRules returns n rules drawn from ruleTemplates.
func randomRules(rng *rand.Rand, n int, prefix string) []string {
	var out []string
	for i := range n {
		tmpl := ruleTemplates[rng.IntN(len(ruleTemplates))]
		body := tmpl
		if strings.Contains(tmpl, "%d") {
			body = fmt.Sprintf(tmpl, 1+rng.IntN(20))
		}
		out = append(out, fmt.Sprintf("  - rule: %s%d\n%s", prefix, i, body))
	}
	return out
}

func buildPolicy(t *testing.T, minAge string, rules []string) *Policy {
	t.Helper()
	return mustParse(t, "version: 1\nrepositories: [octo-org/api, octo-org/web]\nsafety:\n  min_age: "+minAge+"\nrules:\n"+strings.Join(rules, ""))
}

func TestPropertyOrderDoesNotMatter(t *testing.T) {
	t.Parallel()
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 1))
		p := buildPolicy(t, minAges[rng.IntN(len(minAges))], randomRules(rng, 1+rng.IntN(10), "r"))
		arts := randomArtifacts(seed, 50+rng.IntN(400))
		want := Evaluate(p, arts, testNow)
		perm := rng.Perm(len(arts))
		shuffled := make([]artifact.Artifact, len(arts))
		for i, j := range perm {
			shuffled[i] = arts[j]
		}
		got := Evaluate(p, shuffled, testNow)
		for i, j := range perm {
			if diff := cmp.Diff(want[j], got[i]); diff != "" {
				t.Fatalf("seed %d: artifact %+v decided differently after shuffling (-before +after):\n%s", seed, arts[j], diff)
			}
		}
	}
}

func TestPropertyKeepRuleNeverAddsDeletions(t *testing.T) {
	t.Parallel()
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 2))
		rules := randomRules(rng, 1+rng.IntN(8), "r")
		p := buildPolicy(t, minAges[rng.IntN(len(minAges))], rules)
		arts := randomArtifacts(seed, 50+rng.IntN(300))
		before := Evaluate(p, arts, testNow)

		var extra string
		for !strings.Contains(extra, "action: keep") {
			extra = randomRules(rng, 1, "extra")[0]
		}
		pos := rng.IntN(len(rules) + 1)
		more := slices.Insert(slices.Clone(rules), pos, extra)
		q := buildPolicy(t, p.minAgeString(), more)
		after := Evaluate(q, arts, testNow)
		for i := range arts {
			if after[i].Action == Delete && before[i].Action != Delete {
				t.Fatalf("seed %d: adding %q at %d deleted %+v (%s)", seed, extra, pos, arts[i], after[i].Reason)
			}
		}
	}
}

func TestPropertySafety(t *testing.T) {
	t.Parallel()
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 3))
		p := buildPolicy(t, minAges[rng.IntN(len(minAges))], randomRules(rng, 1+rng.IntN(10), "r"))
		arts := randomArtifacts(seed, 50+rng.IntN(400))
		ds := Evaluate(p, arts, testNow)
		e := newEvaluation(p, arts, testNow)
		for ri := range p.Rules {
			if p.Rules[ri].KeepLatest > 0 {
				e.rankLatest(ri)
			}
		}
		kept := map[string]map[newness]bool{} // keep_latest rule+group -> distinct kept
		for i, d := range ds {
			a := arts[i]
			if d.Reason == "" || (d.Action == Delete) != (d.Rule != "" && !strings.Contains(d.Rule, ".") && isDelete(p, d.Rule)) {
				t.Fatalf("seed %d: inconsistent decision %+v", seed, d)
			}
			for ri := range p.Rules {
				if l := e.latest[ri]; l != nil && l.rank[i] > 0 {
					key := fmt.Sprint(ri, l.gid[i])
					if kept[key] == nil {
						kept[key] = map[newness]bool{}
					}
					kept[key][newnessKey(a.CreatedAt, a.ID)] = true
					if len(kept[key]) > p.Rules[ri].KeepLatest {
						t.Fatalf("seed %d: rule %s keeps more than %d in a group", seed, p.Rules[ri].Name, p.Rules[ri].KeepLatest)
					}
				}
			}
			if d.Action != Delete {
				continue
			}
			if a.CreatedAt.IsZero() {
				t.Fatalf("seed %d: deleted an artifact with an unknown creation time: %+v", seed, a)
			}
			if age := testNow.Sub(a.CreatedAt); age < p.MinAge {
				t.Fatalf("seed %d: deleted an artifact %v old with min_age %v", seed, age, p.MinAge)
			}
			if a.Repository != "octo-org/api" && a.Repository != "octo-org/web" {
				t.Fatalf("seed %d: deleted outside the policy: %+v", seed, a)
			}
			for ri, r := range p.Rules {
				if r.Action == Keep && ((r.KeepLatest > 0 && e.latest[ri].rank[i] > 0) || (r.KeepLatest == 0 && e.matches(ri, i))) {
					t.Fatalf("seed %d: deleted %+v although keep rule %s keeps it", seed, a, r.Name)
				}
				if r.Name == d.Rule && !e.matches(ri, i) {
					t.Fatalf("seed %d: deleted by %s, which does not match", seed, r.Name)
				}
			}
		}
	}
}

func isDelete(p *Policy, rule string) bool {
	for _, r := range p.Rules {
		if r.Name == rule {
			return r.Action == Delete
		}
	}
	return false
}
