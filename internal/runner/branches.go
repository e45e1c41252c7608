package runner

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/scanner"
)

// BranchScanner lists a repository's branches into the store
// (scanner.Branches), for policies with branch_deleted.
type BranchScanner interface {
	Scan(ctx context.Context, repo artifact.Repository) scanner.BranchResult
}

// listBranches lists the branches of every repository whose scan completed
// and whose policy has a branch_deleted rule for it. A repository whose
// listing fails keeps going: its decisions that depend on branch_deleted
// are blocked by evaluation (the store reports its branches as unknown),
// and the run ends partial. With no BranchScanner configured, nothing is
// listed, and those decisions are blocked the same way.
func (r *Runner) listBranches(ctx context.Context, log *slog.Logger, sum *Summary) {
	for _, rr := range sum.Scan.Repos {
		if rr.Status != scanner.StatusComplete || !r.policy.UsesBranchDeleted(rr.Repository) {
			continue
		}
		if r.cfg.Branches == nil {
			log.WarnContext(ctx, "the policy uses branch_deleted but no branch scanner is configured; its deletions are blocked",
				slog.String("repository", rr.Repository.String()))
			continue
		}
		if ctx.Err() != nil {
			return
		}
		sum.Branches = append(sum.Branches, r.cfg.Branches.Scan(ctx, rr.Repository))
	}
}

// branchProblems lists the failed branch listings for the run's error text.
func branchProblems(sum *Summary) []string {
	var why []string
	for _, br := range sum.Branches {
		if br.Err != nil {
			why = append(why, fmt.Sprintf("%s: branch_deleted blocked: %v", br.Repository, br.Err))
		}
	}
	return why
}

// annotateBranches sets each artifact's BranchState from repo's latest
// branch listing, when the policy asks about branches there.
func (r *Runner) annotateBranches(ctx context.Context, repo artifact.Repository, arts []artifact.Artifact) error {
	if !r.policy.UsesBranchDeleted(repo) {
		return nil
	}
	b, err := r.store.Branches(ctx, repo)
	if err != nil {
		return fmt.Errorf("loading the branches of %s: %w", repo, err)
	}
	b.Annotate(arts)
	return nil
}

// branchWarning is Plan's warning for a repository whose policy asks about
// branches it has no complete listing of, or "".
func (r *Runner) branchWarning(ctx context.Context, repo artifact.Repository) (string, error) {
	if !r.policy.UsesBranchDeleted(repo) {
		return "", nil
	}
	b, err := r.store.Branches(ctx, repo)
	if err != nil || b.Complete {
		return "", err
	}
	return fmt.Sprintf("%s: no complete branch listing (%s); rules with branch_deleted delete nothing here until a run lists its branches", repo, b.Error), nil
}
