package github

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// githubLinks is a middle page's Link header as GitHub sends it.
const githubLinks = `<https://api.github.com/repositories/42/actions/artifacts?per_page=100&page=1>; rel="prev", ` +
	`<https://api.github.com/repositories/42/actions/artifacts?per_page=100&page=3>; rel="next", ` +
	`<https://api.github.com/repositories/42/actions/artifacts?per_page=100&page=5>; rel="last", ` +
	`<https://api.github.com/repositories/42/actions/artifacts?per_page=100&page=1>; rel="first"`

func rel(target, value string) link {
	return link{target: target, params: []linkParam{{name: "rel", value: value}}}
}

func TestParseLink(t *testing.T) {
	t.Parallel()
	const base = "https://api.github.com/repositories/42/actions/artifacts?per_page=100&page="
	tests := []struct {
		name   string
		header string
		want   []link
	}{
		{name: "empty", header: "", want: nil},
		{name: "only separators", header: " , ,\t", want: nil},
		{name: "github middle page", header: githubLinks, want: []link{
			rel(base+"1", "prev"), rel(base+"3", "next"), rel(base+"5", "last"), rel(base+"1", "first"),
		}},
		{name: "unquoted rel", header: `<u>; rel=next`, want: []link{rel("u", "next")}},
		{name: "no spaces", header: `<a>;rel="next",<b>;rel="last"`, want: []link{rel("a", "next"), rel("b", "last")}},
		{name: "commas and semicolons inside the target", header: `<https://x/?a=1,2;3>; rel="next"`, want: []link{rel("https://x/?a=1,2;3", "next")}},
		{name: "commas inside a quoted value", header: `<a>; title="one, two; three"; rel="next"`, want: []link{{
			target: "a", params: []linkParam{{"title", "one, two; three"}, {"rel", "next"}},
		}}},
		{name: "escapes in a quoted value", header: `<a>; title="say \"hi\" \\ bye"`, want: []link{{
			target: "a", params: []linkParam{{"title", `say "hi" \ bye`}},
		}}},
		{name: "parameter names are case-insensitive", header: `<a>; REL="Next"`, want: []link{rel("a", "Next")}},
		{name: "parameter without value", header: `<a>; crossorigin; rel=next`, want: []link{{
			target: "a", params: []linkParam{{"crossorigin", ""}, {"rel", "next"}},
		}}},
		{name: "empty parameters and elements", header: `, <a>;; rel=next; , ,<b>`, want: []link{rel("a", "next"), {target: "b"}}},
		{name: "spaces around equals", header: `<a> ; rel = "next"`, want: []link{rel("a", "next")}},
		{name: "empty target", header: `<>; rel="self"`, want: []link{rel("", "self")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseLink(tc.header)
			if err != nil {
				t.Fatalf("parseLink(%q): %v", tc.header, err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(link{}, linkParam{})); diff != "" {
				t.Errorf("parseLink(%q) (-want +got):\n%s", tc.header, diff)
			}
		})
	}
}

func TestParseLinkErrors(t *testing.T) {
	t.Parallel()
	for name, header := range map[string]string{
		"no angle brackets":      `https://x; rel="next"`,
		"unterminated target":    `<https://x; rel="next"`,
		"unterminated quote":     `<a>; rel="next`,
		"dangling escape":        `<a>; rel="next\`,
		"missing semicolon":      `<a> rel="next"`,
		"missing comma":          `<a>; rel="next" <b>`,
		"garbage after a value":  `<a>; rel=next x`,
		"value missing":          `<a>; rel=`,
		"bad token in value":     `<a>; rel=@next`,
		"parameter without name": `<a>; ="next"`,
		"control char in target": "<a\x00b>; rel=next",
		"control char in quotes": "<a>; rel=\"ne\x01xt\"",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			links, err := parseLink(header)
			if !errors.Is(err, errLinkSyntax) {
				t.Errorf("parseLink(%q) = %v, %v; want a syntax error", header, links, err)
			}
		})
	}
}

func TestNextPage(t *testing.T) {
	t.Parallel()
	requested, _ := url.Parse("https://api.github.com/repos/o/r/actions/artifacts?per_page=100")
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{name: "no header", values: nil, want: ""},
		{name: "last page", values: []string{`<https://api.github.com/repositories/42/actions/artifacts?page=1>; rel="prev", <https://api.github.com/repositories/42/actions/artifacts?page=1>; rel="first"`}, want: ""},
		{name: "middle page", values: []string{githubLinks}, want: "https://api.github.com/repositories/42/actions/artifacts?per_page=100&page=3"},
		{name: "relative next", values: []string{`</repositories/42/actions/artifacts?page=2>; rel="next"`}, want: "https://api.github.com/repositories/42/actions/artifacts?page=2"},
		{name: "several rels", values: []string{`<https://api.github.com/x?page=2>; rel="next last"`}, want: "https://api.github.com/x?page=2"},
		{name: "split over two header lines", values: []string{`<https://api.github.com/x?page=9>; rel="last"`, `<https://api.github.com/x?page=2>; rel="NEXT"`}, want: "https://api.github.com/x?page=2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("Link", v)
			}
			u, err := nextPage(h, requested)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if u != nil {
				got = u.String()
			}
			if got != tc.want {
				t.Errorf("nextPage = %q, want %q", got, tc.want)
			}
		})
	}
}

// formatLink writes links back as a header, quoting every value.
func formatLink(links []link) string {
	var b strings.Builder
	for i, l := range links {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("<" + l.target + ">")
		for _, p := range l.params {
			b.WriteString("; " + p.name)
			if p.value != "" {
				b.WriteString(`="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p.value) + `"`)
			}
		}
	}
	return b.String()
}

// FuzzParseLink checks that parseLink never panics and that whatever it
// accepts survives a round trip through formatLink unchanged.
func FuzzParseLink(f *testing.F) {
	for _, seed := range []string{
		"",
		githubLinks,
		`<https://api.github.com/repositories/42/actions/artifacts?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/42/actions/artifacts?per_page=100&page=3>; rel="last"`,
		`<a>;rel=next`,
		`<a>; title="x, y; \"z\""; rel="next last"`,
		`<a>; crossorigin`,
		`, ,<a>;;`,
		`<a`,
		`<a>; rel="`,
		`<a>; rel="\`,
		"<a>; rel=\"\x7f\"",
		`<>`,
		`<a> ; REL = NEXT`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		links, err := parseLink(header)
		if err != nil {
			if !errors.Is(err, errLinkSyntax) {
				t.Fatalf("parseLink(%q) error %v does not wrap errLinkSyntax", header, err)
			}
			return
		}
		for _, l := range links {
			if strings.ContainsRune(l.target, '>') {
				t.Fatalf("target %q contains '>'", l.target)
			}
			for _, p := range l.params {
				if p.name == "" || p.name != strings.ToLower(p.name) {
					t.Fatalf("parameter name %q is empty or not lower-case", p.name)
				}
			}
		}
		// Parameters without a value and with an empty value are the
		// same to parseLink's callers; formatLink writes both bare.
		again, err := parseLink(formatLink(links))
		if err != nil {
			t.Fatalf("reparsing %q (from %q): %v", formatLink(links), header, err)
		}
		if diff := cmp.Diff(links, again, cmp.AllowUnexported(link{}, linkParam{})); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", header, formatLink(links), diff)
		}
	})
}
