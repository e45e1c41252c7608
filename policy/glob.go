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
// "\[", "\!"). Globs are compiled once, at load time, into the cheapest
// matcher that fits: most real patterns become a prefix, suffix or
// equality test.

// maxGlobLen bounds a pattern so the matcher's state fits in a fixed array.
const maxGlobLen = 255

type globKind uint8

const (
	globLiteral    globKind = iota // s == lit
	globPrefixStar                 // lit + "*"
	globPrefixAny                  // lit + "**"
	globStarSuffix                 // "*" + lit
	globAnySuffix                  // "**" + lit
	globGeneral                    // anything else: NFA over toks
)

type tokKind uint8

const (
	tokLit   tokKind = iota // one character, lit holds its bytes
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
}

// glob is one compiled pattern.
type glob struct {
	kind globKind
	lit  string
	toks []globTok
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
		// The prefix and suffix fast paths compare bytes; with valid UTF-8
		// patterns that is the same as comparing characters.
		return glob{}, errors.New("pattern is not valid UTF-8")
	}
	toks, err := tokenizeGlob(src)
	if err != nil {
		return glob{}, err
	}
	return specialise(toks), nil
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

// specialise picks the fastest matcher for toks.
func specialise(toks []globTok) glob {
	lits := func(ts []globTok) (string, bool) {
		var b strings.Builder
		for _, t := range ts {
			if t.kind != tokLit {
				return "", false
			}
			b.WriteString(t.lit)
		}
		return b.String(), true
	}
	if lit, ok := lits(toks); ok {
		return glob{kind: globLiteral, lit: lit}
	}
	last := toks[len(toks)-1].kind
	if lit, ok := lits(toks[:len(toks)-1]); ok {
		switch last {
		case tokStar:
			return glob{kind: globPrefixStar, lit: lit}
		case tokDStar:
			return glob{kind: globPrefixAny, lit: lit}
		}
	}
	first := toks[0].kind
	if lit, ok := lits(toks[1:]); ok {
		switch first {
		case tokStar:
			return glob{kind: globStarSuffix, lit: lit}
		case tokDStar:
			return glob{kind: globAnySuffix, lit: lit}
		}
	}
	return glob{kind: globGeneral, toks: toks}
}

// match reports whether the whole of s matches.
func (g *glob) match(s string) bool {
	switch g.kind {
	case globLiteral:
		return s == g.lit
	case globPrefixStar:
		return strings.HasPrefix(s, g.lit) && strings.IndexByte(s[len(g.lit):], '/') < 0
	case globPrefixAny:
		return strings.HasPrefix(s, g.lit)
	case globStarSuffix:
		return strings.HasSuffix(s, g.lit) && strings.IndexByte(s[:len(s)-len(g.lit)], '/') < 0
	case globAnySuffix:
		return strings.HasSuffix(s, g.lit)
	}
	return g.matchNFA(s)
}

// stateSet holds one bit per token position (at most maxGlobLen+1).
type stateSet [4]uint64

func (b *stateSet) set(i int)      { b[i>>6] |= 1 << (i & 63) }
func (b *stateSet) has(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }
func (b *stateSet) empty() bool    { return b[0]|b[1]|b[2]|b[3] == 0 }

// matchNFA simulates the pattern as an automaton whose state i means
// "toks[:i] matched so far": linear in len(s)×len(toks), with no
// backtracking blow-up whatever the pattern.
func (g *glob) matchNFA(s string) bool {
	n := len(g.toks)
	var cur stateSet
	cur.set(0)
	g.closure(&cur)
	for pos := 0; pos < len(s); {
		r, w := utf8.DecodeRuneInString(s[pos:])
		ch := s[pos : pos+w]
		pos += w
		var next stateSet
		for i := 0; i < n; i++ {
			if !cur.has(i) {
				continue
			}
			t := &g.toks[i]
			switch t.kind {
			case tokLit:
				if ch == t.lit {
					next.set(i + 1)
				}
			case tokAny:
				if r != '/' {
					next.set(i + 1)
				}
			case tokClass:
				if r != '/' && t.classMatch(r) {
					next.set(i + 1)
				}
			case tokStar:
				if r != '/' {
					next.set(i)
				}
			case tokDStar:
				next.set(i)
			}
		}
		if next.empty() {
			return false
		}
		g.closure(&next)
		cur = next
	}
	return cur.has(n)
}

// closure lets every star match the empty string.
func (g *glob) closure(b *stateSet) {
	for i, t := range g.toks {
		if b.has(i) && (t.kind == tokStar || t.kind == tokDStar) {
			b.set(i + 1)
		}
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
