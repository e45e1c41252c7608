package runner_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/budget"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"
)

// newBudgetRunner is newRunner with incremental scans and the budget on.
func newBudgetRunner(t *testing.T, b *testbed.Bed, cfg runner.Config) *runner.Runner {
	t.Helper()
	p, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock, cfg.Logger = b.Clock, b.Logger
	if cfg.MaxDeletions == 0 {
		cfg.MaxDeletions = 100
	}
	cfg.Budget = b.Client
	sc := scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 2, FullScanInterval: 24 * time.Hour, Clock: b.Clock, Logger: b.Logger})
	return runner.New(b.Store, b.Client, sc, p, cfg)
}

func modes(sum runner.Summary) map[artifact.Repository]store.ScanMode {
	out := map[artifact.Repository]store.ScanMode{}
	for _, rr := range sum.Scan.Repos {
		out[rr.Repository] = rr.Mode
	}
	return out
}

func TestBudgetExhaustionSkipsRepositoriesWithoutFailingThem(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{Sim: githubsim.Options{RateLimit: 100}})
	seed(b)
	// 11 requests left and 10 reserved: one repository's scan fits.
	b.Sim.SetRateLimit(11, b.Clock.Now().Add(30*time.Minute))
	m, h := newMetrics()
	ctx := context.Background()
	r := newBudgetRunner(t, b, runner.Config{DryRun: true, RateLimitReserve: budget.Requests(10), Metrics: m})
	sum, err := r.Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != runner.StatusSucceeded {
		t.Errorf("status %s (%s), want succeeded: a skipped repository is not a failure", sum.Status, sum.Error)
	}
	if len(sum.Scan.Repos) != 1 || sum.Scan.Repos[0].Repository != "octo/api" || len(sum.Budget.Skipped) != 1 || sum.Budget.Skipped[0] != "octo/web" {
		t.Fatalf("scanned %+v, skipped %v; want octo/api scanned (first by name among the never scanned), octo/web skipped", sum.Scan.Repos, sum.Budget.Skipped)
	}
	if !strings.Contains(sum.Error, "rate-limit budget: 1 repositories skipped to keep RATE_LIMIT_RESERVE (token: 11 of 100 left, 10 reserved, 2 needed); no deletions there") {
		t.Errorf("run error %q does not say what was skipped and why", sum.Error)
	}
	// The skipped repository has no decisions at all, so no deletions.
	entries, err := b.Store.AuditEntries(ctx, store.AuditFilter{RunID: sum.RunID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Repository == "octo/web" {
			t.Fatalf("the skipped repository got a decision: %+v", e)
		}
	}
	row, err := b.Store.Run(ctx, sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	rq, err := b.Store.RunRequestsOf(ctx, sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Error != sum.Error || rq != (store.RunRequests{Skipped: 1, Estimated: 2, Made: 1, Costed: 1}) {
		t.Errorf("runs row error %q, requests %+v", row.Error, rq)
	}
	scraped := testbed.Scrape(t, h)
	if got := scraped.Value(t, "retentiond_run_repositories_skipped"); got != 1 {
		t.Errorf("retentiond_run_repositories_skipped = %g, want 1", got)
	}
	if got := scraped.Value(t, "retentiond_repository_scans_total", "mode", "full"); got != 1 {
		t.Errorf("full repository scans = %g, want 1", got)
	}
	if got := scraped.Value(t, "retentiond_run_requests_estimated"); got != 2 {
		t.Errorf("retentiond_run_requests_estimated = %g, want 2", got)
	}
	if !strings.Contains(b.Logs.String(), "repository skipped: the rate-limit budget cannot afford its scan this run") {
		t.Error("the skip is not logged")
	}

	// A new hour: the skipped repository, never completed, goes first, and
	// with 11 left again only it fits.
	b.Clock.Advance(time.Hour)
	b.Sim.SetRateLimit(11, b.Clock.Now().Add(time.Hour))
	sum, err = r.Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Scan.Repos) != 1 || sum.Scan.Repos[0].Repository != "octo/web" {
		t.Errorf("second run scanned %+v, want octo/web", sum.Scan.Repos)
	}
	// With room, both are scanned and the run says nothing of budgets.
	b.Clock.Advance(time.Hour)
	b.Sim.SetRateLimit(100, b.Clock.Now().Add(time.Hour))
	sum, err = r.Run(ctx, runner.TriggerManual)
	if err != nil || len(sum.Scan.Repos) != 2 || len(sum.Budget.Skipped) != 0 || strings.Contains(sum.Error, "budget") {
		t.Errorf("third run: %v, %+v, skipped %v, error %q", err, sum.Scan.Repos, sum.Budget.Skipped, sum.Error)
	}
}

// TestOwnDeletionsDoNotForceAFullScan: what retentiond deletes it marks gone
// itself, so the next scan's reconciliation already counts it.
func TestOwnDeletionsDoNotForceAFullScan(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	seed(b)
	ctx := context.Background()
	r := newBudgetRunner(t, b, runner.Config{RateLimitReserve: budget.DefaultReserve})
	first, err := r.Run(ctx, runner.TriggerManual)
	if err != nil || first.Status != runner.StatusSucceeded || first.Janitor.Deleted == 0 {
		t.Fatalf("first run: %v, %s %s, deleted %d", err, first.Status, first.Error, first.Janitor.Deleted)
	}
	for repo, mode := range modes(first) {
		if mode != store.ScanFull {
			t.Errorf("first run: %s scanned %s, want full", repo, mode)
		}
	}
	// The deletions changed page 1, so the next scan reads it (one costed
	// request each) and reconciles without listing more.
	b.Clock.Advance(time.Hour)
	second, err := r.Run(ctx, runner.TriggerManual)
	if err != nil || second.Status != runner.StatusSucceeded {
		t.Fatalf("second run: %v %+v", err, second)
	}
	for _, rr := range second.Scan.Repos {
		if rr.Mode != store.ScanIncremental || rr.Fallback != "" || rr.Requests != 1 || rr.Costed != 1 {
			t.Errorf("second run: %s: mode %s, fallback %q, %d requests (%d costed); want incremental, 1 costed",
				rr.Repository, rr.Mode, rr.Fallback, rr.Requests, rr.Costed)
		}
	}
	b.Clock.Advance(time.Hour)
	third, err := r.Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range third.Scan.Repos {
		if rr.Mode != store.ScanNotModified || rr.Costed != 0 {
			t.Errorf("third run: %s: mode %s, %d costed; want not_modified, 0", rr.Repository, rr.Mode, rr.Costed)
		}
	}
	if third.Janitor.Planned != 0 || third.Status != runner.StatusSucceeded {
		t.Errorf("third run planned %d deletions, status %s", third.Janitor.Planned, third.Status)
	}
	rq, err := b.Store.RunRequestsOf(ctx, third.RunID)
	if err != nil || rq.Costed != 0 || rq.Made != 2 {
		t.Errorf("third run's requests: %+v, %v; want 2 made, 0 costed", rq, err)
	}
}
