package runner

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/budget"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
)

// BudgetReader reads the rate-limit budget that requests for an owner's
// repositories spend (github.Client.Budget).
type BudgetReader interface {
	Budget(ctx context.Context, owner string) (github.Budget, error)
}

// budget is the step before the scan: it estimates the requests the run
// needs — per repository one, or its page count when a full listing is due,
// plus the run's likely deletions — and returns the repositories the budgets
// can afford while keeping RATE_LIMIT_RESERVE. The rest are skipped: not
// scanned, not failed, no deletions. With no BudgetReader, or when the
// estimate cannot be made, every repository is scanned, and the scans'
// own rate-limit handling applies as before.
func (r *Runner) budget(ctx context.Context, log *slog.Logger, sum *Summary, repos []artifact.Repository) []artifact.Repository {
	if r.cfg.Budget == nil || len(repos) == 0 {
		return repos
	}
	states, err := r.store.ScanStates(ctx, repos)
	if err != nil {
		log.WarnContext(ctx, "scanning every repository: the request estimate needs their scan state", slog.Any("error", err))
		return repos
	}
	deletions := 0
	if !r.cfg.DryRun {
		n, err := r.store.RecentPlannedDeletions(ctx)
		if err != nil {
			log.WarnContext(ctx, "budgeting deletions at the per-run cap: the latest run's could not be read", slog.Any("error", err))
			n = r.cfg.MaxDeletions
		}
		deletions = min(n, r.cfg.MaxDeletions)
	}
	now := r.cfg.Clock.Now()
	allowances := map[string]budget.Allowance{}
	budgetOf := map[string]string{}
	items := make([]budget.Repo, len(repos))
	for i, repo := range repos {
		owner := repo.Owner()
		name, seen := budgetOf[owner]
		if !seen {
			b, err := r.cfg.Budget.Budget(ctx, owner)
			if err != nil {
				// Not a name any budget has, so Select scans these.
				name = "unknown budget of " + owner
				log.WarnContext(ctx, "scanning without a budget: the rate limit could not be read",
					slog.String("owner", owner), slog.Any("error", err))
			} else {
				name = b.Name
				allowances[name] = budget.Allowance{
					Limit: b.Limit, Remaining: b.Remaining, Reserve: r.cfg.RateLimitReserve.Of(b.Limit), Deletions: deletions,
				}
			}
			budgetOf[owner] = name
		}
		st := states[repo]
		items[i] = budget.Repo{Repository: repo, Budget: name, Cost: r.scanner.EstimateRequests(st, now), LastComplete: st.LastCompleteAt}
	}
	plan := budget.Select(items, allowances)
	sum.Budget = plan
	for _, l := range plan.Lines {
		if _, known := allowances[l.Name]; !known {
			continue
		}
		level := slog.LevelInfo
		if l.Skipped > 0 {
			level = slog.LevelWarn
		}
		log.LogAttrs(ctx, level, "rate-limit budget",
			slog.String("budget", l.Name), slog.Int("limit", l.Limit), slog.Int("remaining", l.Remaining),
			slog.Int("reserve", l.Reserve), slog.Int("deletions", l.Deletions), slog.Int("estimated", l.Estimated),
			slog.Int("planned", l.Planned), slog.Int("repositories", l.Scanned), slog.Int("skipped", l.Skipped))
	}
	for _, repo := range plan.Skipped {
		log.InfoContext(ctx, "repository skipped: the rate-limit budget cannot afford its scan this run; no deletions here",
			slog.String("repository", repo.String()))
	}
	return plan.Scan
}

// noteBudget adds the skipped repositories to the run's error text. Like
// reaching a deletion cap, a tight budget is normal operation: the run's
// status does not change, the skipped repositories are first in line next
// time.
func noteBudget(sum *Summary) {
	if len(sum.Budget.Skipped) == 0 {
		return
	}
	var parts []string
	for _, l := range sum.Budget.Lines {
		if l.Skipped > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d of %d left, %d reserved, %d needed", l.Name, l.Remaining, l.Limit, l.Reserve, l.Estimated))
		}
	}
	note := fmt.Sprintf("rate-limit budget: %d repositories skipped to keep RATE_LIMIT_RESERVE (%s); no deletions there, left for the next run",
		len(sum.Budget.Skipped), strings.Join(parts, "; "))
	if sum.Error != "" {
		sum.Error += "; "
	}
	sum.Error += note
}

// requests is what the run's row records of its use of the rate limit.
func requests(sum *Summary) store.RunRequests {
	rq := store.RunRequests{Skipped: len(sum.Budget.Skipped), Estimated: sum.Budget.Estimated}
	for _, rr := range sum.Scan.Repos {
		rq.Made += rr.Requests
		rq.Costed += rr.Costed
	}
	return rq
}
