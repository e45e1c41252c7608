package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0 B", 999: "999 B", 1000: "1.0 kB", 1234: "1.2 kB", 45_000_000: "45.0 MB",
		123_456_789: "123 MB", 1_200_000_000: "1.2 GB", 999_960_000: "1.0 GB", -2000: "-2.0 kB",
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
