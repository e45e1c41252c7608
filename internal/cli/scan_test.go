package cli_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/store"
)

// scan --run pages through one run's artifacts, upserts them, and marks
// nothing gone: it does not see the rest of the repository.
func TestScanRunUpsertsOnlyThatRunAndMarksNothingGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	const runID = 4242
	// 150 artifacts: two pages of 100.
	runIDs := w.Add("octo/api", 150, func(_ int, a *artifact.Artifact) { a.WorkflowRunID = runID })

	if r := w.run(t, "scan"); r.code != 0 {
		t.Fatalf("scan: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	live := func() []int64 {
		t.Helper()
		arts, err := w.Store.LiveArtifacts(ctx, "octo/api")
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, 0, len(arts))
		for _, a := range arts {
			ids = append(ids, a.ID)
		}
		slices.Sort(ids)
		return ids
	}
	before := live()
	// An artifact of another run disappears from GitHub: only a repository
	// scan may conclude it is gone.
	other := w.Sim.Artifacts("octo/api")[len(runIDs)]
	if other.WorkflowRunID == runID || !w.Sim.RemoveArtifact("octo/api", other.ID) {
		t.Fatalf("could not remove an artifact of another run: %+v", other)
	}
	w.Sim.ResetCounts()

	r := w.run(t, "scan", "--run", "Octo/API", "4242")
	if r.code != 0 {
		t.Fatalf("scan --run: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, "1 repositories, 150 artifacts") {
		t.Errorf("output lacks the run's totals:\n%s", r.stdout)
	}
	if diff := cmp.Diff(map[string]int{"GET " + githubsim.RouteListRun: 2}, w.Sim.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, live()); diff != "" {
		t.Errorf("live artifacts changed (-before +after):\n%s", diff)
	}
	sc, err := w.Store.LatestScan(ctx, "octo/api", store.ScanKindWorkflowRun)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Scan{Repository: "octo/api", Kind: store.ScanKindWorkflowRun, WorkflowRunID: runID, Status: store.ScanComplete,
		Pages: 2, Requests: 2, Costed: 2, TotalCount: 150, Counts: store.ScanCounts{Seen: 150}}
	if diff := cmp.Diff(want, sc, cmpScanIgnoring()); diff != "" {
		t.Errorf("scan row (-want +got):\n%s", diff)
	}
}

// cmpScanIgnoring leaves out the fields a test can't predict.
func cmpScanIgnoring() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		switch p.Last().String() {
		case ".ID", ".StartedAt", ".FinishedAt", ".RunID":
			return true
		}
		return false
	}, cmp.Ignore())
}

// The scan table's DURATION is how long each scan took on the clock.
func TestScanCommandReportsDurations(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env["SCAN_CONCURRENCY"] = "1" // one scan at a time: each lasts exactly its own request
	w.Sim.OnRequest(func(route string, _ *http.Request) {
		if route == githubsim.RouteList {
			w.Clock.Advance(3 * time.Second)
		}
	})
	r := w.run(t, "scan")
	if r.code != 0 {
		t.Fatalf("scan: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		var row []string
		for line := range strings.Lines(r.stdout) {
			if f := strings.Fields(line); len(f) > 0 && f[0] == repo.String() {
				row = f
			}
		}
		if len(row) == 0 || row[len(row)-1] != "3s" {
			t.Errorf("%s: row %q, want DURATION 3s:\n%s", repo, row, r.stdout)
		}
	}
}
