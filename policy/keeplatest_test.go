package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

func TestKeepLatest(t *testing.T) {
	t.Parallel()
	const keepLatest = "  - rule: keep-latest-per-branch\n    action: keep\n    keep_latest: %d\n    group_by: [%s]\n" +
		"  - rule: old\n    action: delete\n    older_than: 1d\n"
	tests := []struct {
		name    string
		n       int
		groupBy string
		arts    []artifact.Artifact
		want    map[int64]Decision
	}{
		{
			name:    "issue: 2nd newest of name and branch",
			n:       3,
			groupBy: "name, branch",
			arts:    []artifact.Artifact{art(1, age(3*day)), art(2, age(2*day)), art(3, age(4*day)), art(4, age(5*day))},
			want: map[int64]Decision{
				2: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of name=build, branch=main"),
				1: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: 2nd newest of name=build, branch=main"),
				3: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: 3rd newest of name=build, branch=main"),
				4: del("old", "matched delete rule old: older than 1d (5d)"),
			},
		},
		{
			name:    "ties on created_at: the larger id is newer",
			n:       2,
			groupBy: "name",
			arts:    []artifact.Artifact{art(10), art(30), art(20), art(5)},
			want: map[int64]Decision{
				30: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of name=build"),
				20: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: 2nd newest of name=build"),
				10: del("old", "matched delete rule old: older than 1d (10d)"),
				5:  del("old", "matched delete rule old: older than 1d (10d)"),
			},
		},
		{
			name:    "the id breaks ties, not the sort position: an older artifact with a larger id is older",
			n:       1,
			groupBy: "name",
			arts:    []artifact.Artifact{art(99, age(20*day)), art(1, age(10*day))},
			want: map[int64]Decision{
				1:  keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of name=build"),
				99: del("old", "matched delete rule old: older than 1d (20d)"),
			},
		},
		{
			name:    "unknown creation time ranks oldest, ties by id",
			n:       2,
			groupBy: "name",
			arts:    []artifact.Artifact{art(50, unknownTime), art(1, age(30*day)), art(60, unknownTime)},
			want: map[int64]Decision{
				1:  keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of name=build"),
				60: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: 2nd newest of name=build"),
				50: keep("", "no delete rule matched"),
			},
		},
		{
			name:    "artifacts without a branch form their own group",
			n:       1,
			groupBy: "branch",
			arts:    []artifact.Artifact{art(1, noRun), art(2, noRun, age(11*day)), art(3)},
			want: map[int64]Decision{
				1: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of branch=(none)"),
				2: del("old", "matched delete rule old: older than 1d (11d)"),
				3: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of branch=main"),
			},
		},
		{
			name:    "groups by head_sha",
			n:       1,
			groupBy: "head_sha",
			arts: []artifact.Artifact{art(1, func(a *artifact.Artifact) { a.HeadSHA = "aaa" }), art(2, func(a *artifact.Artifact) { a.HeadSHA = "aaa" }),
				art(3, func(a *artifact.Artifact) { a.HeadSHA = "bbb" })},
			want: map[int64]Decision{
				2: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of head_sha=aaa"),
				1: del("old", "matched delete rule old: older than 1d (10d)"),
				3: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of head_sha=bbb"),
			},
		},
		{
			name:    "the repository is always part of the group",
			n:       1,
			groupBy: "name",
			arts:    []artifact.Artifact{art(1, repo("octo-org/web")), art(2), art(3, age(11*day))},
			want: map[int64]Decision{
				1: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of name=build"),
				2: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of name=build"),
				3: del("old", "matched delete rule old: older than 1d (11d)"),
			},
		},
		{
			name:    "the same artifact listed twice shares its rank and pushes nothing out",
			n:       2,
			groupBy: "name",
			arts:    []artifact.Artifact{art(3), art(3), art(2), art(1)},
			want: map[int64]Decision{
				3: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: newest of name=build"),
				2: keep("keep-latest-per-branch", "kept by keep-latest-per-branch: 2nd newest of name=build"),
				1: del("old", "matched delete rule old: older than 1d (10d)"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := withRules(t, "", fmt.Sprintf(keepLatest, tc.n, tc.groupBy))
			got := Evaluate(p, tc.arts, testNow)
			if len(got) != len(tc.arts) {
				t.Fatalf("%d decisions for %d artifacts", len(got), len(tc.arts))
			}
			for i := range tc.arts {
				if diff := cmp.Diff(tc.want[tc.arts[i].ID], got[i]); diff != "" {
					t.Errorf("artifact %d (-want +got):\n%s", tc.arts[i].ID, diff)
				}
			}
		})
	}
}

func TestKeepLatestWithoutGroupBy(t *testing.T) {
	t.Parallel()
	p := withRules(t, "", "  - rule: k\n    action: keep\n    keep_latest: 1\n  - rule: d\n    action: delete\n    older_than: 1d\n")
	got := Evaluate(p, []artifact.Artifact{art(1), art(2, name("other"))}, testNow)
	want := []Decision{
		del("d", "matched delete rule d: older than 1d (10d)"),
		keep("k", "kept by k: newest of repository=octo-org/api"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// The bug snok/container-retention-policy#67 and devopshq/artifactory-cleanup#183
// had: keep-N counted over the deletion candidates instead of over what the
// keep rule names. Here keep_latest counts every artifact matching its own
// conditions, whatever the delete rules say, and only those.
func TestKeepLatestCountsOverItsOwnMatches(t *testing.T) {
	t.Parallel()
	p := withRules(t, "", "  - rule: k\n    action: keep\n    expired: false\n    keep_latest: 2\n    group_by: [name]\n"+
		"  - rule: d\n    action: delete\n    branch: [\"!main\"]\n    older_than: 1d\n")
	arts := []artifact.Artifact{
		art(5, age(1*day+time.Hour), expired, branch("dev")), // newest, but expired: does not take a place
		art(4, age(2*day)), // on main: no delete rule matches it, still counts
		art(3, age(3*day), branch("dev")),
		art(2, age(4*day), branch("dev")),
	}
	want := []Decision{
		del("d", "matched delete rule d: branch !main and older than 1d (1d1h)"),
		keep("k", "kept by k: not expired and newest of name=build"),
		keep("k", "kept by k: not expired and 2nd newest of name=build"),
		del("d", "matched delete rule d: branch !main and older than 1d (4d)"),
	}
	if diff := cmp.Diff(want, Evaluate(p, arts, testNow)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Artifacts of one group arrive over several API pages, newest id first,
// interleaved with other groups, and created_at is not monotonic in id.
// Whatever the order, exactly the newest by created_at are kept.
func TestKeepLatestAcrossPages(t *testing.T) {
	t.Parallel()
	p := withRules(t, "", "  - rule: k\n    action: keep\n    keep_latest: 5\n    group_by: [name, branch]\n  - rule: d\n    action: delete\n    older_than: 1d\n")
	var arts []artifact.Artifact
	for id := int64(1000); id > 0; id-- { // 10 pages of 100, id descending like the API
		created := 2*day + time.Duration((id*7919)%1000)*time.Minute
		arts = append(arts, art(id, age(created), name(fmt.Sprintf("build-%d", id%3)), branch(fmt.Sprintf("b%d", id%4))))
	}
	check := func(t *testing.T, arts []artifact.Artifact) {
		t.Helper()
		got := Evaluate(p, arts, testNow)
		kept := map[string][]artifact.Artifact{}
		groups := map[string][]artifact.Artifact{}
		for i, a := range arts {
			g := a.Name + "/" + a.Branch
			groups[g] = append(groups[g], a)
			if got[i].Action == Keep {
				kept[g] = append(kept[g], a)
			}
		}
		for g, members := range groups {
			slices.SortFunc(members, func(a, b artifact.Artifact) int {
				if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
					return c
				}
				return int(b.ID - a.ID)
			})
			want := members[:5]
			slices.SortFunc(kept[g], func(a, b artifact.Artifact) int { return int(a.ID - b.ID) })
			slices.SortFunc(want, func(a, b artifact.Artifact) int { return int(a.ID - b.ID) })
			if diff := cmp.Diff(want, kept[g]); diff != "" {
				t.Errorf("group %s kept (-want +got):\n%s", g, diff)
			}
		}
	}
	t.Run("API order", func(t *testing.T) { check(t, arts) })
	t.Run("reversed", func(t *testing.T) {
		r := slices.Clone(arts)
		slices.Reverse(r)
		check(t, r)
	})
}

// referenceRanks computes keep_latest ranks the slow, obvious way.
func referenceRanks(arts []artifact.Artifact, n int, match func(artifact.Artifact) bool, key func(artifact.Artifact) string) []int32 {
	ranks := make([]int32, len(arts))
	groups := map[string][]int{}
	for i, a := range arts {
		if match(a) {
			groups[key(a)] = append(groups[key(a)], i)
		}
	}
	for _, idx := range groups {
		for _, i := range idx {
			ki := newnessKey(arts[i].CreatedAt, arts[i].ID)
			newer := map[newness]bool{}
			for _, j := range idx {
				if kj := newnessKey(arts[j].CreatedAt, arts[j].ID); kj.newerThan(ki) {
					newer[kj] = true
				}
			}
			if r := len(newer) + 1; r <= n {
				ranks[i] = int32(r)
			}
		}
	}
	return ranks
}

func TestKeepLatestMatchesReference(t *testing.T) {
	t.Parallel()
	groupBys := map[string]func(a artifact.Artifact) string{
		"":       func(a artifact.Artifact) string { return string(a.Repository) },
		"branch": func(a artifact.Artifact) string { return string(a.Repository) + "\x00" + a.Branch },
		"name, branch, head_sha": func(a artifact.Artifact) string {
			return string(a.Repository) + "\x00" + a.Name + "\x00" + a.Branch + "\x00" + a.HeadSHA
		},
	}
	for _, n := range []int{1, 2, 3, 5, 31, 32, 33, 100} {
		for groupBy, key := range groupBys {
			t.Run(fmt.Sprintf("%d by [%s]", n, groupBy), func(t *testing.T) {
				t.Parallel()
				rule := fmt.Sprintf("  - rule: k\n    action: keep\n    name: [\"!skip\"]\n    keep_latest: %d\n", n)
				if groupBy != "" {
					rule += fmt.Sprintf("    group_by: [%s]\n", groupBy)
				}
				p := withRules(t, "", rule)
				arts := randomArtifacts(uint64(n), 3000)
				for i := range arts {
					arts[i].Repository = artifact.Repository(strings.ToUpper(string(arts[i].Repository[:1])) + string(arts[i].Repository[1:]))
				}
				e := newEvaluation(p, arts, testNow)
				e.rankLatest(0)
				want := referenceRanks(arts, n,
					func(a artifact.Artifact) bool { return a.Name != "skip" },
					func(a artifact.Artifact) string { return strings.ToLower(key(a)) })
				if diff := cmp.Diff(want, e.latest[0].rank); diff != "" {
					t.Errorf("ranks (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// Groups big enough for rankGroup to cut them down from a sample before
// sorting, in input orders that help the sample (newest first), defeat it
// (oldest first) or neither (shuffled), with ties and duplicates.
func TestKeepLatestBigGroups(t *testing.T) {
	t.Parallel()
	base := randomArtifacts(11, 12_000)
	for i := range base {
		base[i].Repository = "octo-org/api"
	}
	newestFirst := func(a, b newness) int {
		switch {
		case a.newerThan(b):
			return -1
		case b.newerThan(a):
			return 1
		}
		return 0
	}
	byNewness := func(a, b artifact.Artifact) int {
		return newestFirst(newnessKey(a.CreatedAt, a.ID), newnessKey(b.CreatedAt, b.ID))
	}
	orders := map[string]func([]artifact.Artifact){
		"shuffled":     func([]artifact.Artifact) {},
		"newest first": func(a []artifact.Artifact) { slices.SortStableFunc(a, byNewness) },
		"oldest first": func(a []artifact.Artifact) {
			slices.SortStableFunc(a, byNewness)
			slices.Reverse(a)
		},
	}
	for _, n := range []int{1, 10, 100, 256, 257} {
		for order, arrange := range orders {
			t.Run(fmt.Sprintf("%d %s", n, order), func(t *testing.T) {
				t.Parallel()
				arts := slices.Clone(base)
				arrange(arts)
				p := withRules(t, "", fmt.Sprintf("  - rule: k\n    action: keep\n    keep_latest: %d\n", n))
				e := newEvaluation(p, arts, testNow)
				e.rankLatest(0)
				// The reference: the distinct values, sorted newest first.
				var distinct []newness
				for _, a := range arts {
					distinct = append(distinct, newnessKey(a.CreatedAt, a.ID))
				}
				slices.SortFunc(distinct, newestFirst)
				distinct = slices.Compact(distinct)
				place := map[newness]int{}
				for i, k := range distinct {
					place[k] = i + 1
				}
				want := make([]int32, len(arts))
				for i, a := range arts {
					if r := place[newnessKey(a.CreatedAt, a.ID)]; r <= n {
						want[i] = int32(r)
					}
				}
				if diff := cmp.Diff(want, e.latest[0].rank); diff != "" {
					t.Errorf("ranks (-want +got):\n%s", diff)
				}
			})
		}
	}
}
