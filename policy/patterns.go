package policy

import (
	"errors"
	"strings"
)

// Patterns is a compiled pattern list from a policy. It matches a value
// when no "!pattern" entry matches it and, if the list has positive
// entries, at least one of them does: ["!main"] is any branch but main,
// ["release/**", "!release/old-*"] is any release branch but the old ones.
type Patterns struct {
	entries []string
	pos     []glob
	posSrc  []string
	neg     []glob
	negSrc  []string
	fold    bool
}

// compilePatterns compiles a list. With fold set, matching ignores case
// (patterns are lower-cased here and Match expects a lower-case value).
// It returns one error per bad entry, indexed like entries.
func compilePatterns(entries []string, fold bool) (*Patterns, map[int]error) {
	p := &Patterns{entries: entries, fold: fold}
	errs := map[int]error{}
	for i, e := range entries {
		src := e
		negated := strings.HasPrefix(src, "!")
		if negated {
			src = src[1:]
			if src == "" {
				errs[i] = errors.New(`"!" must be followed by a pattern`)
				continue
			}
			if strings.HasPrefix(src, "!") {
				errs[i] = errors.New(`"!!" is not allowed: a "!" entry excludes, and exclusions cannot be negated`)
				continue
			}
		}
		if fold {
			src = strings.ToLower(src)
		}
		g, err := compileGlob(src)
		if err != nil {
			errs[i] = err
			continue
		}
		if negated {
			p.neg = append(p.neg, g)
			p.negSrc = append(p.negSrc, e)
		} else {
			p.pos = append(p.pos, g)
			p.posSrc = append(p.posSrc, e)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// Match reports whether s matches the list. A nil list matches everything
// (the condition is absent).
func (p *Patterns) Match(s string) bool {
	if p == nil {
		return true
	}
	return p.matchIndex(s) >= 0
}

// matchIndex returns the index of the first positive entry that matches s,
// len(pos) when the list has only negations and none matches, or -1 when
// the list does not match.
func (p *Patterns) matchIndex(s string) int {
	for i := range p.neg {
		if p.neg[i].match(s) {
			return -1
		}
	}
	if len(p.pos) == 0 {
		return 0
	}
	for i := range p.pos {
		if p.pos[i].match(s) {
			return i
		}
	}
	return -1
}

// Entries returns the list as written in the policy.
func (p *Patterns) Entries() []string {
	if p == nil {
		return nil
	}
	return append([]string(nil), p.entries...)
}

// String joins the entries with commas, as reasons show them.
func (p *Patterns) String() string {
	if p == nil {
		return ""
	}
	return strings.Join(p.entries, ",")
}

// appendMatched appends the entries that made s match for a reason: the
// first positive entry that matched followed by every negation, e.g.
// "test-results-*" or "release/**,!release/old-*" or "!main,!release/**".
// It must only be called when the list matches s.
func (p *Patterns) appendMatched(buf []byte, s string) []byte {
	first := true
	if len(p.pos) > 0 {
		if i := p.matchIndex(s); i >= 0 {
			buf = append(buf, p.posSrc[i]...)
			first = false
		}
	}
	for _, n := range p.negSrc {
		if !first {
			buf = append(buf, ',')
		}
		buf = append(buf, n...)
		first = false
	}
	return buf
}
