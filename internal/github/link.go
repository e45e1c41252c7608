package github

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// link is one entry of a Link header (RFC 8288): a target and its parameters
// in the order given, names lower-cased.
type link struct {
	target string
	params []linkParam
}

type linkParam struct {
	name  string
	value string
}

// param returns the first value of the named parameter.
func (l link) param(name string) (string, bool) {
	for _, p := range l.params {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// rels returns the link's relation types, lower-cased: rel may list several
// separated by spaces (rel="next last").
func (l link) rels() []string {
	v, _ := l.param("rel")
	return strings.Fields(strings.ToLower(v))
}

// errLinkSyntax is wrapped by every parseLink error.
var errLinkSyntax = errors.New("malformed Link header")

// parseLink parses a Link header value:
//
//	<https://api.github.com/repositories/1/actions/artifacts?page=2>; rel="next", <…>; rel="last"
//
// GitHub's own pagination links are simple, but the parser does not rely on
// that: commas and semicolons inside <…> or quoted strings belong to the
// value, parameters may be tokens or quoted strings with escapes, and empty
// list elements are skipped as RFC 9110's list syntax allows. Anything else
// is an error rather than a guess, because a misread next link silently ends
// a scan early.
func parseLink(header string) ([]link, error) {
	p := linkParser{s: header}
	var links []link
	for {
		p.skipSpace()
		if p.done() {
			return links, nil
		}
		if p.peek() == ',' {
			p.i++
			continue
		}
		l, err := p.link()
		if err != nil {
			return nil, fmt.Errorf("%w at byte %d: %w", errLinkSyntax, p.i, err)
		}
		links = append(links, l)
		p.skipSpace()
		if p.done() {
			return links, nil
		}
		if p.peek() != ',' {
			return nil, fmt.Errorf("%w at byte %d: want ',' between links, got %q", errLinkSyntax, p.i, p.peek())
		}
	}
}

type linkParser struct {
	s string
	i int
}

func (p *linkParser) done() bool { return p.i >= len(p.s) }
func (p *linkParser) peek() byte { return p.s[p.i] }

func (p *linkParser) skipSpace() {
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

// link parses `<target> *( OWS ";" OWS param )`.
func (p *linkParser) link() (link, error) {
	if p.peek() != '<' {
		return link{}, fmt.Errorf("want '<', got %q", p.peek())
	}
	end := strings.IndexByte(p.s[p.i+1:], '>')
	if end < 0 {
		return link{}, errors.New("unterminated <target>")
	}
	l := link{target: p.s[p.i+1 : p.i+1+end]}
	if strings.ContainsFunc(l.target, isCTL) {
		return link{}, errors.New("control character in target")
	}
	p.i += end + 2
	for {
		p.skipSpace()
		if p.done() || p.peek() == ',' {
			return l, nil
		}
		if p.peek() != ';' {
			return link{}, fmt.Errorf("want ';' before a parameter, got %q", p.peek())
		}
		p.i++
		p.skipSpace()
		if p.done() || p.peek() == ',' || p.peek() == ';' {
			continue // tolerate an empty parameter, as in `<u>;;rel=next` or a trailing ';'
		}
		param, err := p.param()
		if err != nil {
			return link{}, err
		}
		l.params = append(l.params, param)
	}
}

// param parses `token [ OWS "=" OWS ( token / quoted-string ) ]`.
func (p *linkParser) param() (linkParam, error) {
	name := p.token()
	if name == "" {
		return linkParam{}, fmt.Errorf("want a parameter name, got %q", p.peek())
	}
	lp := linkParam{name: strings.ToLower(name)}
	p.skipSpace()
	if p.done() || p.peek() != '=' {
		return lp, nil
	}
	p.i++
	p.skipSpace()
	if p.done() {
		return linkParam{}, fmt.Errorf("parameter %s has no value", name)
	}
	if p.peek() == '"' {
		v, err := p.quoted()
		if err != nil {
			return linkParam{}, fmt.Errorf("parameter %s: %w", name, err)
		}
		lp.value = v
		return lp, nil
	}
	lp.value = p.token()
	if lp.value == "" {
		return linkParam{}, fmt.Errorf("parameter %s: want a token or quoted string, got %q", name, p.peek())
	}
	return lp, nil
}

func (p *linkParser) token() string {
	start := p.i
	for !p.done() && isTokenChar(p.peek()) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted parses a quoted-string, undoing backslash escapes.
func (p *linkParser) quoted() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		c := p.peek()
		p.i++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if p.done() {
				return "", errors.New("unterminated quoted string")
			}
			if e := p.peek(); isCTL(rune(e)) && e != '\t' {
				return "", errors.New("escaped control character in quoted string")
			}
			b.WriteByte(p.peek())
			p.i++
		case isCTL(rune(c)) && c != '\t':
			return "", errors.New("control character in quoted string")
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated quoted string")
}

// isTokenChar reports whether c is a tchar of RFC 9110.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isCTL(r rune) bool { return r < 0x20 || r == 0x7f }

// nextPage returns the absolute URL of the rel="next" link in h, resolved
// against the URL that was requested, or nil on the last page.
func nextPage(h http.Header, requested *url.URL) (*url.URL, error) {
	values := h.Values("Link")
	if len(values) == 0 {
		return nil, nil
	}
	links, err := parseLink(strings.Join(values, ", "))
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if !slices.Contains(l.rels(), "next") {
			continue
		}
		u, err := url.Parse(l.target)
		if err != nil {
			return nil, fmt.Errorf("next link %q: %w", l.target, err)
		}
		return requested.ResolveReference(u), nil
	}
	return nil, nil
}
