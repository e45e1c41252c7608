package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

func TestSelectorMatch(t *testing.T) {
	t.Parallel()
	s, err := ParseSelector("acme/*", "!acme/legacy-*", "Acme/Legacy-Keep", "octo/api", "octo/web", "!octo/web", "users-org/api-?")
	if err != nil {
		t.Fatal(err)
	}
	for repo, want := range map[string]bool{
		"acme/api":         true,
		"acme/legacy-site": false, // excluded
		"acme/legacy-keep": false, // a plain entry is excluded too
		"octo/api":         true,
		"octo/web":         false, // excluded plain entry
		"octo/other":       false, // no pattern for octo
		"users-org/api-1":  true,
		"users-org/api-12": false,
		"other/api":        false,
	} {
		if got := s.Match(repo); got != want {
			t.Errorf("Match(%s) = %v, want %v", repo, got, want)
		}
	}
	if diff := cmp.Diff([]string{"acme", "users-org"}, s.PatternOwners()); diff != "" {
		t.Errorf("PatternOwners (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]artifact.Repository{"octo/api"}, s.Listed()); diff != "" {
		t.Errorf("Listed (-want +got):\n%s", diff)
	}
	sel := s.Explain("acme/legacy-site")
	if sel.Selected || sel.By == nil || sel.By.Text != "acme/*" || sel.ExcludedBy == nil || sel.ExcludedBy.Text != "!acme/legacy-*" {
		t.Errorf("Explain(acme/legacy-site) = %+v", sel)
	}
	if !s.MatchesPatternOf("acme/api") || s.MatchesPatternOf("octo/api") {
		t.Error("MatchesPatternOf: acme/api comes from a pattern, octo/api from a plain entry")
	}
}

func TestParseSelectorErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		entries []string
		want    string
	}{
		{[]string{"*/*"}, "the owner must be written out"},
		{[]string{"acme*/x"}, "the owner must be written out"},
		{[]string{"!acme/x"}, "excludes from nothing"},
		{[]string{"acme/api", "!acme/web"}, "excludes from nothing"},
		{[]string{"acme"}, "is not owner/name"},
		{[]string{"acme/a/b"}, "has no \"/\""},
		{[]string{"-acme/x"}, "is not a GitHub account name"},
		{[]string{"acme/x y"}, "is not a repository name"},
		{[]string{"!"}, "must be followed"},
		{[]string{"acme/*", "!!acme/x"}, "not allowed"},
	} {
		_, err := ParseSelector(tc.entries...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSelector(%q) = %v; want an error containing %q", tc.entries, err, tc.want)
		}
	}
	// An exclusion of a plain entry has something to exclude from.
	if _, err := ParseSelector("acme/api", "!acme/api"); err != nil {
		t.Errorf("excluding a listed repository: %v", err)
	}
}

func TestPolicyWithPatterns(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`version: 1
repositories:
  - "octo-org/*"
  - "!octo-org/legacy-*"
  - other/api
include_archived: true
rules:
  - rule: mobile
    action: delete
    repositories: [octo-org/mobile]
    older_than: 7d
`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.IncludeArchived || !p.Selects("octo-org/web") || p.Selects("octo-org/legacy-x") || !p.Selects("other/api") {
		t.Errorf("policy: include_archived %v, selects web %v, legacy-x %v, other/api %v", p.IncludeArchived,
			p.Selects("octo-org/web"), p.Selects("octo-org/legacy-x"), p.Selects("other/api"))
	}
	if diff := cmp.Diff([]artifact.Repository{"other/api"}, p.Repositories); diff != "" {
		t.Errorf("Repositories (-want +got):\n%s", diff)
	}
	// A rule naming a repository no entry can select is refused; one a
	// pattern may find is not.
	_, err = Parse([]byte("version: 1\nrepositories: [\"octo-org/*\"]\nrules:\n  - rule: x\n    action: delete\n    repositories: [elsewhere/api]\n    older_than: 7d\n"))
	if err == nil || !strings.Contains(err.Error(), "matches none of the policy's repositories") {
		t.Errorf("rule outside the patterns: %v", err)
	}
}

func TestEvaluateExcludedReason(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte("version: 1\nrepositories: [\"acme/*\", \"!acme/legacy-*\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	ds := Evaluate(p, []artifact.Artifact{{ID: 1, Repository: "acme/legacy-site"}, {ID: 2, Repository: "acme/api"}}, testNow)
	if ds[0].Rule != RuleNotInPolicy || ds[0].Reason != "repository acme/legacy-site is excluded by the policy's repositories entry !acme/legacy-*" {
		t.Errorf("excluded repository: %+v", ds[0])
	}
	if ds[1].Rule == RuleNotInPolicy {
		t.Errorf("pattern-matched repository: %+v", ds[1])
	}
}

func TestDescribePatterns(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte("version: 1\nrepositories: [\"acme/*\", \"!acme/legacy-*\", acme/legacy-keep, other/api]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Describe(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"repositories (4 entries):",
		"  acme/*: every repository of acme\n",
		"  !acme/legacy-*: excludes the repositories of acme whose name matches legacy-*, listed ones too\n",
		"  acme/legacy-keep: this repository, but an exclusion below removes it\n",
		"  other/api: this repository\n",
		"by listing the repositories of acme\n",
		"archived repositories are skipped",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Describe lacks %q:\n%s", want, b.String())
		}
	}
}

// FuzzParseSelector checks that no input panics, that a parsed selector
// selects only repositories of its entries' owners, and that an excluded
// repository is never selected.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"acme/*\n!acme/legacy-*", "acme/api", "*/*", "!x/y", "a/[!b]*\n!a/c", "acme/api-?\nAcme/X.git"} {
		f.Add(s, "acme/legacy-site")
	}
	f.Fuzz(func(t *testing.T, list, repo string) {
		s, err := ParseSelector(strings.Split(list, "\n")...)
		if err != nil {
			return
		}
		repo = strings.ToLower(repo)
		sel := s.Explain(repo)
		if sel.Selected {
			owner, _, _ := strings.Cut(repo, "/")
			if sel.By == nil || sel.By.Owner != owner {
				t.Fatalf("%q selected by %+v, not by an entry of its owner", repo, sel.By)
			}
		}
		if sel.ExcludedBy != nil && sel.Selected {
			t.Fatalf("%q selected although %q excludes it", repo, sel.ExcludedBy.Text)
		}
		for _, r := range s.Listed() {
			if !s.Match(string(r)) {
				t.Fatalf("listed %q is not selected", r)
			}
		}
	})
}
