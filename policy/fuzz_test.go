package policy

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	files = append(files, filepath.Join("..", "policies.example.yaml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "~", "version: 1\n", "- a\n", "version: 1\nrepositories: [a/b]\nrules:\n  - rule: r\n    action: keep\n    branch: [!main]\n",
		"version: 1\nrepositories: [a/b]\nrules:\n  - &r {rule: a, action: delete, older_than: 1d}\n  - *r\n",
		"version: 1\nrepositories: [a/b]\nsafety: {min_age: 0}\nrules: [{rule: a, action: delete, name: \"[a-\", size_less_than: 1.5KiB}]\n",
		"a: 1\n---\nb: 2\n", "version: 1\n\tx: 1\n", "rules:\n  - a: 1\n  \tb: 2\n", "a: [b,\n c\nd: e\n", "{version: 1, repositories: a/b, rules: [{<<: {}}]}",
	} {
		f.Add([]byte(s))
	}
	arts := randomArtifacts(7, 200)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e.File != "<input>" || e.Line < 1 || e.Column < 1 || e.Msg == "" {
					t.Fatalf("error without a position or message: %+v", e)
				}
			}
			return
		}
		if err := Describe(io.Discard, p); err != nil {
			t.Fatal(err)
		}
		ds := Evaluate(p, arts, testNow)
		if len(ds) != len(arts) {
			t.Fatalf("%d decisions for %d artifacts", len(ds), len(arts))
		}
		for i, d := range ds {
			if d.Action == Delete && (arts[i].CreatedAt.IsZero() || testNow.Sub(arts[i].CreatedAt) < p.MinAge) {
				t.Fatalf("deleted %+v despite the safety net", arts[i])
			}
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"7d", "1d12h", "0", "0s", "1.5h", "2w3d", "90m", "1µs", "-1h", "6mo", "1e9s", "9999999999999h", "1.0000000001ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, allowZero := range []bool{false, true} {
			d, err := parseDuration(s, allowZero)
			if err != nil {
				continue
			}
			if d < 0 || (d == 0 && !allowZero) {
				t.Fatalf("parseDuration(%q, %v) = %v", s, allowZero, d)
			}
			if d > 0 {
				back, err := parseDuration(exactDuration(d), false)
				if err != nil || back != d {
					t.Fatalf("exactDuration(%v) = %q reads back as %v, %v", d, exactDuration(d), back, err)
				}
			}
			_ = appendAge(nil, d, d/2)
			_ = appendAge(nil, -d, -1)
			_ = durationWords(d)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0B", "500MB", "1.5GiB", "1.1KiB", "8388607TiB", "500", "5 MB", "-1B", "1.00000000000000000001TB"} {
		f.Add(s, int64(1_234_567))
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		sz, err := parseSize(s)
		if err != nil {
			return
		}
		if sz.Bytes < 0 || sz.Text != s || (sz.fraction != "") != sz.Fractional {
			t.Fatalf("parseSize(%q) = %+v", s, sz)
		}
		if n < 0 {
			n = -(n + 1)
		}
		if sz.greater(n) && sz.less(n) {
			t.Fatalf("%d is both greater and less than %s", n, s)
		}
		out := string(appendSize(nil, n, sz.binary(), &sz))
		if !strings.HasSuffix(out, "B") {
			t.Fatalf("appendSize(%d) = %q", n, out)
		}
	})
}

func FuzzGlob(f *testing.F) {
	for _, p := range []string{"main", "release/**", "test-*", "*-x", "**/d", "v?", "[a-c]x", "[!a]", `\*`, "a*b**c", "*/*"} {
		f.Add(p, "release/1.0")
		f.Add(p, "test-a")
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		g, err := compileGlob(pattern)
		if err != nil {
			return
		}
		matched := g.match(s)
		// The reference is exponential in the number of stars.
		if strings.Count(pattern, "*") > 6 || len(s) > 40 {
			return
		}
		toks, _ := tokenizeGlob(pattern)
		if want := refMatch(toks, s); matched != want {
			t.Fatalf("glob %q on %q = %v; reference says %v", pattern, s, matched, want)
		}
	})
}
