package runner_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"
)

const branchPolicy = `version: 1
repositories: [octo/api, octo/web]
safety:
  min_age: 2h
rules:
  - rule: gone-branches
    action: delete
    repositories: [octo/api]
    branch_deleted: true
`

// branchWorld has octo/api artifacts on main (exists), feature/merged
// (deleted), the same deleted branch name from a fork, and one without a
// workflow run; octo/web, whose rules do not ask, has a deleted branch too.
func branchWorld(t *testing.T) (*testbed.Bed, map[string]int64) {
	t.Helper()
	b := testbed.New(t, testbed.Options{})
	ids := map[string]int64{}
	for _, c := range []struct {
		key, branch string
		mod         func(*artifact.Artifact)
	}{
		{"main", "main", nil},
		{"merged", "feature/merged", nil},
		{"fork", "feature/merged", func(a *artifact.Artifact) { a.HeadRepositoryID = 999 }},
		{"no-run", "", func(a *artifact.Artifact) { a.WorkflowRunID, a.HeadSHA = 0, "" }},
	} {
		ids[c.key] = b.Add("octo/api", 1, func(_ int, a *artifact.Artifact) {
			a.Name, a.Branch = c.key, c.branch
			a.CreatedAt = b.Clock.Now().Add(-3 * time.Hour)
			a.RepositoryID, a.HeadRepositoryID = 1, 1
			if c.mod != nil {
				c.mod(a)
			}
		})[0]
	}
	ids["web"] = b.Add("octo/web", 1, func(_ int, a *artifact.Artifact) {
		a.Branch, a.CreatedAt = "feature/merged", b.Clock.Now().Add(-3*time.Hour)
	})[0]
	b.Sim.SetBranches("octo/api", "main", "release/1.0")
	b.Sim.SetBranches("octo/web", "main")
	return b, ids
}

func branchRunner(t *testing.T, b *testbed.Bed, dryRun bool) *runner.Runner {
	t.Helper()
	p, err := policy.Parse([]byte(branchPolicy))
	if err != nil {
		t.Fatal(err)
	}
	sc := scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 2, Clock: b.Clock, Logger: b.Logger})
	return runner.New(b.Store, b.Client, sc, p, runner.Config{
		DryRun: dryRun, MaxDeletions: 100, Clock: b.Clock, Logger: b.Logger,
		Branches: scanner.NewBranches(b.Client, b.Store, scanner.Options{Clock: b.Clock, Logger: b.Logger}),
	})
}

func decisionsByArtifact(t *testing.T, b *testbed.Bed, runID int64) map[int64]store.AuditEntry {
	t.Helper()
	out := map[int64]store.AuditEntry{}
	for _, a := range []store.Action{store.ActionKeep, store.ActionDelete} {
		entries, err := b.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: runID, Action: a})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			out[e.ArtifactID] = e
		}
	}
	return out
}

// Only the artifact of the deleted branch in the repository whose rules ask
// is deleted: not main's, not the fork's, not the one without a branch, not
// octo/web's. Only octo/api's branches are listed.
func TestBranchDeletedRun(t *testing.T) {
	t.Parallel()
	b, ids := branchWorld(t)
	sum, err := branchRunner(t, b, false).Run(context.Background(), runner.TriggerManual)
	if err != nil || sum.Status != runner.StatusSucceeded {
		t.Fatalf("run: %v %+v", err, sum)
	}
	if sum.Janitor.Deleted != 1 || len(sum.Branches) != 1 || sum.Branches[0].Repository != "octo/api" {
		t.Errorf("deleted %d, branch listings %+v", sum.Janitor.Deleted, sum.Branches)
	}
	d := decisionsByArtifact(t, b, sum.RunID)
	if e := d[ids["merged"]]; e.Outcome != store.OutcomeDeleted || e.Reason != "matched delete rule gone-branches: repository octo/api and branch feature/merged deleted" {
		t.Errorf("merged: %s %q", e.Outcome, e.Reason)
	}
	for _, k := range []string{"main", "fork", "no-run", "web"} {
		if e := d[ids[k]]; e.Outcome != store.OutcomeKept {
			t.Errorf("%s: %s (%s)", k, e.Outcome, e.Reason)
		}
	}
	if n := b.Sim.Requests()["GET "+githubsim.RouteBranches]; n != 1 {
		t.Errorf("%d branch list requests, want 1 (octo/api, one page)", n)
	}
	// A deletion of the branch later is seen by the next run.
	b.Sim.DeleteBranch("octo/api", "main")
	b.Clock.Advance(time.Hour)
	sum, err = branchRunner(t, b, true).Run(context.Background(), runner.TriggerManual)
	if err != nil || sum.Janitor.DryRun != 1 {
		t.Errorf("second run: %v, %d would-deletes", err, sum.Janitor.DryRun)
	}
}

// A failed branch listing blocks the deletions that depend on it, leaves
// the rest of the run alone and makes the run partial.
func TestFailedBranchListingBlocksDeletions(t *testing.T) {
	t.Parallel()
	b, ids := branchWorld(t)
	b.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteBranches, Status: http.StatusForbidden, Times: 1,
		Body: `{"message":"Resource not accessible by integration"}`})
	sum, err := branchRunner(t, b, false).Run(context.Background(), runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != runner.StatusPartial || sum.Janitor.Deleted != 0 {
		t.Errorf("status %s, deleted %d; want partial and none", sum.Status, sum.Janitor.Deleted)
	}
	e := decisionsByArtifact(t, b, sum.RunID)[ids["merged"]]
	if e.Outcome != store.OutcomeKept || e.Rule != policy.RuleBranchUnknown {
		t.Errorf("merged: %s by %q (%s)", e.Outcome, e.Rule, e.Reason)
	}
	run, err := b.Store.Run(context.Background(), sum.RunID)
	if err != nil || run.Error == "" {
		t.Errorf("run error %q, %v", run.Error, err)
	}
	// Plan says why, from the stored failure.
	plan, err := branchRunner(t, b, true).Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	if plan.Total != 0 || len(plan.Warnings) != 1 {
		t.Errorf("plan: %+v", plan)
	}
}
