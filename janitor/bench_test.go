package janitor_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/testbed"
)

// benchBatch is the number of decisions per call in the audit-write
// benchmarks: one repository of the 200,000-artifact scan benchmark. The
// runner records keeps a repository at a time.
const benchBatch = 10_000

// benchJanitorToken is the simulator's token in the benchmarks.
const benchJanitorToken = "ghp_benchTOKENabcdefghijklmnopqrstuvwxyz1"

// benchWorld is a simulator with n generated artifacts in one repository
// (secondary limits off, as by default), served over loopback HTTP, scanned
// into a fresh database, with a run to hang audit rows on.
type benchWorld struct {
	sim   *githubsim.Server
	store *store.Store
	gh    *github.Client
	repo  artifact.Repository
	items []janitor.Item // every artifact with a delete decision, newest first
	runID int64
}

func newBenchWorld(b *testing.B, n int) *benchWorld {
	b.Helper()
	ctx := context.Background()
	sim := githubsim.New(githubsim.Options{Token: benchJanitorToken, RateLimit: 1 << 30})
	repos := sim.Generate(githubsim.GenerateOptions{Seed: 1, ArtifactsPerRepository: n})
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)
	gh, err := github.New(github.Config{BaseURL: srv.URL, Token: benchJanitorToken, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	if rr := scanner.New(gh, st, scanner.Options{}).ScanRepository(ctx, repos[0], nil); rr.Err != nil || rr.New != n {
		b.Fatalf("scanning the benchmark repository: %d new of %d, %v", rr.New, n, rr.Err)
	}
	arts, err := st.LiveArtifacts(ctx, repos[0])
	if err != nil {
		b.Fatal(err)
	}
	w := &benchWorld{sim: sim, store: st, gh: gh, repo: repos[0]}
	for _, a := range arts {
		w.items = append(w.items, janitor.Item{Artifact: a, Decision: policy.Decision{
			Action: policy.Delete, Rule: "stale-branches", Reason: "branch feature/* older than 14d (artifact is 21d old)",
		}})
	}
	w.runID = w.newRun(b)
	return w
}

func (w *benchWorld) newRun(b *testing.B) int64 {
	b.Helper()
	id, err := w.store.CreateRun(context.Background(), store.NewRun{
		StartedAt: time.Now(), Trigger: "manual", PolicySHA256: "bench", MaxDeletions: len(w.items),
	})
	if err != nil {
		b.Fatal(err)
	}
	return id
}

// BenchmarkExecuteDelete deletes b.N artifacts through the simulator with
// pacing off (DELETE_INTERVAL 0): for each, the intent row is committed, the
// DELETE sent, the outcome committed. One op is one deletion.
//
//	go run ./internal/tools/withpostgres -- go test -run '^$' -bench BenchmarkExecuteDelete -benchmem ./janitor/
func BenchmarkExecuteDelete(b *testing.B) {
	ctx := context.Background()
	w := newBenchWorld(b, b.N)
	j := janitor.New(w.gh, w.store, janitor.Config{MaxDeletions: b.N})
	b.ReportAllocs()
	b.ResetTimer()
	rep, err := j.Execute(ctx, w.runID, w.items)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if rep.Deleted != b.N || len(w.sim.Artifacts(w.repo)) != 0 {
		b.Fatalf("deleted %d of %d, %d left in the simulator: %+v", rep.Deleted, b.N, len(w.sim.Artifacts(w.repo)), rep)
	}
	counts := testbed.OutcomeCounts(b, w.store, w.runID)
	if got := counts[store.OutcomeDeleted].N; got != int64(b.N) || len(counts) != 1 {
		b.Fatalf("audit log has %d deleted rows of %d: %+v", got, b.N, counts)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deletions/s")
}

// BenchmarkRecordKeeps writes benchBatch keep decisions to the audit log in
// one call (one COPY). One op is one call; ns/decision and decisions/s are
// the per-decision cost.
//
//	go run ./internal/tools/withpostgres -- go test -run '^$' -bench BenchmarkRecordKeeps -benchmem ./janitor/
func BenchmarkRecordKeeps(b *testing.B) {
	ctx := context.Background()
	w := newBenchWorld(b, benchBatch)
	keeps := make([]janitor.Item, len(w.items))
	for i, it := range w.items {
		it.Decision = policy.Decision{Action: policy.Keep, Rule: "keep-main", Reason: "branch main, one of the 5 newest build-linux"}
		keeps[i] = it
	}
	j := janitor.New(w.gh, w.store, janitor.Config{})
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		// A new rule each call, so that every keep is news and written: an
		// unchanged keep writes nothing (see store.InsertAudit).
		n++
		for i := range keeps {
			keeps[i].Decision.Rule = fmt.Sprintf("keep-main-%d", n)
		}
		if err := j.RecordKeeps(ctx, w.runID, keeps); err != nil {
			b.Fatal(err)
		}
	}
	reportPerDecision(b, len(keeps))
	counts := testbed.OutcomeCounts(b, w.store, w.runID)
	if got := counts[store.OutcomeKept].N; got != int64(b.N*len(keeps)) {
		b.Fatalf("audit log has %d kept rows, want %d", got, b.N*len(keeps))
	}
}

// BenchmarkExecuteDryRun records benchBatch delete decisions as dry_run in
// one call: sort oldest first, one COPY, nothing sent to GitHub. One op is
// one call; ns/decision and decisions/s are the per-decision cost.
//
//	go run ./internal/tools/withpostgres -- go test -run '^$' -bench BenchmarkExecuteDryRun -benchmem ./janitor/
func BenchmarkExecuteDryRun(b *testing.B) {
	ctx := context.Background()
	w := newBenchWorld(b, benchBatch)
	j := janitor.New(w.gh, w.store, janitor.Config{DryRun: true, MaxDeletions: len(w.items)})
	w.sim.ResetCounts()
	b.ReportAllocs()
	for b.Loop() {
		rep, err := j.Execute(ctx, w.runID, w.items)
		if err != nil {
			b.Fatal(err)
		}
		if rep.DryRun != len(w.items) {
			b.Fatalf("dry-run recorded %d of %d: %+v", rep.DryRun, len(w.items), rep)
		}
	}
	reportPerDecision(b, len(w.items))
	if n := w.sim.TotalRequests(); n != 0 {
		b.Fatalf("dry-run sent %d requests to GitHub", n)
	}
	counts := testbed.OutcomeCounts(b, w.store, w.runID)
	if got := counts[store.OutcomeDryRun].N; got != int64(b.N*len(w.items)) {
		b.Fatalf("audit log has %d dry_run rows, want %d", got, b.N*len(w.items))
	}
}

// reportPerDecision reports the cost of one decision when each op handled
// perOp of them.
func reportPerDecision(b *testing.B, perOp int) {
	decisions := float64(b.N) * float64(perOp)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/decisions, "ns/decision")
	b.ReportMetric(decisions/b.Elapsed().Seconds(), "decisions/s")
}
