package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/retentiond/retentiond/internal/artifact"
)

// SelectorKind is what one entry of the policy's repositories list is.
type SelectorKind uint8

// The kinds of repositories entries.
const (
	// SelectRepository is a plain owner/name: that repository, scanned
	// without listing its owner's repositories.
	SelectRepository SelectorKind = iota
	// SelectPattern is owner/glob (acme/*, acme/api-*): every repository
	// of the owner whose name matches, found by listing the owner's
	// repositories at the start of each run.
	SelectPattern
	// SelectExclude is !owner/glob (or !owner/name): repositories that
	// match are not scanned and get no decisions, whichever entry
	// included them, plain ones too.
	SelectExclude
)

// SelectorEntry is one entry of the repositories list as written.
type SelectorEntry struct {
	// Text is the entry as written in the file ("!acme/legacy-*").
	Text string
	Kind SelectorKind
	// Owner is the entry's owner, lower-cased.
	Owner string
	// Name is the name part, lower-cased, without the "!": a repository
	// name for SelectRepository, a glob otherwise.
	Name string
	// Line and Column locate the entry in the policy file (0 when the
	// selector was not parsed from a file).
	Line, Column int

	glob glob // for SelectPattern and SelectExclude
}

// Selector is the policy's repositories list, compiled: which repositories
// retentiond scans and decides on. A repository is selected when a plain
// entry names it or a pattern matches it, and no exclusion matches it.
// Matching ignores case, as GitHub does; Match expects the lower-case
// owner/name that artifact.Repository holds.
type Selector struct {
	entries []SelectorEntry
	plain   map[string]int // lower-case owner/name → index of its first entry
	// byOwner indexes the patterns and exclusions by owner, so a match
	// only tries the globs of the repository's own owner.
	byOwner map[string]*ownerGlobs
}

type ownerGlobs struct {
	include, exclude []int // indexes into entries
}

// Selection says why a repository is or is not selected.
type Selection struct {
	// Selected reports whether the repository is scanned and decided on.
	Selected bool
	// By is the first entry that includes the repository, or nil.
	By *SelectorEntry
	// ExcludedBy is the first exclusion that matches it, or nil. A
	// repository with ExcludedBy set is never selected.
	ExcludedBy *SelectorEntry
}

// ParseSelector compiles repositories entries as a policy's repositories
// list holds them. The error joins one error per bad entry, each naming the
// entry's position in the list.
func ParseSelector(entries ...string) (*Selector, error) {
	s, errs := compileSelector(entries, nil)
	if len(errs) == 0 {
		return s, nil
	}
	var all []error
	for i := range entries {
		if err, ok := errs[i]; ok {
			all = append(all, fmt.Errorf("entry %d: %w", i+1, err))
		}
	}
	return nil, errors.Join(all...)
}

