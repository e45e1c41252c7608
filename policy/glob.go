package policy

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Globs match a whole string. "*" matches any run of characters except
// "/", "**" any run including "/", "?" one character except "/", and
// "[abc]", "[a-z]", "[!a-z]" (or "[^a-z]") one character of (or not of) a
// class, never "/". A backslash makes the next character literal ("\*",
// "\[", "\!"). Globs are compiled into tokens once, at load time.

// maxGlobLen bounds a pattern, and with it the work of one match, which is
// at most proportional to the pattern's length times the value's.
const maxGlobLen = 255

type tokKind uint8

const (
	tokLit   tokKind = iota // lit: one character, or a run of them once compiled
	tokAny                  // ?
	tokClass                // [...]
	tokStar                 // *
	tokDStar                // **
)

type runeRange struct{ lo, hi rune }

type globTok struct {
	kind    tokKind
	lit     string
	ranges  []runeRange
	negated bool
	star    int // for tokStar and tokDStar, which star of the pattern, from 0
}

// glob is one compiled pattern.
type glob struct {
	toks  []globTok
	stars int
}

// compileGlob compiles src (without any leading "!" negation).
func compileGlob(src string) (glob, error) {
	if src == "" {
		return glob{}, errors.New("empty pattern")
	}
	if len(src) > maxGlobLen {
		return glob{}, errors.New("pattern longer than 255 bytes")
	}
	if !utf8.ValidString(src) {
		// Literals are compared as bytes; with valid UTF-8 patterns that
		// is the same as comparing characters.
		return glob{}, errors.New("pattern is not valid UTF-8")
	}
	toks, err := tokenizeGlob(src)
	if err != nil {
		return glob{}, err
	}
	// Runs of literal characters become one literal, compared at once.
	var g glob
	for _, t := range toks {
		switch t.kind {
		case tokLit:
			if n := len(g.toks); n > 0 && g.toks[n-1].kind == tokLit {
				g.toks[n-1].lit += t.lit
				continue
			}
		case tokStar, tokDStar:
			t.star = g.stars
			g.stars++
		}
		g.toks = append(g.toks, t)
	}
	return g, nil
}

func tokenizeGlob(src string) ([]globTok, error) {
	var toks []globTok
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '\\':
			if i+1 >= len(src) {
				return nil, errors.New("pattern ends with a lone backslash (write \\\\ for a literal one)")
			}
			_, w := utf8.DecodeRuneInString(src[i+1:])
			toks = append(toks, globTok{kind: tokLit, lit: src[i+1 : i+1+w]})
			i += 1 + w
		case '*':
			n := 0
			for i+n < len(src) && src[i+n] == '*' {
				n++
			}
			if n > 2 {
				return nil, errors.New("*** is not a pattern: * matches within one path segment, ** across /")
			}
			if n == 2 {
				toks = append(toks, globTok{kind: tokDStar})
			} else {
				toks = append(toks, globTok{kind: tokStar})
			}
			i += n
		case '?':
			toks = append(toks, globTok{kind: tokAny})
			i++
		case '[':
			tok, n, err := parseClass(src[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i += n
		default:
			_, w := utf8.DecodeRuneInString(src[i:])
			toks = append(toks, globTok{kind: tokLit, lit: src[i : i+w]})
			i += w
		}
	}
	return toks, nil
}

// parseClass reads "[...]" at the start of s and returns the token and
// the number of bytes it spans.
func parseClass(s string) (globTok, int, error) {
	tok := globTok{kind: tokClass}
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		tok.negated = true
		i++
	}
	readRune := func() (rune, error) {
		if s[i] == '\\' {
			i++
			if i >= len(s) {
				return 0, errors.New("unclosed [ in pattern (write \\[ for a literal [)")
			}
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if r == '/' {
			return 0, errors.New("a [class] never matches /; remove it from the class")
		}
		return r, nil
	}
	for {
		if i >= len(s) {
			return tok, 0, errors.New("unclosed [ in pattern (write \\[ for a literal [)")
		}
		if s[i] == ']' {
			i++
			break
		}
		lo, err := readRune()
		if err != nil {
			return tok, 0, err
		}
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			i++
			if hi, err = readRune(); err != nil {
				return tok, 0, err
			}
			if hi < lo {
				return tok, 0, errors.New("bad range " + string(lo) + "-" + string(hi) + " in [class]: the first character must come first")
			}
		}
		tok.ranges = append(tok.ranges, runeRange{lo, hi})
	}
	if len(tok.ranges) == 0 {
		return tok, 0, errors.New("empty [] class in pattern (write \\[ for a literal [)")
	}
	return tok, i, nil
}

// match reports whether the whole of s matches.
func (g *glob) match(s string) bool {
	m := globMatch{toks: g.toks, s: s}
	if g.stars > 1 {
		// Backtracking alone could try the same star at the same place
		// exponentially often ("*a*a*a*b" against "aaaa…"); remembering
		// where each star already failed bounds the work by
		// len(toks) × len(s).
		m.failed = make([]bool, g.stars*(len(s)+1))
	}
	return m.from(0, 0)
}

// globMatch is the state of one match of toks against s.
type globMatch struct {
	toks []globTok
	s    string
	// failed[star*(len(s)+1)+i] records that the tokens from that star on
	// cannot match s[i:]; nil when the pattern has fewer than two stars.
	failed []bool
}

// from reports whether toks[t:] matches s[i:] exactly.
func (m *globMatch) from(t, i int) bool {
	for ; t < len(m.toks); t++ {
		tok := &m.toks[t]
		switch tok.kind {
		case tokStar, tokDStar:
			return m.star(t, i)
		case tokLit:
			if !strings.HasPrefix(m.s[i:], tok.lit) {
				return false
			}
			i += len(tok.lit)
			continue
		}
		if i == len(m.s) {
			return false
		}
		r, w := utf8.DecodeRuneInString(m.s[i:])
		if r == '/' || (tok.kind == tokClass && !tok.classMatch(r)) {
			return false
		}
		i += w
	}
	return i == len(m.s)
}

// star reports whether toks[t:], which starts with a star, matches s[i:]:
// it tries the star on s[i:i], s[i:i+1]… for as far as the star can reach.
func (m *globMatch) star(t, i int) bool {
	tok := &m.toks[t]
	if t+1 == len(m.toks) { // a final star takes the rest, if it can
		return tok.kind == tokDStar || strings.IndexByte(m.s[i:], '/') < 0
	}
	var failed []bool
	if m.failed != nil {
		failed = m.failed[tok.star*(len(m.s)+1):][:len(m.s)+1]
	}
	for {
		// Had this star, started at i, failed before, it would fail
		// again: it reaches as far from i whatever came before. A success
		// ends the whole match, so marking before trying is safe.
		if failed != nil {
			if failed[i] {
				return false
			}
			failed[i] = true
		}
		if m.from(t+1, i) {
			return true
		}
		if i == len(m.s) {
			return false
		}
		r, w := utf8.DecodeRuneInString(m.s[i:])
		if r == '/' && tok.kind == tokStar {
			return false
		}
		i += w
	}
}

func (t *globTok) classMatch(r rune) bool {
	in := false
	for _, rg := range t.ranges {
		if r >= rg.lo && r <= rg.hi {
			in = true
			break
		}
	}
	return in != t.negated
}
