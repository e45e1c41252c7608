package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

// ruleSummary is the comparable part of a Rule.
type ruleSummary struct {
	Name, Action                string
	Repositories, Names, Branch []string
	OlderThan, NewerThan        time.Duration
	SizeGreater, SizeLess       int64
	Expired                     string
	KeepLatest                  int
	GroupBy                     []GroupKey
	Archive, ArchiveRequired    bool
	Line, Column                int
	Order                       []condKind
}

func summarise(r Rule) ruleSummary {
	s := ruleSummary{
		Name: r.Name, Action: string(r.Action),
		Repositories: r.Repositories.Entries(), Names: r.ArtifactName.Entries(), Branch: r.Branch.Entries(),
		KeepLatest: r.KeepLatest, GroupBy: r.GroupBy, Archive: r.Archive, ArchiveRequired: r.ArchiveRequired,
		Line: r.Line, Column: r.Column, Order: r.order, SizeGreater: -1, SizeLess: -1,
	}
	if r.OlderThan != nil {
		s.OlderThan = r.OlderThan.Value
	}
	if r.NewerThan != nil {
		s.NewerThan = r.NewerThan.Value
	}
	if r.SizeGreaterThan != nil {
		s.SizeGreater = r.SizeGreaterThan.Bytes
	}
	if r.SizeLessThan != nil {
		s.SizeLess = r.SizeLessThan.Bytes
	}
	if r.Expired != nil {
		s.Expired = map[bool]string{true: "true", false: "false"}[*r.Expired]
	}
	return s
}

