package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
)

// The report's output, exactly, for people and scripts: storage after a
// dry-run and a deleting run a day apart, with and without a price. The
// clock is fake and the database fresh, so ids, times and figures are fixed.
func TestReportOutput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	now := w.Clock.Now()
	// Big images with an expiry on main, of which keep-latest keeps the two
	// newest and old-builds deletes the rest (one an expired listing), and
	// one without a branch. The small builds newWorld adds have no
	// expires_at: deleting them saves nothing that can be counted.
	w.Add("octo/api", 6, func(i int, a *artifact.Artifact) {
		a.Name = "image"
		a.SizeInBytes = int64(i+1) * 1_500_000_000
		a.CreatedAt = now.Add(-time.Duration(10+i*24) * time.Hour)
		a.ExpiresAt = a.CreatedAt.Add(30 * 24 * time.Hour)
		if i == 5 {
			a.Expired = true
			a.ExpiresAt = now.Add(-time.Hour)
		}
		if i == 4 {
			a.WorkflowRunID, a.Branch, a.HeadSHA = 0, "", ""
		}
	})
	step := func(name string, env map[string]string, args ...string) {
		t.Helper()
		e := w.env
		if env != nil {
			e = map[string]string{}
			for k, v := range w.env {
				e[k] = v
			}
			for k, v := range env {
				e[k] = v
			}
		}
		r := runWith(t, e, w.Clock, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %v\n%s", args, r.code, r.err, r.stderr)
		}
		if name != "" {
			golden(t, name, r.stdout)
		}
	}
	step("", nil, "run") // run 1, a dry-run
	w.Clock.Advance(24 * time.Hour)
	step("", nil, "run", "--dry-run=false")
	w.Clock.Advance(time.Hour)

	priced := map[string]string{"STORAGE_PRICE_PER_GB_MONTH": "0.25"}
	step("report-table", nil, "report", "--top", "3")
	step("report-table-priced-branch", priced, "report", "--by", "branch", "--top", "2")
	step("report-json", priced, "report", "--format", "json", "--top", "3")
	step("report-csv", nil, "report", "--format", "csv", "--by", "name")
	step("report-runs-csv", priced, "report", "--format", "csv", "--section", "runs")
	step("report-api-months", nil, "report", "--repository", "Octo/API", "--section", "months", "--months", "2")
}

func TestReportUsageErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--by", "owner"}, "--by"},
		{[]string{"report", "--section", "everything"}, "--section"},
		{[]string{"report", "--format", "xml"}, "--format"},
		{[]string{"report", "--repository", "nope"}, "--repository"},
		{[]string{"report", "--top", "0"}, "--top"},
		{[]string{"report", "extra"}, "no arguments"},
	} {
		r := w.run(t, tc.args...)
		if r.code != 2 || r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%v: exit %d, %v; want 2 and an error naming %s", tc.args, r.code, r.err, tc.want)
		}
	}
	bad := map[string]string{"STORAGE_PRICE_PER_GB_MONTH": "cheap"}
	for k, v := range w.env {
		bad[k] = v
	}
	if r := runWith(t, bad, w.Clock, "report"); r.code != 2 || !strings.Contains(r.err.Error(), "STORAGE_PRICE_PER_GB_MONTH") {
		t.Errorf("a bad price: exit %d, %v", r.code, r.err)
	}
	// An empty database reports empty sections rather than failing.
	if r := w.run(t, "report"); r.code != 0 || !strings.Contains(r.stdout, "(none)") {
		t.Errorf("empty report: exit %d, %v\n%s", r.code, r.err, r.stdout)
	}
}
