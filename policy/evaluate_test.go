package policy

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

const day = 24 * time.Hour

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return testNow.Add(-d) }

func mustParse(t testing.TB, y string) *Policy {
	t.Helper()
	p, err := Parse([]byte(y))
	if err != nil {
		t.Fatalf("Parse:\n%v\n---\n%s", err, y)
	}
	return p
}

// withRules builds a policy over octo-org/api and octo-org/web.
func withRules(t testing.TB, safety, rules string) *Policy {
	t.Helper()
	return mustParse(t, "version: 1\nrepositories: [octo-org/api, octo-org/web]\n"+safety+"rules:\n"+rules)
}

// art is an artifact of octo-org/api on main, 10 days old, 1000 bytes.
func art(id int64, mods ...func(*artifact.Artifact)) artifact.Artifact {
	a := artifact.Artifact{
		ID: id, Repository: "octo-org/api", Name: "build", Branch: "main", HeadSHA: "abc",
		SizeInBytes: 1000, CreatedAt: ago(10 * day), WorkflowRunID: 1,
	}
	for _, m := range mods {
		m(&a)
	}
	return a
}

func name(n string) func(*artifact.Artifact)   { return func(a *artifact.Artifact) { a.Name = n } }
func branch(b string) func(*artifact.Artifact) { return func(a *artifact.Artifact) { a.Branch = b } }
func age(d time.Duration) func(*artifact.Artifact) {
	return func(a *artifact.Artifact) { a.CreatedAt = ago(d) }
}
func size(n int64) func(*artifact.Artifact) { return func(a *artifact.Artifact) { a.SizeInBytes = n } }
func repo(r string) func(*artifact.Artifact) {
	return func(a *artifact.Artifact) { a.Repository = artifact.Repository(r) }
}
func expired(a *artifact.Artifact)     { a.Expired = true }
func noRun(a *artifact.Artifact)       { a.Branch, a.HeadSHA, a.WorkflowRunID = "", "", 0 }
func unknownTime(a *artifact.Artifact) { a.CreatedAt = time.Time{} }

func keep(rule, reason string) Decision { return Decision{Action: Keep, Rule: rule, Reason: reason} }
func del(rule, reason string) Decision  { return Decision{Action: Delete, Rule: rule, Reason: reason} }

