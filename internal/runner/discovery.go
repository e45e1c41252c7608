package runner

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/discovery"
	"github.com/retentiond/retentiond/policy"
)

// Resolver resolves the policy's repositories list, patterns included, at
// the start of a run. *discovery.Resolver meets it.
type Resolver interface {
	Resolve(ctx context.Context, p *policy.Policy) (discovery.Resolution, error)
}

// RuleArchived names the decisions of an archived repository that
// include_archived scans: whatever the rules say, it is kept.
const RuleArchived = "policy.include_archived"

// resolveRepositories returns the repositories this run scans and those of
// them that must get no deletions (archived ones that include_archived
// scans), and records what discovery found on the run. Without a Resolver
// (or without patterns) it is the policy's plain list, as before.
func (r *Runner) resolveRepositories(ctx context.Context, log *slog.Logger, sum *Summary) ([]artifact.Repository, map[artifact.Repository]string, error) {
	if r.cfg.Resolver == nil {
		return r.policy.Repositories, nil, nil
	}
	res, err := r.cfg.Resolver.Resolve(ctx, r.policy)
	if err != nil {
		return nil, nil, fmt.Errorf("resolving the policy's repositories: %w", err)
	}
	sum.Discovery = res
	counts := res.Counts()
	if err := r.store.RecordRunDiscovery(ctx, sum.RunID, counts); err != nil {
		return nil, nil, err
	}
	scan := res.Scan()
	if r.policy.Selector.HasPatterns() {
		log.InfoContext(ctx, "resolved the policy's repositories", slog.Int("scan", len(scan)),
			slog.Int("discovered", counts.Discovered), slog.Int("archived", counts.Archived),
			slog.Int("excluded", counts.Excluded), slog.Int("owners_failed", counts.OwnersFailed))
	}
	return scan, res.NoDeletions(), nil
}

// holdDecision turns a delete decision into a keep that says why the
// repository gets no deletions (reason), keeping the rules' reason.
func holdDecision(d *policy.Decision, reason string) {
	if d.Action != policy.Delete {
		return
	}
	*d = policy.Decision{Action: policy.Keep, Rule: RuleArchived, Reason: "repository " + reason + "; the rules say: " + d.Reason}
}

// planRepositories is what Plan evaluates, without calling GitHub: the
// plain entries, and the repositories the latest listing of each owner
// recorded that the patterns select now. Archived ones are left out: a run
// gives them no deletions.
func (r *Runner) planRepositories(ctx context.Context) ([]artifact.Repository, error) {
	repos := slices.Clone(r.policy.Repositories)
	sel := r.policy.Selector
	if !sel.HasPatterns() {
		return repos, nil
	}
	known, err := r.store.KnownRepositories(ctx, "")
	if err != nil {
		return nil, err
	}
	// A repository no longer listed (deleted, transferred) keeps its row;
	// only those of each owner's latest listing count.
	latest := map[string]time.Time{}
	for _, k := range known {
		if k.LastSeenAt.After(latest[k.Owner]) {
			latest[k.Owner] = k.LastSeenAt
		}
	}
	for _, k := range known {
		if k.Archived || !k.LastSeenAt.Equal(latest[k.Owner]) || !sel.MatchesPatternOf(string(k.FullName)) || slices.Contains(repos, k.FullName) {
			continue
		}
		repos = append(repos, k.FullName)
	}
	return repos, nil
}