func TestParseIssueExample(t *testing.T) {
	t.Parallel()
	p, err := Load(filepath.Join("testdata", "valid.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseFile("x.yaml", data)
	if err != nil || again.SHA256 != p.SHA256 || len(p.SHA256) != 64 {
		t.Fatalf("the same bytes must give the same SHA256: %v %q %q", err, p.SHA256, again.SHA256)
	}
	if p.File != filepath.Join("testdata", "valid.yaml") || p.Version != 1 || p.MinAge != 24*time.Hour {
		t.Errorf("File, Version, MinAge = %q, %d, %v", p.File, p.Version, p.MinAge)
	}
	if diff := cmp.Diff([]artifact.Repository{"octo-org/api", "octo-org/web"}, p.Repositories); diff != "" {
		t.Errorf("repositories (-want +got):\n%s", diff)
	}
	var got []ruleSummary
	for _, r := range p.Rules {
		got = append(got, summarise(r))
	}
	want := []ruleSummary{
		{Name: "keep-latest-per-branch", Action: "keep", KeepLatest: 3, GroupBy: []GroupKey{GroupName, GroupBranch},
			ArchiveRequired: true, Line: 8, Column: 5, SizeGreater: -1, SizeLess: -1},
		{Name: "keep-releases", Action: "keep", Branch: []string{"main", "release/**"},
			ArchiveRequired: true, Line: 12, Column: 5, Order: []condKind{condBranch}, SizeGreater: -1, SizeLess: -1},
		{Name: "old-test-results", Action: "delete", Names: []string{"test-results-*", "coverage-*"}, OlderThan: 7 * 24 * time.Hour,
			ArchiveRequired: true, Line: 15, Column: 5, Order: []condKind{condName, condOlderThan}, SizeGreater: -1, SizeLess: -1},
		{Name: "huge-pr-builds", Action: "delete", Branch: []string{"!main", "!release/**"}, SizeGreater: 500_000_000, OlderThan: 48 * time.Hour,
			Archive: true, ArchiveRequired: false, Line: 19, Column: 5, SizeLess: -1,
			Order: []condKind{condBranch, condSizeGreaterThan, condOlderThan}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, p *Policy)
	}{
		{
			name: "repositories are normalised and deduplicated",
			yaml: "version: 1\nrepositories: [Octo-Org/API, octo-org/api.git, octo-org/web]\n",
			check: func(t *testing.T, p *Policy) {
				if diff := cmp.Diff([]artifact.Repository{"octo-org/api", "octo-org/web"}, p.Repositories); diff != "" {
					t.Error(diff)
				}
				if len(p.Rules) != 0 || p.MinAge != DefaultMinAge {
					t.Errorf("rules %d, min_age %v", len(p.Rules), p.MinAge)
				}
			},
		},
		{
			name: "a single repository may be a scalar",
			yaml: "version: 1\nrepositories: octo-org/api\nrules: []\n",
			check: func(t *testing.T, p *Policy) {
				if diff := cmp.Diff([]artifact.Repository{"octo-org/api"}, p.Repositories); diff != "" {
					t.Error(diff)
				}
			},
		},
		{
			name: "min_age 0 explicitly",
			yaml: "version: 1\nrepositories: [a/b]\nsafety:\n  min_age: 0\n",
			check: func(t *testing.T, p *Policy) {
				if p.MinAge != 0 || p.minAgeString() != "0" {
					t.Errorf("min_age = %v (%q)", p.MinAge, p.minAgeString())
				}
			},
		},
		{
			name: "min_age 0s explicitly",
			yaml: "version: 1\nrepositories: [a/b]\nsafety:\n  min_age: 0s\n",
			check: func(t *testing.T, p *Policy) {
				if p.MinAge != 0 {
					t.Errorf("min_age = %v", p.MinAge)
				}
			},
		},
		{
			name: "min_age in days",
			yaml: "version: 1\nrepositories: [a/b]\nsafety:\n  min_age: 2d\n",
			check: func(t *testing.T, p *Policy) {
				if p.MinAge != 48*time.Hour || p.minAgeString() != "2d" {
					t.Errorf("min_age = %v (%q)", p.MinAge, p.minAgeString())
				}
			},
		},
		{
			name: "aliases resolve; numbers are text in patterns",
			yaml: "version: 1\nrepositories: [a/b]\n" +
				"rules:\n  - rule: r\n    action: keep\n    branch: &b [\"main\", 2024]\n  - rule: s\n    action: keep\n    name: &n build\n    branch: *b\n",
			check: func(t *testing.T, p *Policy) {
				if diff := cmp.Diff([]string{"main", "2024"}, p.Rules[1].Branch.Entries()); diff != "" {
					t.Error(diff)
				}
				if diff := cmp.Diff([]string{"build"}, p.Rules[1].ArtifactName.Entries()); diff != "" {
					t.Error(diff)
				}
			},
		},
		{
			name: "a delete rule with only expired",
			yaml: "version: 1\nrepositories: [a/b]\nrules:\n  - rule: gone\n    action: delete\n    expired: true\n",
			check: func(t *testing.T, p *Policy) {
				if p.Rules[0].Expired == nil || !*p.Rules[0].Expired || !p.Rules[0].ArchiveRequired || p.Rules[0].Archive {
					t.Errorf("rule = %+v", p.Rules[0])
				}
			},
		},
		{
			name: "a keep rule scoped only by repository",
			yaml: "version: 1\nrepositories: [a/b, a/legal]\nrules:\n  - rule: legal-hold\n    action: keep\n    repositories: [\"A/LEGAL\"]\n",
			check: func(t *testing.T, p *Policy) {
				if !p.Rules[0].Repositories.Match("a/legal") || p.Rules[0].Repositories.Match("a/b") {
					t.Error("repositories should match a/legal only, case-insensitively")
				}
			},
		},
		{
			name: "an age window and a size window",
			yaml: "version: 1\nrepositories: [a/b]\nrules:\n  - rule: w\n    action: delete\n" +
				"    older_than: 7d\n    newer_than: 30d\n    size_greater_than: 1KB\n    size_less_than: 1.002KB\n",
			check: func(t *testing.T, p *Policy) {
				r := p.Rules[0]
				if r.OlderThan.Value != 7*24*time.Hour || r.NewerThan.Value != 30*24*time.Hour || r.SizeLessThan.Bytes != 1002 {
					t.Errorf("rule = %+v", summarise(r))
				}
			},
		},
		{
			name: "archive with archive_required false",
			yaml: "version: 1\nrepositories: [a/b]\nrules:\n  - rule: a\n    action: delete\n    older_than: 1d\n    archive: true\n    archive_required: false\n",
			check: func(t *testing.T, p *Policy) {
				if !p.Rules[0].Archive || p.Rules[0].ArchiveRequired {
					t.Errorf("archive = %v, required = %v", p.Rules[0].Archive, p.Rules[0].ArchiveRequired)
				}
			},
		},
		{
			name: "explicit document markers",
			yaml: "---\nversion: 1\nrepositories: [a/b]\n...\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const head = "version: 1\nrepositories: [octo-org/api]\nrules:\n" // rules start on line 4
	tests := []struct {
		name string
		yaml string
		want []string // each "line:col: message substring", in order
	}{
		{"empty file", "", []string{"1:1: policy file is empty"}},
		{"only a comment", "# nothing\n", []string{"1:1: policy file is empty"}},
		{"null document", "~\n", []string{"1:1: policy file is empty"}},
		{"syntax error", "version: 1\nrepositories: [a/b\n", []string{"2:1: YAML syntax error: did not find expected ',' or ']'"}},
		{"block syntax error", "version: 1\nrepositories:\n  - a/b\n - c/d\n", []string{"4:1: YAML syntax error: did not find expected key"}},
		{"syntax error on line 1", "a: b: c\n", []string{"1:1: YAML syntax error: mapping values are not allowed"}},
		{"tab indentation", "version: 1\n\trepositories: []\n", []string{"2:1: YAML syntax error: a tab in the indentation: YAML indents with spaces only"}},
		// The parser blames the rule that starts on line 4; the tab is on line 5, after two spaces.
		{"tab inside a rule", "version: 1\nrepositories: [a/b]\nrules:\n  - rule: x\n  \taction: delete\n    older_than: 7d\n",
			[]string{"5:3: YAML syntax error: a tab in the indentation"}},
		// The parser blames line 4, where the mapping began; the key one space short is on line 6.
		{"key indented too little", "version: 1\nrepositories: [a/b]\nrules:\n  - rule: x\n    action: delete\n   older_than: 7d\n",
			[]string{"6:1: YAML syntax error: did not find expected '-' indicator"}},
		// A flow sequence that continues on the next line is not the mistake; the missing ] is.
		{"multi-line flow, then unclosed", "version: 1\nrepositories: [a/b,\n  c/d]\nrules: [x\nsafety: {}\n",
			[]string{"4:1: YAML syntax error:"}},
		{"two documents", "version: 1\nrepositories: [a/b]\n---\nversion: 1\n", []string{"3:1: a policy file holds one YAML document"}},
		{"not a mapping", "- a\n- b\n", []string{"1:1: the policy must be a mapping (key: value lines), not a list"}},
		{"unknown top-level key with suggestion", "version: 1\nrepositories: [a/b]\nrule: []\n", []string{`3:1: unknown key "rule" in the policy (did you mean rules?)`}},
		{"unknown top-level key listing keys", "version: 1\nrepositories: [a/b]\nfoo: 1\n", []string{`3:1: unknown key "foo" in the policy (known keys: version, repositories, include_archived, safety, rules)`}},
		{"duplicate top-level key", "version: 1\nversion: 1\nrepositories: [a/b]\n", []string{`2:1: duplicate key "version" in the policy (first at line 1)`}},
		{"merge key", "version: 1\nrepositories: [a/b]\n<<: {x: 1}\n", []string{"3:1: merge keys (<<) are not supported"}},
		{"non-string key", "version: 1\nrepositories: [a/b]\n[a]: 1\n", []string{"3:1: keys in the policy must be plain names, not a list"}},
		{"version missing", "repositories: [a/b]\n", []string{"1:1: version is missing; add version: 1"}},
		{"version 2", "version: 2\nrepositories: [a/b]\n", []string{"1:10: unsupported version 2"}},
		{"version as text", "version: \"1\"\nrepositories: [a/b]\n", []string{`1:10: version must be a whole number, not the text "1"`}},
		{"repositories missing", "version: 1\n", []string{"1:1: repositories is missing"}},
		{"repositories empty", "version: 1\nrepositories: []\n", []string{"2:15: repositories is an empty list"}},
		{"repositories null", "version: 1\nrepositories:\n", []string{"2:14: repositories is empty"}},
		{"repository not owner/name", "version: 1\nrepositories: [octo-org, a/b/c]\n", []string{`2:16: repository "octo-org" is not owner/name`, `2:26: repository "a/b/c" is not owner/name`}},
		{"repository glob owner", "version: 1\nrepositories: [\"*/*\"]\n", []string{`2:16: repositories entry "*/*": the owner must be written out`}},
		{"exclusion from nothing", "version: 1\nrepositories: [acme/api, \"!other/legacy-*\"]\n", []string{`2:26: repositories entry "!other/legacy-*" excludes from nothing`}},
		{"exclusion alone", "version: 1\nrepositories: [\"!acme/legacy-*\"]\n", []string{`2:16: repositories entry "!acme/legacy-*" excludes from nothing`}},
		{"bad owner", "version: 1\nrepositories: [\"ac.me/*\"]\n", []string{`2:16: repositories entry "ac.me/*": owner "ac.me" is not a GitHub account name`}},
		{"bad name pattern", "version: 1\nrepositories: [\"acme/a b*\"]\n", []string{`2:16: repositories entry "acme/a b*": "a b*" is not a repository name`}},
		{"bad glob", "version: 1\nrepositories: [\"acme/[a-*\"]\n", []string{`2:16: repositories entry "acme/[a-*"`}},
		{"double negation", "version: 1\nrepositories: [acme/x, \"!!acme/x\"]\n", []string{`2:24: repositories entry "!!..." is not allowed`}},
		{"include_archived not a boolean", "version: 1\nrepositories: [acme/x]\ninclude_archived: yes please\n", []string{`3:19: include_archived`}},
		{"repository not text", "version: 1\nrepositories: [{a: b}]\n", []string{"2:16: repositories entry must be text, not a mapping"}},
		{"safety not a mapping", "version: 1\nrepositories: [a/b]\nsafety: 24h\n", []string{`3:9: safety must be a mapping (key: value lines), not the text "24h"`}},
		{"safety unknown key", "version: 1\nrepositories: [a/b]\nsafety:\n  minage: 1h\n", []string{`4:3: unknown key "minage" in safety (did you mean min_age?)`}},
		{"min_age empty", "version: 1\nrepositories: [a/b]\nsafety:\n  min_age:\n", []string{"4:11: safety.min_age is empty"}},
		{"min_age negative", "version: 1\nrepositories: [a/b]\nsafety:\n  min_age: -1h\n", []string{`4:12: safety.min_age: duration "-1h": durations have no sign`}},
		{"min_age without unit", "version: 1\nrepositories: [a/b]\nsafety:\n  min_age: 24\n", []string{`4:12: safety.min_age: duration "24": missing unit after 24`}},
		{"rules not a list", head[:len(head)-len("rules:\n")] + "rules: {a: 1}\n", []string{"3:8: rules must be a list, not a mapping"}},
		{"rule not a mapping", head + "  - keep-all\n", []string{`4:5: a rule must be a mapping (key: value lines), not the text "keep-all"`}},
		{"rule missing name, uses name:", head + "  - name: keep-releases\n    action: keep\n    branch: main\n",
			[]string{"4:5: rule is missing: every rule needs a unique name, like rule: keep-releases (name: matches artifact names; the rule's own name goes in rule:)"}},
		{"rule name invalid", head + "  - rule: keep releases\n    action: keep\n    branch: main\n", []string{`4:11: rule name "keep releases": use 1 to 100 letters`}},
		{"rule name with a dot", head + "  - rule: safety.min_age\n    action: keep\n    branch: main\n", []string{`4:11: rule name "safety.min_age"`}},
		{"duplicate rule names", head + "  - rule: a\n    action: keep\n    branch: main\n  - rule: A\n    action: keep\n    branch: dev\n",
			[]string{`7:5: duplicate rule name "A" (first at line 4)`}},
		{"action missing", head + "  - rule: a\n    branch: main\n", []string{"4:5: rule a: action is missing"}},
		{"unknown action", head + "  - rule: a\n    action: remove\n    branch: main\n", []string{`5:13: action must be keep or delete, not "remove"`}},
		{"unknown rule key", head + "  - rule: a\n    action: delete\n    older-than: 7d\n", []string{
			`4:5: rule a: a delete rule needs at least one condition`,
			`6:5: unknown key "older-than" in a rule (did you mean older_than?)`}},
		{"duplicate rule key", head + "  - rule: a\n    action: delete\n    name: x\n    name: y\n", []string{`7:5: duplicate key "name" in a rule (first at line 6)`}},
		{"delete rule without conditions", head + "  - rule: everything\n    action: delete\n", []string{"4:5: rule everything: a delete rule needs at least one condition besides repositories"}},
		{"delete rule with only repositories", head + "  - rule: everything\n    action: delete\n    repositories: [\"octo-org/*\"]\n", []string{"4:5: rule everything: a delete rule needs at least one condition besides repositories"}},
		{"keep rule without conditions", head + "  - rule: all\n    action: keep\n", []string{"4:5: rule all: a keep rule with no condition and no keep_latest keeps every artifact"}},
		{"keep_latest on a delete rule", head + "  - rule: a\n    action: delete\n    older_than: 1d\n    keep_latest: 3\n", []string{"7:18: rule a: keep_latest only applies to keep rules"}},
		{"group_by on a delete rule", head + "  - rule: a\n    action: delete\n    older_than: 1d\n    group_by: [name]\n", []string{"7:15: rule a: group_by only applies to keep rules with keep_latest"}},
		{"keep_latest zero", head + "  - rule: a\n    action: keep\n    keep_latest: 0\n", []string{"6:18: keep_latest must be between 1 and 1000000, not 0"}},
		{"keep_latest not a number", head + "  - rule: a\n    action: keep\n    keep_latest: 3.5\n", []string{"6:18: keep_latest must be a whole number, not the number 3.5"}},
		{"group_by without keep_latest", head + "  - rule: a\n    action: keep\n    branch: main\n    group_by: [name]\n", []string{"7:15: rule a: group_by only applies with keep_latest"}},
		{"group_by unknown, repository, duplicate", head + "  - rule: a\n    action: keep\n    keep_latest: 1\n    group_by: [name, workflow, repository, name]\n", []string{
			`7:22: group_by: unknown field "workflow"`,
			"7:32: group_by: repository is always part of the group",
			"7:44: group_by: name is listed twice"}},
		{"archive on a keep rule", head + "  - rule: a\n    action: keep\n    branch: main\n    archive: true\n", []string{"7:14: rule a: archive only applies to delete rules"}},
		{"archive_required without archive", head + "  - rule: a\n    action: delete\n    older_than: 1d\n    archive_required: false\n", []string{"7:23: rule a: archive_required only applies with archive: true"}},
		{"archive not a bool", head + "  - rule: a\n    action: delete\n    older_than: 1d\n    archive: yes\n", []string{`7:14: archive must be true or false, not the text "yes"`}},
		{"expired not a bool", head + "  - rule: a\n    action: delete\n    expired: \"true\"\n", []string{`6:14: expired must be true or false, not the text "true"`}},
		{"empty age window", head + "  - rule: a\n    action: delete\n    older_than: 7d\n    newer_than: 2d\n", []string{"7:17: rule a: newer_than 2d and older_than 7d never both hold"}},
		{"equal age window", head + "  - rule: a\n    action: delete\n    older_than: 7d\n    newer_than: 1w\n", []string{"7:17: rule a: newer_than 1w and older_than 7d never both hold"}},
		{"size_less_than 0B", head + "  - rule: a\n    action: delete\n    size_less_than: 0B\n", []string{"6:21: rule a: size_less_than 0B matches no artifact"}},
		{"empty size window", head + "  - rule: a\n    action: delete\n    size_greater_than: 1KB\n    size_less_than: 1001B\n", []string{"7:21: rule a: size_greater_than 1KB and size_less_than 1001B never both hold"}},
		{"bad duration", head + "  - rule: a\n    action: delete\n    older_than: 6mo\n", []string{`6:17: older_than: duration "6mo": unknown unit "mo"`}},
		{"duration without unit", head + "  - rule: a\n    action: delete\n    older_than: 7\n", []string{`6:17: older_than: duration "7": missing unit after 7`}},
		{"zero duration", head + "  - rule: a\n    action: delete\n    newer_than: 0s\n", []string{`6:17: newer_than: duration "0s" must be greater than 0`}},
		{"duration as list", head + "  - rule: a\n    action: delete\n    older_than: [7d]\n", []string{"6:17: older_than must be text, not a list"}},
		{"bad size", head + "  - rule: a\n    action: delete\n    size_greater_than: 500mb\n", []string{`6:24: size_greater_than: size "500mb": unknown unit "mb"`}},
		{"bad glob", head + "  - rule: a\n    action: delete\n    name: [ok, \"[x\"]\n", []string{`6:16: name pattern "[x": unclosed [`}},
		{"bang read as a tag", head + "  - rule: a\n    action: delete\n    branch: [!main, foo]\n", []string{"6:14: YAML reads !main, as a tag, not as text: quote values that start with !"}},
		{"bang scalar read as a tag", head + "  - rule: a\n    action: delete\n    branch: !main\n", []string{"6:13: YAML reads !main as a tag"}},
		{"double negation", head + "  - rule: a\n    action: delete\n    branch: [\"!!main\"]\n", []string{`6:14: branch pattern "!!main": "!!" is not allowed`}},
		{"empty pattern list", head + "  - rule: a\n    action: delete\n    name: []\n", []string{"6:11: name is an empty list"}},
		{"null pattern", head + "  - rule: a\n    action: delete\n    name:\n", []string{"6:10: name is empty"}},
		{"bool pattern", head + "  - rule: a\n    action: delete\n    branch: true\n", []string{"6:13: branch must be text, not the boolean true"}},
		{"rule repositories matching none", head + "  - rule: a\n    action: delete\n    repositories: [\"other/*\"]\n    older_than: 1d\n",
			[]string{"6:19: rule a: repositories other/* matches none of the policy's repositories"}},
		{"several errors together, sorted", "version: 3\nrepositories: [a/b]\nsafety:\n  min_age: soon\nrules:\n  - rule: x\n    action: delete\n",
			[]string{"1:10: unsupported version 3", "4:12: safety.min_age", "6:5: rule x: a delete rule needs at least one condition"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", p)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not an ErrorList: %v", err, err)
			}
			if len(list) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(list), len(tc.want), err)
			}
			for i, e := range list {
				if e.File != "<input>" || e.Line < 1 || e.Column < 1 {
					t.Errorf("error without a position: %+v", e)
				}
				if !strings.Contains(e.Error(), tc.want[i]) {
					t.Errorf("error %d = %q; want it to contain %q", i, e.Error(), tc.want[i])
				}
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	data := []byte("version: 1\nrepositories: [a/b]\n# " + strings.Repeat("x", maxPolicyBytes) + "\n")
	_, err := Parse(data)
	if err == nil || !strings.Contains(err.Error(), "<input>:1:1: policy file is larger than 1 MiB") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "reading policy file") {
		t.Fatalf("err = %v", err)
	}
}

func TestErrorListFormat(t *testing.T) {
	t.Parallel()
	l := ErrorList{{File: "p.yaml", Line: 3, Column: 7, Msg: "bad"}, {File: "p.yaml", Line: 9, Column: 1, Msg: "worse"}}
	if got, want := l.Error(), "p.yaml:3:7: bad\np.yaml:9:1: worse"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}
