package janitor_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/janitor"
)

// The janitor reads its work a batch of 1,000 at a time; these tests cross
// batch boundaries with the cap, with a dry-run and with a shutdown, and
// check that every decision ends with exactly one row with the right outcome.

// readCounter is Work that counts the decisions handed out, so a test can
// see the janitor never reads a decision twice or misses one.
type readCounter struct {
	janitor.Work
	read int
}

func (w *readCounter) Read(ctx context.Context, from, to int, fn func([]janitor.Item) error) error {
	return w.Work.Read(ctx, from, to, func(items []janitor.Item) error {
		w.read += len(items)
		return fn(items)
	})
}

func TestDryRunAcrossBatchesKeepsTheOldestWithinTheCap(t *testing.T) {
	t.Parallel()
	const n, limit = 2345, 1500
	w := newWorld(t, n, testbed.Options{})
	work := &readCounter{Work: janitor.Items(w.items)}
	rep, err := w.janitor(janitor.Config{DryRun: true, MaxDeletions: limit}).ExecuteWork(context.Background(), w.runID, work)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Planned != n || rep.DryRun != limit || rep.SkippedCap != n-limit || !rep.CapHit || work.read != n {
		t.Fatalf("report %+v after reading %d decisions", rep, work.read)
	}
	// w.items is newest first: the oldest limit are within the cap.
	got := w.outcomes(t)
	for i, it := range w.items {
		want := store.OutcomeSkippedCap
		if i >= n-limit {
			want = store.OutcomeDryRun
		}
		if got[it.Artifact.ID] != want {
			t.Fatalf("artifact %d (%d newest): %s, want %s", it.Artifact.ID, i, got[it.Artifact.ID], want)
		}
	}
	if len(got) != n {
		t.Errorf("%d rows, want %d", len(got), n)
	}
}

// cancelAfter cancels a context once n DELETEs have been sent.
type cancelAfter struct {
	janitor.GitHub
	n      int64
	sent   atomic.Int64
	cancel context.CancelFunc
}

func (g *cancelAfter) DeleteArtifact(ctx context.Context, repo artifact.Repository, id int64) error {
	err := g.GitHub.DeleteArtifact(ctx, repo, id)
	if g.sent.Add(1) == g.n {
		g.cancel()
	}
	return err
}

func TestShutdownInALaterBatchInterruptsTheRest(t *testing.T) {
	t.Parallel()
	const n, stopAfter = 1006, 1002
	w := newWorld(t, n, testbed.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gh := &cancelAfter{GitHub: w.Client, n: stopAfter, cancel: cancel}
	j := janitor.New(gh, w.Store, janitor.Config{MaxDeletions: n, Clock: w.Clock, Logger: w.Logger})
	rep, err := j.ExecuteWork(ctx, w.runID, janitor.Items(w.items))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != stopAfter || rep.Interrupted != n-stopAfter || !rep.Stopped {
		t.Fatalf("report %+v", rep)
	}
	if got := gh.sent.Load(); got != stopAfter {
		t.Errorf("%d DELETEs sent after the shutdown began at %d", got, stopAfter)
	}
	counts := map[store.Outcome]int{}
	for _, o := range w.outcomes(t) {
		counts[o]++
	}
	if counts[store.OutcomeDeleted] != stopAfter || counts[store.OutcomeInterrupted] != n-stopAfter || len(counts) != 2 {
		t.Errorf("outcomes %v", counts)
	}
	// The newest were spared.
	got := w.outcomes(t)
	for _, it := range w.items[:n-stopAfter] {
		if got[it.Artifact.ID] != store.OutcomeInterrupted {
			t.Errorf("artifact %d: %s, want interrupted", it.Artifact.ID, got[it.Artifact.ID])
		}
	}
	if left := len(w.Sim.Artifacts("octo/api")); left != n-stopAfter {
		t.Errorf("%d artifacts left on GitHub, want %d", left, n-stopAfter)
	}
}

// TestGuardRefusalStopsTheRun checks that when the guard (the run lock's
// check) refuses, no DELETE is sent for that decision or any after it, and
// each is recorded as interrupted with the reason.
func TestGuardRefusalStopsTheRun(t *testing.T) {
	t.Parallel()
	const n, allowed = 6, 2
	w := newWorld(t, n, testbed.Options{})
	checks := 0
	guard := func(context.Context) error {
		checks++
		if checks > allowed {
			return errors.New("the run lock was lost")
		}
		return nil
	}
	j := janitor.New(w.Client, w.Store, janitor.Config{MaxDeletions: n, Guard: guard, Clock: w.Clock, Logger: w.Logger})
	rep, err := j.Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != allowed || rep.Interrupted != n-allowed || !rep.Stopped || rep.GuardError != "the run lock was lost" {
		t.Fatalf("report %+v", rep)
	}
	if checks != allowed+1 {
		t.Errorf("guard asked %d times, want %d: once per DELETE until it refused", checks, allowed+1)
	}
	if left := len(w.Sim.Artifacts("octo/api")); left != n-allowed {
		t.Errorf("%d artifacts left, want %d", left, n-allowed)
	}
	entries, err := w.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: w.runID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Outcome == store.OutcomeInterrupted && !strings.Contains(e.Error, "the run lock was lost") {
			t.Errorf("interrupted row without the reason: %q", e.Error)
		}
	}
}

// A janitor started after the shutdown began (the run stopped between two
// repositories) still records every planned decision, as interrupted.
func TestExecuteAfterShutdownRecordsEveryDecision(t *testing.T) {
	t.Parallel()
	const n = 5
	w := newWorld(t, n, testbed.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := w.janitor(janitor.Config{MaxDeletions: n}).ExecuteWork(ctx, w.runID, janitor.Items(w.items))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Planned != n || rep.Interrupted != n || rep.Deleted != 0 || !rep.Stopped {
		t.Fatalf("report %+v", rep)
	}
	got := w.outcomes(t)
	for _, it := range w.items {
		if got[it.Artifact.ID] != store.OutcomeInterrupted {
			t.Errorf("artifact %d: %q, want interrupted", it.Artifact.ID, got[it.Artifact.ID])
		}
	}
}

// An intent a dead process left, and the start could not resolve, fails its
// artifact's decision — no second DELETE — and the janitor goes on.
func TestAnUnresolvedIntentFailsOnlyItsDecision(t *testing.T) {
	t.Parallel()
	const n = 4
	w := newWorld(t, n, testbed.Options{})
	ctx := context.Background()
	stuck := w.items[1]
	if _, err := w.Store.InsertPending(ctx, store.AuditEntry{RunID: w.runID, RecordedAt: w.Clock.Now(), Repository: stuck.Artifact.Repository,
		ArtifactID: stuck.Artifact.ID, ArtifactName: stuck.Artifact.Name, Action: store.ActionDelete, Rule: "old", Reason: "old",
		Outcome: store.OutcomePending}); err != nil {
		t.Fatal(err)
	}
	rep, err := w.janitor(janitor.Config{MaxDeletions: n}).Execute(ctx, w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != n-1 || rep.Failed != 1 {
		t.Fatalf("report %+v", rep)
	}
	left := w.Sim.Artifacts("octo/api")
	if len(left) != 1 || left[0].ID != stuck.Artifact.ID {
		t.Errorf("left on GitHub: %v, want only the artifact with the pending intent", left)
	}
}
