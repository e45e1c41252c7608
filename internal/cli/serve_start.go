package cli

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/daemon"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/runner"
)

// githubReadyEvery is how often /readyz asks GitHub at most: often enough
// that a revoked token shows within a minute, rarely enough that probes
// every few seconds cost nothing noticeable (GET /rate_limit is free anyway).
const githubReadyEvery = time.Minute

// githubReadiness is /readyz's GitHub check: the API answers and accepts
// the token. The answer is kept for githubReadyEvery, by the injected clock.
type githubReadiness struct {
	gh    *github.Client
	clock clock.Clock

	mu      sync.Mutex // held across the request, so concurrent probes share one
	asked   bool
	askedAt time.Time
	err     error
}

func (g *githubReadiness) check(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	if g.asked && now.Sub(g.askedAt) < githubReadyEvery {
		return g.err
	}
	_, err := g.gh.CoreBudget(ctx)
	g.asked, g.askedAt, g.err = true, now, err
	return err
}

// startupChecks runs check's checks with what serve has opened and logs
// each, so a misconfiguration is in the first lines of the log. A failed
// check does not stop serve: /readyz and the first run report it too, and a
// check can fail for a reason that passes (a rate limit that resets).
func (a *app) startupChecks(ctx context.Context) {
	d := &doctor{cfg: a.cfg, store: a.store, gh: a.gh, policy: a.policy}
	failed := 0
	for _, r := range d.run(ctx) {
		r.log(ctx, a.logger)
		if !r.ok {
			failed++
		}
	}
	if failed > 0 {
		a.logger.WarnContext(ctx, "startup checks failed; 'retentiond check' prints them with their fixes", slog.Int("failed", failed))
	}
}

// seedLastSuccess sets the last-success gauge from the database, so that a
// restarted serve does not look as if it had never succeeded.
func (a *app) seedLastSuccess(ctx context.Context, rm *runner.Metrics) {
	t, err := a.store.LastSuccessFinished(ctx)
	if err != nil {
		a.logger.WarnContext(ctx, "could not read the last successful run", slog.Any("error", err))
		return
	}
	rm.SetLastSuccess(t)
}

// runAtStart decides RUN_ON_START, logging why it runs.
func (a *app) runAtStart(ctx context.Context, sched daemon.Schedule, now time.Time) bool {
	mode := a.cfg.Schedule.RunOnStart
	switch mode {
	case config.RunOnStartNever:
		return false
	case config.RunOnStartAlways:
		a.logger.InfoContext(ctx, "running at start", slog.String("run_on_start", string(mode)))
		return true
	}
	last, err := a.store.LastScanStarted(ctx)
	if err != nil {
		// A run now shows the same database error at once, in the run's
		// own record and metrics, rather than at the next tick.
		a.logger.WarnContext(ctx, "running at start: the latest run could not be read", slog.Any("error", err))
		return true
	}
	if !daemon.MissedTick(sched, last, now) {
		return false
	}
	why := "no run has been recorded"
	if !last.IsZero() {
		why = fmt.Sprintf("the latest run started at %s, before the tick at %s", last.Format(time.RFC3339), sched.Next(last).Format(time.RFC3339))
	}
	a.logger.InfoContext(ctx, "running at start: a scheduled run was missed", slog.String("run_on_start", string(mode)), slog.String("why", why))
	return true
}