func TestEvaluateDecisions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		safety string
		rules  string
		art    artifact.Artifact
		want   Decision
	}{
		// The reasons quoted in the issue.
		{
			name:  "issue: old test results",
			rules: "  - rule: old-test-results\n    action: delete\n    name: [\"test-results-*\", \"coverage-*\"]\n    older_than: 7d\n",
			art:   art(1, name("test-results-unit"), age(9*day+12*time.Hour+30*time.Minute)),
			want:  del("old-test-results", "matched delete rule old-test-results: name test-results-* and older than 7d (9d12h)"),
		},
		{
			name:  "issue: huge PR builds",
			rules: "  - rule: huge-pr-builds\n    action: delete\n    branch: [\"!main\", \"!release/**\"]\n    size_greater_than: 500MB\n    older_than: 2d\n",
			art:   art(1, branch("feature/x"), size(1_234_567_890), age(3*day+4*time.Hour)),
			want:  del("huge-pr-builds", "matched delete rule huge-pr-builds: branch !main,!release/** and size > 500MB (1.2GB) and older than 2d (3d4h)"),
		},
		{
			name:  "issue: kept by keep-releases",
			rules: "  - rule: keep-releases\n    action: keep\n    branch: [\"main\", \"release/**\"]\n  - rule: d\n    action: delete\n    older_than: 1d\n",
			art:   art(1),
			want:  keep("keep-releases", "kept by keep-releases: branch main"),
		},
		{
			name:  "issue: no delete rule matched",
			rules: "  - rule: d\n    action: delete\n    name: coverage-*\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "issue: younger than min_age",
			rules: "  - rule: d\n    action: delete\n    name: build\n",
			art:   art(1, age(3*time.Hour)),
			want:  keep("safety.min_age", "younger than safety.min_age 24h"),
		},
		// Each condition, holding and not.
		{
			name:  "name: second positive pattern",
			rules: "  - rule: d\n    action: delete\n    name: [\"test-*\", \"cov*\"]\n",
			art:   art(1, name("coverage")),
			want:  del("d", "matched delete rule d: name cov*"),
		},
		{
			name:  "name: case-sensitive",
			rules: "  - rule: d\n    action: delete\n    name: Build\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "name: negation",
			rules: "  - rule: d\n    action: delete\n    name: [\"*\", \"!build\"]\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "branch: ** spans /",
			rules: "  - rule: d\n    action: delete\n    branch: \"feature/**\"\n",
			art:   art(1, branch("feature/a/b")),
			want:  del("d", "matched delete rule d: branch feature/**"),
		},
		{
			name:  "branch: * does not span /",
			rules: "  - rule: d\n    action: delete\n    branch: \"feature/*\"\n",
			art:   art(1, branch("feature/a/b")),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "branch: no workflow run never matches, even a negation",
			rules: "  - rule: d\n    action: delete\n    branch: [\"!main\"]\n",
			art:   art(1, noRun),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "branch: mixed list shows the positive and the exclusions",
			rules: "  - rule: d\n    action: delete\n    branch: [\"release/**\", \"!release/keep-*\"]\n",
			art:   art(1, branch("release/1.0")),
			want:  del("d", "matched delete rule d: branch release/**,!release/keep-*"),
		},
		{
			name:  "repositories: glob scopes the rule",
			rules: "  - rule: d\n    action: delete\n    repositories: \"octo-org/a*\"\n    name: build\n",
			art:   art(1),
			want:  del("d", "matched delete rule d: repository octo-org/a* and name build"),
		},
		{
			name:  "repositories: case-insensitive",
			rules: "  - rule: d\n    action: delete\n    repositories: \"OCTO-ORG/API\"\n    name: build\n",
			art:   art(1),
			want:  del("d", "matched delete rule d: repository OCTO-ORG/API and name build"),
		},
		{
			name:  "repositories: other repository",
			rules: "  - rule: d\n    action: delete\n    repositories: \"octo-org/web\"\n    name: build\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "older_than: exactly the threshold is not older",
			rules: "  - rule: d\n    action: delete\n    older_than: 10d\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "older_than: one nanosecond over shows the exact age",
			rules: "  - rule: d\n    action: delete\n    older_than: 10d\n",
			art:   art(1, age(10*day+1)),
			want:  del("d", "matched delete rule d: older than 10d (10d1ns)"),
		},
		{
			name:  "older_than: weeks and combined units",
			rules: "  - rule: d\n    action: delete\n    older_than: 1w1d12h\n",
			art:   art(1, age(8*day+13*time.Hour)),
			want:  del("d", "matched delete rule d: older than 1w1d12h (8d13h)"),
		},
		{
			name:   "older_than: minutes",
			safety: "safety:\n  min_age: 0s\n",
			rules:  "  - rule: d\n    action: delete\n    older_than: 30m\n",
			art:    art(1, age(45*time.Minute+10*time.Second)),
			want:   del("d", "matched delete rule d: older than 30m (45m10s)"),
		},
		{
			name:   "newer_than: holds",
			safety: "safety:\n  min_age: 0s\n",
			rules:  "  - rule: d\n    action: delete\n    newer_than: 2d\n",
			art:    art(1, age(5*time.Hour)),
			want:   del("d", "matched delete rule d: newer than 2d (5h)"),
		},
		{
			name:  "newer_than: exactly the threshold is not newer",
			rules: "  - rule: d\n    action: delete\n    newer_than: 10d\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "age window",
			rules: "  - rule: d\n    action: delete\n    older_than: 7d\n    newer_than: 30d\n",
			art:   art(1),
			want:  del("d", "matched delete rule d: older than 7d (10d) and newer than 30d (10d)"),
		},
		{
			name:  "size_greater_than: equal is not greater",
			rules: "  - rule: d\n    action: delete\n    size_greater_than: 1KB\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "size_greater_than: binary units show binary sizes",
			rules: "  - rule: d\n    action: delete\n    size_greater_than: 1GiB\n",
			art:   art(1, size(1610612736)),
			want:  del("d", "matched delete rule d: size > 1GiB (1.5GiB)"),
		},
		{
			name:  "size_greater_than: just over shows exact bytes",
			rules: "  - rule: d\n    action: delete\n    size_greater_than: 500MB\n",
			art:   art(1, size(500_000_001)),
			want:  del("d", "matched delete rule d: size > 500MB (500000001B)"),
		},
		{
			name:  "size_less_than: holds",
			rules: "  - rule: d\n    action: delete\n    size_less_than: 1KiB\n",
			art:   art(1, size(12)),
			want:  del("d", "matched delete rule d: size < 1KiB (12B)"),
		},
		{
			name:  "size_less_than: equal is not less",
			rules: "  - rule: d\n    action: delete\n    size_less_than: 1000B\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "size units: TB",
			rules: "  - rule: d\n    action: delete\n    size_greater_than: 1TB\n",
			art:   art(1, size(2_500_000_000_000)),
			want:  del("d", "matched delete rule d: size > 1TB (2.5TB)"),
		},
		{
			name:  "size units: MiB and KB",
			rules: "  - rule: d\n    action: delete\n    size_greater_than: 1KB\n    size_less_than: 2MiB\n",
			art:   art(1, size(1_500_000)),
			want:  del("d", "matched delete rule d: size > 1KB (1.5MB) and size < 2MiB (1.4MiB)"),
		},
		{
			name:  "expired: true",
			rules: "  - rule: d\n    action: delete\n    expired: true\n",
			art:   art(1, expired),
			want:  del("d", "matched delete rule d: expired"),
		},
		{
			name:  "expired: false",
			rules: "  - rule: d\n    action: delete\n    expired: false\n",
			art:   art(1),
			want:  del("d", "matched delete rule d: not expired"),
		},
		{
			name:  "expired: mismatch",
			rules: "  - rule: d\n    action: delete\n    expired: true\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "conditions are listed in the order written",
			rules: "  - rule: d\n    action: delete\n    older_than: 1d\n    expired: false\n    name: build\n",
			art:   art(1),
			want:  del("d", "matched delete rule d: older than 1d (10d) and not expired and name build"),
		},
		{
			name:  "all conditions must hold",
			rules: "  - rule: d\n    action: delete\n    name: build\n    branch: dev\n",
			art:   art(1),
			want:  keep("", "no delete rule matched"),
		},
		// Unknown creation time and the safety net.
		{
			name:  "unknown creation time satisfies no age condition",
			rules: "  - rule: d\n    action: delete\n    older_than: 1d\n",
			art:   art(1, unknownTime),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:  "unknown creation time satisfies no newer_than either",
			rules: "  - rule: d\n    action: delete\n    newer_than: 1000d\n",
			art:   art(1, unknownTime),
			want:  keep("", "no delete rule matched"),
		},
		{
			name:   "unknown creation time is never deleted",
			safety: "safety:\n  min_age: 0s\n",
			rules:  "  - rule: d\n    action: delete\n    name: build\n",
			art:    art(1, unknownTime),
			want:   keep("safety.min_age", "creation time unknown; kept by safety"),
		},
		{
			name:  "exactly min_age old may be deleted",
			rules: "  - rule: d\n    action: delete\n    name: build\n",
			art:   art(1, age(24*time.Hour)),
			want:  del("d", "matched delete rule d: name build"),
		},
		{
			name:   "min_age as written",
			safety: "safety:\n  min_age: 2d\n",
			rules:  "  - rule: d\n    action: delete\n    older_than: 1h\n",
			art:    art(1, age(36*time.Hour)),
			want:   keep("safety.min_age", "younger than safety.min_age 2d"),
		},
		{
			name:   "min_age 0 still keeps artifacts from the future",
			safety: "safety:\n  min_age: 0\n",
			rules:  "  - rule: d\n    action: delete\n    name: build\n",
			art:    art(1, age(-time.Hour)),
			want:   keep("safety.min_age", "younger than safety.min_age 0"),
		},
		// Precedence.
		{
			name:  "keep wins over an earlier delete rule",
			rules: "  - rule: d\n    action: delete\n    older_than: 1d\n  - rule: k\n    action: keep\n    name: build\n",
			art:   art(1),
			want:  keep("k", "kept by k: name build"),
		},
		{
			name:  "the first matching delete rule is named",
			rules: "  - rule: d1\n    action: delete\n    name: nope\n  - rule: d2\n    action: delete\n    older_than: 1d\n  - rule: d3\n    action: delete\n    name: build\n",
			art:   art(1),
			want:  del("d2", "matched delete rule d2: older than 1d (10d)"),
		},
		{
			name:  "the first keeping keep rule is named",
			rules: "  - rule: k1\n    action: keep\n    name: nope\n  - rule: k2\n    action: keep\n    branch: main\n  - rule: k3\n    action: keep\n    name: build\n  - rule: d\n    action: delete\n    older_than: 1d\n",
			art:   art(1),
			want:  keep("k2", "kept by k2: branch main"),
		},
		{
			name:  "a keep rule keeps even when no delete rule matches",
			rules: "  - rule: k\n    action: keep\n    branch: main\n",
			art:   art(1),
			want:  keep("k", "kept by k: branch main"),
		},
		{
			name:  "a keep rule wins over the safety net",
			rules: "  - rule: k\n    action: keep\n    branch: main\n  - rule: d\n    action: delete\n    name: build\n",
			art:   art(1, age(time.Hour)),
			want:  keep("k", "kept by k: branch main"),
		},
		{
			name:  "a repository outside the policy is never touched",
			rules: "  - rule: d\n    action: delete\n    name: build\n",
			art:   art(1, repo("octo-org/old")),
			want:  keep("policy.repositories", "repository octo-org/old is not in the policy's repositories"),
		},
		{
			name:  "archive flags come from the deciding delete rule",
			rules: "  - rule: d\n    action: delete\n    name: build\n    archive: true\n",
			art:   art(1),
			want:  Decision{Action: Delete, Rule: "d", Reason: "matched delete rule d: name build", Archive: true, ArchiveRequired: true},
		},
		{
			name:  "archive_required false",
			rules: "  - rule: d\n    action: delete\n    name: build\n    archive: true\n    archive_required: false\n",
			art:   art(1),
			want:  Decision{Action: Delete, Rule: "d", Reason: "matched delete rule d: name build", Archive: true},
		},
		{
			name:  "no archive flags on a kept artifact",
			rules: "  - rule: d\n    action: delete\n    name: build\n    archive: true\n",
			art:   art(1, age(time.Hour)),
			want:  keep("safety.min_age", "younger than safety.min_age 24h"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := withRules(t, tc.safety, tc.rules)
			got := Evaluate(p, []artifact.Artifact{tc.art}, testNow)
			if diff := cmp.Diff([]Decision{tc.want}, got); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateEmpty(t *testing.T) {
	t.Parallel()
	p := withRules(t, "", "  - rule: d\n    action: delete\n    name: build\n")
	if got := Evaluate(p, nil, testNow); len(got) != 0 {
		t.Errorf("Evaluate(nil) = %v", got)
	}
}

func TestEvaluateDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	p := withRules(t, "", "  - rule: k\n    action: keep\n    keep_latest: 1\n    group_by: [name]\n  - rule: d\n    action: delete\n    older_than: 1d\n")
	arts := []artifact.Artifact{art(3), art(1), art(2, age(2*day)), art(4, repo("Octo-Org/API"))}
	before := slices.Clone(arts)
	Evaluate(p, arts, testNow)
	if diff := cmp.Diff(before, arts); diff != "" {
		t.Errorf("Evaluate modified its input (-before +after):\n%s", diff)
	}
}

func TestRankWords(t *testing.T) {
	t.Parallel()
	want := map[int32]string{
		1: "newest", 2: "2nd newest", 3: "3rd newest", 4: "4th newest", 11: "11th newest", 12: "12th newest",
		13: "13th newest", 21: "21st newest", 22: "22nd newest", 23: "23rd newest", 101: "101st newest", 111: "111th newest", 112: "112th newest",
	}
	for n, w := range want {
		if got := string(appendRank(nil, n)); got != w {
			t.Errorf("appendRank(%d) = %q; want %q", n, got, w)
		}
	}
}

// A Policy is read-only after Parse: the janitor may evaluate several
// repositories at once with the same one.
func TestEvaluateConcurrently(t *testing.T) {
	t.Parallel()
	p := withRules(t, "", "  - rule: k\n    action: keep\n    keep_latest: 2\n    group_by: [name, branch]\n"+
		"  - rule: d\n    action: delete\n    name: [\"test-*\", \"build\"]\n    older_than: 1d\n")
	arts := randomArtifacts(3, 2000)
	want := Evaluate(p, arts, testNow)
	done := make(chan []Decision)
	for range 4 {
		go func() { done <- Evaluate(p, arts, testNow) }()
	}
	for range 4 {
		if diff := cmp.Diff(want, <-done); diff != "" {
			t.Fatalf("concurrent evaluation differs (-want +got):\n%s", diff)
		}
	}
}
