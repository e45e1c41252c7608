package policy

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{"main", []string{"main"}, []string{"Main", "main2", "xmain", "", "main/x"}},
		{"test-results-*", []string{"test-results-", "test-results-unit"}, []string{"test-results", "test-results-a/b", "xtest-results-a"}},
		{"release/**", []string{"release/", "release/1.2", "release/1/2/3"}, []string{"release", "releases/1", "hotfix/release/1"}},
		{"*-linux", []string{"-linux", "build-linux"}, []string{"a/b-linux", "build-linux-x"}},
		{"**/docs", []string{"a/b/docs", "/docs", "x/docs"}, []string{"docs/x", "adocs2"}},
		{"*", []string{"", "anything"}, []string{"a/b"}},
		{"**", []string{"", "a/b/c"}, nil},
		{"v?", []string{"v1", "vé"}, []string{"v", "v12", "v/"}},
		{"build-*-linux", []string{"build--linux", "build-x86-linux", "build-linux-linux"}, []string{"build-a/b-linux", "build-linux"}},
		{"feature/**/wip", []string{"feature//wip", "feature/a/wip", "feature/a/b/wip"}, []string{"feature/wip", "feature/a/wip/x"}},
		{"*/*", []string{"a/b", "/"}, []string{"a", "a/b/c"}},
		{"[abc]x", []string{"ax", "bx", "cx"}, []string{"dx", "x", "abx"}},
		{"[a-c0-9]", []string{"a", "b", "7"}, []string{"d", "A", "-"}},
		{"[!a-c]", []string{"d", "Z", "é"}, []string{"a", "c", "/", ""}},
		{"[^a-c]", []string{"d"}, []string{"b"}},
		{"[-a]", []string{"-", "a"}, []string{"b"}},
		{"[a-]", []string{"-", "a"}, []string{"b"}},
		{`[\]]`, []string{"]"}, []string{"x"}},
		{`\*`, []string{"*"}, []string{"a"}},
		{`a\?b`, []string{"a?b"}, []string{"axb"}},
		{`\!x`, []string{"!x"}, []string{"x"}},
		{`\[x*`, []string{"[x", "[xyz"}, []string{"x"}},
		{"é*", []string{"é", "éa"}, []string{"e"}},
		{"**-*", []string{"a/b-c", "-"}, []string{"a-b/c"}},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			t.Parallel()
			g, err := compileGlob(tc.pattern)
			if err != nil {
				t.Fatalf("compileGlob(%q): %v", tc.pattern, err)
			}
			for _, s := range tc.yes {
				if !g.match(s) {
					t.Errorf("%q should match %q", tc.pattern, s)
				}
			}
			for _, s := range tc.no {
				if g.match(s) {
					t.Errorf("%q should not match %q", tc.pattern, s)
				}
			}
		})
	}
}

func TestCompileGlobErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		want    string
	}{
		{"", "empty pattern"},
		{"a***", "*** is not a pattern"},
		{"[abc", "unclosed ["},
		{"[", "unclosed ["},
		{`[a\`, "unclosed ["},
		{"[]", "empty [] class"},
		{"[!]", "empty [] class"},
		{"[z-a]", "bad range z-a"},
		{"[a/]", "never matches /"},
		{`abc\`, "lone backslash"},
		{strings.Repeat("a", 256), "longer than 255"},
		{"\xff", "not valid UTF-8"},
	}
	for _, tc := range tests {
		_, err := compileGlob(tc.pattern)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("compileGlob(%q) = %v; want error containing %q", tc.pattern, err, tc.want)
		}
	}
}

func TestPatternsMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []string
		fold    bool
		yes     []string
		no      []string
		matched map[string]string // value -> appendMatched text
	}{
		{
			name:    "positives are ORed",
			entries: []string{"test-results-*", "coverage-*"},
			yes:     []string{"test-results-unit", "coverage-go"},
			no:      []string{"build"},
			matched: map[string]string{"coverage-go": "coverage-*"},
		},
		{
			name:    "only negations match anything else",
			entries: []string{"!main", "!release/**"},
			yes:     []string{"feature/x", "mainline"},
			no:      []string{"main", "release/1.0"},
			matched: map[string]string{"feature/x": "!main,!release/**"},
		},
		{
			name:    "negation beats a positive",
			entries: []string{"release/**", "!release/old-*"},
			yes:     []string{"release/1.0"},
			no:      []string{"release/old-1", "main"},
			matched: map[string]string{"release/1.0": "release/**,!release/old-*"},
		},
		{
			name:    "repositories fold case",
			entries: []string{"Octo-Org/*", "!octo-org/LEGAL"},
			fold:    true,
			yes:     []string{"octo-org/api"},
			no:      []string{"octo-org/legal", "other/api"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, errs := compilePatterns(tc.entries, tc.fold)
			if errs != nil {
				t.Fatalf("compilePatterns: %v", errs)
			}
			for _, s := range tc.yes {
				if !p.Match(s) {
					t.Errorf("%v should match %q", tc.entries, s)
				}
			}
			for _, s := range tc.no {
				if p.Match(s) {
					t.Errorf("%v should not match %q", tc.entries, s)
				}
			}
			for s, want := range tc.matched {
				if got := string(p.appendMatched(nil, s)); got != want {
					t.Errorf("appendMatched(%q) = %q; want %q", s, got, want)
				}
			}
		})
	}
	if !(*Patterns)(nil).Match("anything") {
		t.Error("an absent pattern list must match everything")
	}
}

func TestCompilePatternsErrors(t *testing.T) {
	t.Parallel()
	_, errs := compilePatterns([]string{"ok", "!", "!!main", "[x"}, false)
	if len(errs) != 3 || errs[1] == nil || errs[2] == nil || errs[3] == nil {
		t.Fatalf("errors = %v; want entries 1, 2 and 3", errs)
	}
}

// refMatch is a deliberately naive, exponential reference for the glob
// semantics, used to check the compiled matchers.
func refMatch(toks []globTok, s string) bool {
	if len(toks) == 0 {
		return s == ""
	}
	t := toks[0]
	switch t.kind {
	case tokStar, tokDStar:
		for i := 0; ; {
			if refMatch(toks[1:], s[i:]) {
				return true
			}
			if i == len(s) {
				return false
			}
			r, w := utf8.DecodeRuneInString(s[i:])
			if t.kind == tokStar && r == '/' {
				return false
			}
			i += w
		}
	}
	if s == "" {
		return false
	}
	r, w := utf8.DecodeRuneInString(s)
	ok := false
	switch t.kind {
	case tokLit:
		ok = s[:w] == t.lit
	case tokAny:
		ok = r != '/'
	case tokClass:
		ok = r != '/' && t.classMatch(r)
	}
	return ok && refMatch(toks[1:], s[w:])
}

func TestGlobAgainstReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	patAlphabet := []string{"a", "b", "/", "-", "*", "**", "?", "[ab]", "[!a]", "é"}
	strAlphabet := []string{"a", "b", "/", "-", "é", "c"}
	for range 20000 {
		var pb, sb strings.Builder
		for range rng.IntN(7) {
			pb.WriteString(patAlphabet[rng.IntN(len(patAlphabet))])
		}
		for range rng.IntN(9) {
			sb.WriteString(strAlphabet[rng.IntN(len(strAlphabet))])
		}
		pattern, s := pb.String(), sb.String()
		g, err := compileGlob(pattern)
		if err != nil {
			continue // "***" and the empty pattern
		}
		toks, _ := tokenizeGlob(pattern)
		if got, want := g.match(s), refMatch(toks, s); got != want {
			t.Fatalf("glob %q on %q = %v; reference says %v", pattern, s, got, want)
		}
	}
}

// Patterns built to make a backtracking matcher retry the same stars
// exponentially often must match in time proportional to the pattern's
// length times the value's.
func TestGlobHostilePatterns(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 10_000)
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*a*a*a*a*a*b", long, false},
		{"*a*a*a*a*a*a", long, true},
		{"**a**a**a**a**a**b", long, false},
		{strings.Repeat("*a", 127), long, true},
		{strings.Repeat("*a", 127) + "b", long, false},
		{strings.Repeat("**a", 85), long + "/b", false},
		{strings.Repeat("*?", 127), long, true},
		{"*a*a*a*a*a*b", strings.Repeat("a/", 5_000), false},
	}
	for _, tc := range tests {
		g, err := compileGlob(tc.pattern)
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", tc.pattern, err)
		}
		if got := g.match(tc.s); got != tc.want {
			t.Errorf("glob %.20q… on %d bytes = %v; want %v", tc.pattern, len(tc.s), got, tc.want)
		}
	}
}
