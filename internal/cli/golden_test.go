package cli_test

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the output the tests get")

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// The output for scripts, exactly: RFC 3339 UTC times, and empty CSV fields
// or JSON nulls for NULL and missing values (an artifact without a branch or
// creation time, a decision without an HTTP status or error, a run without
// an error or not finished). The clock is fake and the database fresh, so ids and times are
// fixed.
func TestScriptOutputIsExact(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Three old artifacts without a workflow run (so without a branch), of
	// which keep-latest keeps two, and one whose creation time is unknown.
	w.Add("octo/api", 4, func(i int, a *artifact.Artifact) {
		a.Name, a.WorkflowRunID, a.Branch, a.HeadSHA = "orphan", 0, "", ""
		a.CreatedAt = w.Clock.Now().Add(-time.Duration(30+i) * time.Hour)
		if i == 3 {
			a.Name, a.CreatedAt = "undated", time.Time{}
		}
		if i == 2 {
			a.Expired = true // its storage is freed: expired is true, and it counts in no byte total
		}
	})
	step := func(name string, wantCode int, args ...string) {
		t.Helper()
		r := w.run(t, args...)
		if r.code != wantCode {
			t.Fatalf("%v: exit %d, want %d: %v\n%s", args, r.code, wantCode, r.err, r.stderr)
		}
		if name != "" {
			golden(t, name, r.stdout)
		}
	}
	step("", 0, "run") // run 1, a dry-run
	for _, f := range []string{"csv", "json"} {
		step("audit-run-1-"+f, 0, "audit", "--run", "1", "--format", f)
		step("audit-run-1-keep-"+f, 0, "audit", "--run", "1", "--action", "keep", "--format", f)
		step("plan-"+f, 0, "plan", "--format", f)
	}

	// Run 2 deletes; GitHub refuses every DELETE in octo/web.
	w.Clock.Advance(90 * time.Second)
	w.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteDelete, Repository: "octo/web", Status: http.StatusForbidden, Body: `{"message":"Must have admin rights to Repository."}`})
	step("", 1, "run", "--dry-run=false")
	// Run 3 is still going: it has no finished_at yet.
	w.Clock.Advance(time.Hour)
	if _, err := w.Store.CreateRun(context.Background(), store.NewRun{StartedAt: w.Clock.Now(), Trigger: "schedule", DryRun: true, PolicySHA256: "x", MaxDeletions: 500}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"csv", "json"} {
		step("audit-run-2-"+f, 0, "audit", "--run", "2", "--format", f)
		step("audit-runs-"+f, 0, "audit", "--format", f)
	}
}
