package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0 B", 999: "999 B", 1000: "1.0 KB", 1234: "1.2 KB", 45_000_000: "45.0 MB",
		123_456_789: "123 MB", 1_200_000_000: "1.2 GB", 999_960_000: "1.0 GB", -2000: "-2.0 KB",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestAge(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 12 * time.Minute: "12m", 3 * time.Hour: "3h",
		9*24*time.Hour + 12*time.Hour: "9d12h", 9 * 24 * time.Hour: "9d", 40*24*time.Hour + 5*time.Hour: "40d",
	} {
		if got := Age(d); got != want {
			t.Errorf("Age(%v) = %q, want %q", d, got, want)
		}
	}
	if got := AgeSince(time.Now(), time.Time{}); got != "?" {
		t.Errorf("unknown age = %q", got)
	}
}

func TestTableFormats(t *testing.T) {
	t.Parallel()
	tb := &Table{Header: []string{"REPOSITORY", "SIZE"}, Keys: []string{"repository", "size_in_bytes"}}
	tb.Add([]string{"o/r", "1.2 GB"}, []any{"o/r", int64(1_200_000_000)})
	tb.Add([]string{"o/longer-name", "5 B"}, []any{"o/longer-name", int64(5)})
	want := map[Format]string{
		FormatTable: "REPOSITORY     SIZE\no/r            1.2 GB\no/longer-name  5 B\n",
		FormatCSV:   "repository,size_in_bytes\no/r,1200000000\no/longer-name,5\n",
		FormatJSON:  "[\n  {\n    \"repository\": \"o/r\",\n    \"size_in_bytes\": 1200000000\n  },\n  {\n    \"repository\": \"o/longer-name\",\n    \"size_in_bytes\": 5\n  }\n]\n",
	}
	for f, w := range want {
		var buf bytes.Buffer
		if err := tb.Write(&buf, f); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, buf.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", f, diff)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}

// Scripts get RFC 3339 UTC times and empty CSV fields or JSON nulls for
// missing values, whatever the time's zone.
func TestTableScriptValues(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 8, 4, 4, 46, 2, 500_000_000, time.FixedZone("CEST", 2*60*60))
	tb := &Table{Header: []string{"AT", "DONE", "STATUS"}, Keys: []string{"at", "done", "status"}}
	tb.Add([]string{"-", "-", "-"}, []any{at, time.Time{}, nil})
	want := map[Format]string{
		FormatCSV:  "at,done,status\n2026-08-04T02:46:02Z,,\n",
		FormatJSON: "[\n  {\n    \"at\": \"2026-08-04T02:46:02Z\",\n    \"done\": null,\n    \"status\": null\n  }\n]\n",
	}
	for f, w := range want {
		var buf bytes.Buffer
		if err := tb.Write(&buf, f); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, buf.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", f, diff)
		}
	}
}

func TestShorten(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"feature/sso", 20, "feature/sso"},
		{"feature/sso", 11, "feature/sso"},
		{"dependabot/go_modules/golang.org/x/net-0.38.0", 20, "dependabot…et-0.38.0"},
		{"abcdef", 5, "ab…ef"},
		{"abcdef", 4, "ab…f"},
		{"abcdef", 1, "…"},
		{"ééééé", 3, "é…é"},
	} {
		if got := Shorten(c.in, c.n); got != c.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// Fit trims only the columns it is given, in their order, so the table
// fits; the raw values for scripts stay whole.
func TestFit(t *testing.T) {
	t.Parallel()
	tb := &Table{Header: []string{"REPO", "BRANCH", "RULE"}, Keys: []string{"repo", "branch", "rule"}}
	long := "dependabot/go_modules/golang.org/x/net-0.38.0"
	tb.Add([]string{"octo-org/api", long, "stale-branch-artifacts"}, []any{"octo-org/api", long, "stale-branch-artifacts"})
	tb.Add([]string{"octo-org/web", "main", "expired"}, []any{"octo-org/web", "main", "expired"})
	tb.Fit(50, 1, 2)
	var buf bytes.Buffer
	if err := tb.Write(&buf, FormatTable); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if n := utf8.RuneCountInString(strings.TrimRight(line, " ")); n > 50 {
			t.Errorf("line is %d wide, want at most 50: %q", n, line)
		}
	}
	if !strings.Contains(buf.String(), "octo-org/api") || !strings.Contains(buf.String(), ".38.0") || !strings.Contains(buf.String(), "stale-branch-artifacts") {
		t.Errorf("the untrimmed column or the end of the branch is lost:\n%s", buf.String())
	}
	if tb.Raw[0][1] != long {
		t.Errorf("raw branch trimmed to %q", tb.Raw[0][1])
	}
	// A table that cannot fit keeps its columns at the floor rather than
	// cutting them to nothing.
	tb.Fit(5, 1, 2)
	for _, col := range []int{1, 2} {
		if got := utf8.RuneCountInString(tb.Rows[0][col]); got != minTrimmedWidth {
			t.Errorf("column %d cut to %d characters, want the floor %d", col, got, minTrimmedWidth)
		}
	}
}