// ownerValid accepts a GitHub account name: letters, digits, "-" and "_"
// (managed users' logins carry a "_shortcode"), not starting with "-".
func ownerValid(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// nameValid accepts a repository name, or a glob over one when glob is
// set: GitHub names are letters, digits, ".", "-" and "_".
func nameValid(s string, glob bool) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		case glob && strings.IndexByte("*?[]!^\\", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// compileSelector compiles entries; pos, when set, gives each entry's line
// and column. It returns one error per bad entry, indexed like entries.
func compileSelector(entries []string, pos func(i int) (line, col int)) (*Selector, map[int]error) {
	s := &Selector{plain: map[string]int{}, byOwner: map[string]*ownerGlobs{}}
	errs := map[int]error{}
	idx := map[int]int{} // entry index → index in s.entries
	for i, raw := range entries {
		e, err := parseSelectorEntry(raw)
		if err != nil {
			errs[i] = err
			continue
		}
		if pos != nil {
			e.Line, e.Column = pos(i)
		}
		idx[i] = len(s.entries)
		s.entries = append(s.entries, e)
	}
	for k := range s.entries {
		e := &s.entries[k]
		switch e.Kind {
		case SelectRepository:
			if _, dup := s.plain[e.Owner+"/"+e.Name]; !dup {
				s.plain[e.Owner+"/"+e.Name] = k
			}
		case SelectPattern, SelectExclude:
			og := s.byOwner[e.Owner]
			if og == nil {
				og = &ownerGlobs{}
				s.byOwner[e.Owner] = og
			}
			if e.Kind == SelectPattern {
				og.include = append(og.include, k)
			} else {
				og.exclude = append(og.exclude, k)
			}
		}
	}
	// An exclusion must have something to exclude from: a pattern of the
	// same owner, or a plain entry it matches. Otherwise it is a mistake
	// (a typo in the owner, a forgotten include) that would silently do
	// nothing.
	for i := range entries {
		k, ok := idx[i]
		if !ok || s.entries[k].Kind != SelectExclude {
			continue
		}
		e := &s.entries[k]
		if og := s.byOwner[e.Owner]; og != nil && len(og.include) > 0 {
			continue
		}
		matched := false
		for name := range s.plain {
			if owner, repo, _ := strings.Cut(name, "/"); owner == e.Owner && e.glob.match(repo) {
				matched = true
				break
			}
		}
		if !matched {
			errs[i] = fmt.Errorf("repositories entry %q excludes from nothing: no pattern of %s (like %s/*) and no listed repository it matches comes before or after it",
				e.Text, e.Owner, e.Owner)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// parseSelectorEntry parses one entry.
func parseSelectorEntry(raw string) (SelectorEntry, error) {
	text := strings.TrimSpace(raw)
	e := SelectorEntry{Text: text, Kind: SelectRepository}
	body := text
	if strings.HasPrefix(body, "!") {
		e.Kind = SelectExclude
		body = body[1:]
		if body == "" {
			return e, errors.New(`repositories entry "!" must be followed by owner/pattern, like "!acme/legacy-*"`)
		}
		if strings.HasPrefix(body, "!") {
			return e, errors.New(`repositories entry "!!..." is not allowed: a "!" entry excludes, and exclusions cannot be negated`)
		}
	}
	owner, name, ok := strings.Cut(strings.ToLower(body), "/")
	if !ok || name == "" || owner == "" {
		return e, fmt.Errorf("repository %q is not owner/name (or owner/pattern, like acme/api-*)", text)
	}
	if strings.ContainsAny(owner, "*?[]\\") {
		return e, fmt.Errorf("repositories entry %q: the owner must be written out (patterns match repository names of one owner; %q would reach every account on GitHub)", text, text)
	}
	if !ownerValid(owner) {
		return e, fmt.Errorf("repositories entry %q: owner %q is not a GitHub account name (letters, digits, - and _)", text, owner)
	}
	if strings.Contains(name, "/") {
		return e, fmt.Errorf("repository %q is not owner/name: a repository name has no \"/\"", text)
	}
	name = strings.TrimSuffix(name, ".git")
	isGlob := strings.ContainsAny(name, "*?[\\")
	if e.Kind == SelectRepository && isGlob {
		e.Kind = SelectPattern
	}
	if !nameValid(name, e.Kind != SelectRepository) {
		return e, fmt.Errorf("repositories entry %q: %q is not a repository name (letters, digits, ., - and _)", text, name)
	}
	e.Owner, e.Name = owner, name
	if e.Kind != SelectRepository {
		g, err := compileGlob(name)
		if err != nil {
			return e, fmt.Errorf("repositories entry %q: %w", text, err)
		}
		e.glob = g
	}
	return e, nil
}

// Entries returns the entries as parsed, in file order.
func (s *Selector) Entries() []SelectorEntry {
	if s == nil {
		return nil
	}
	return append([]SelectorEntry(nil), s.entries...)
}

// Match reports whether the lower-case owner/name repo is selected. It
// costs a map lookup or two and the globs of repo's own owner.
func (s *Selector) Match(repo string) bool {
	return s.Explain(repo).Selected
}

// Explain says whether repo (lower-case owner/name) is selected, and which
// entries decided it.
func (s *Selector) Explain(repo string) Selection {
	var sel Selection
	if s == nil {
		return sel
	}
	owner, name, _ := strings.Cut(repo, "/")
	og := s.byOwner[owner]
	if og != nil {
		for _, k := range og.exclude {
			if s.entries[k].glob.match(name) {
				sel.ExcludedBy = &s.entries[k]
				break
			}
		}
	}
	if k, ok := s.plain[repo]; ok {
		sel.By = &s.entries[k]
	} else if og != nil {
		for _, k := range og.include {
			if s.entries[k].glob.match(name) {
				sel.By = &s.entries[k]
				break
			}
		}
	}
	sel.Selected = sel.By != nil && sel.ExcludedBy == nil
	return sel
}

// PatternOwners returns the owners whose repositories must be listed to
// resolve the patterns, in file order.
func (s *Selector) PatternOwners() []string {
	if s == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range s.entries {
		if e.Kind == SelectPattern && !seen[e.Owner] {
			seen[e.Owner] = true
			out = append(out, e.Owner)
		}
	}
	return out
}

// HasPatterns reports whether any entry is a pattern, so that resolving
// the list needs GitHub.
func (s *Selector) HasPatterns() bool { return len(s.PatternOwners()) > 0 }

// Listed returns the plain owner/name entries that no exclusion removes,
// deduplicated, in file order: the repositories selected without listing
// any owner.
func (s *Selector) Listed() []artifact.Repository {
	if s == nil {
		return nil
	}
	var out []artifact.Repository
	seen := map[string]bool{}
	for _, e := range s.entries {
		if e.Kind != SelectRepository {
			continue
		}
		name := e.Owner + "/" + e.Name
		if seen[name] || !s.Match(name) {
			continue
		}
		seen[name] = true
		out = append(out, artifact.Repository(name))
	}
	return out
}

// MatchesPatternOf reports whether repo (lower-case) is selected by a
// pattern rather than a plain entry: its selection depends on listing
// its owner.
func (s *Selector) MatchesPatternOf(repo string) bool {
	sel := s.Explain(repo)
	return sel.Selected && sel.By.Kind == SelectPattern
}

// couldSelect reports whether a rule's repositories condition can hold for
// some repository the selector selects. Without patterns that is exact.
// With them it is exact for written-out names (acme/api is checked against
// the patterns) and otherwise assumed: which repositories a pattern finds
// is only known when the owner is listed, at run time.
func (p *Patterns) couldSelect(s *Selector) bool {
	for _, repo := range s.Listed() {
		if p.Match(string(repo)) {
			return true
		}
	}
	if !s.HasPatterns() {
		return false
	}
	if len(p.pos) == 0 {
		return true
	}
	for _, src := range p.posSrc {
		lit := strings.ToLower(src)
		if strings.ContainsAny(lit, "*?[\\") {
			return true
		}
		if s.Match(lit) {
			return true
		}
	}
	return false
}
