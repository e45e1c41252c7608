package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/policy"
)

// DefaultApplyMaxAge is APPLY_MAX_AGE's default.
const DefaultApplyMaxAge = 7 * 24 * time.Hour

// ErrRefused is returned by Apply when it will not carry out a reviewed run
// (it does not exist, is not a finished dry-run, is too old, has nothing
// left to apply, ...). Nothing was recorded or deleted; the error says why.
var ErrRefused = errors.New("apply refused")

// ApplyOptions narrow and bound an apply.
type ApplyOptions struct {
	// OnlyRule applies only the decisions of the delete rule of this name,
	// ignoring case.
	OnlyRule string
	// OnlyRepository applies only the decisions about this repository.
	OnlyRepository artifact.Repository
	// MaxAge refuses a reviewed run that started longer ago
	// (APPLY_MAX_AGE); 0 means DefaultApplyMaxAge.
	MaxAge time.Duration
}

// Apply carries out exactly the dry_run delete decisions of run reviewedID —
// what a person reviewed, not what the policy would decide today — as a new
// run with trigger apply that references it. There is no scan: before each
// DELETE the artifact is re-read, and it is deleted only if its name, size
// and creation time are still those reviewed (otherwise: changed, or
// already_gone). The cap, pacing, rate limits, archiving and the audit log
// work as in Run. Decisions an earlier apply of the same run settled are not
// tried again, so a second apply carries on where the first stopped.
//
// Whether to archive first is taken from the delete rule of the same name in
// the current policy, since the audit log does not record it; Apply refuses
// when that rule, or the repository, is no longer in the policy.
//
// Errors matching ErrRefused or ErrBusy mean nothing was done; like Run's,
// other errors are for runs that could not be carried out or recorded.
func (r *Runner) Apply(ctx context.Context, reviewedID int64, opts ApplyOptions) (Summary, error) {
	j, unlock, reconciled, err := r.prepare(ctx, true)
	if err != nil {
		return Summary{}, err
	}
	defer unlock()

	sum := Summary{Trigger: TriggerApply, Reconciled: reconciled}
	items, err := r.reviewedItems(ctx, reviewedID, opts)
	if err != nil {
		return sum, err
	}
	sum.StartedAt = r.cfg.Clock.Now()
	log, err := r.begin(ctx, &sum, reviewedID)
	if err != nil {
		return sum, err
	}
	log.InfoContext(ctx, "apply started", slog.Int64("reviewed_run_id", reviewedID), slog.Int("decisions", len(items)),
		slog.String("only_rule", opts.OnlyRule), slog.String("only_repository", opts.OnlyRepository.String()))
	rep, runErr := j.Execute(ctx, sum.RunID, items)
	sum.Janitor = rep
	return sum, r.record(ctx, log, &sum, runErr)
}

// reviewedItems checks that run reviewedID may be applied and turns its
// remaining dry_run decisions into janitor items.
func (r *Runner) reviewedItems(ctx context.Context, reviewedID int64, opts ApplyOptions) ([]janitor.Item, error) {
	refuse := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
	}
	run, err := r.store.Run(ctx, reviewedID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse("run %d does not exist; 'retentiond audit' lists the latest runs", reviewedID)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case !run.DryRun:
		return nil, refuse("run %d was not a dry-run (trigger %s): apply carries out what a dry-run recorded", reviewedID, run.Trigger)
	case run.FinishedAt.IsZero():
		return nil, refuse("run %d has not finished", reviewedID)
	case run.Status == StatusFailed:
		return nil, refuse("run %d failed (%s), so its decisions may be incomplete; review a new dry-run", reviewedID, run.Error)
	}
	maxAge := opts.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultApplyMaxAge
	}
	if age := r.cfg.Clock.Now().Sub(run.StartedAt); age > maxAge {
		return nil, refuse("run %d started %s ago, older than APPLY_MAX_AGE %s: artifacts and rules may have changed since it was reviewed; review a new dry-run",
			reviewedID, policy.FormatAge(age, maxAge), policy.FormatDuration(maxAge))
	}

	filter := store.ReviewFilter{Rule: opts.OnlyRule, Repository: opts.OnlyRepository}
	entries, err := r.store.ReviewedDecisions(ctx, reviewedID, filter)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, r.nothingToApply(ctx, reviewedID, opts, refuse)
	}

	// Rule names are unique regardless of case: a rule renamed only in case
	// is the same rule.
	rules := map[string]*policy.Rule{}
	for i := range r.policy.Rules {
		rules[strings.ToLower(r.policy.Rules[i].Name)] = &r.policy.Rules[i]
	}
	var problems []string
	items := make([]janitor.Item, 0, len(entries))
	for _, e := range entries {
		rule := rules[strings.ToLower(e.Rule)]
		switch {
		case !r.policy.Selects(e.Repository):
			problems = appendOnce(problems, fmt.Sprintf("repository %s is no longer in the policy", e.Repository))
			continue
		case rule == nil:
			problems = appendOnce(problems, fmt.Sprintf("rule %s is no longer in the policy", e.Rule))
			continue
		case rule.Action != policy.Delete:
			problems = appendOnce(problems, fmt.Sprintf("rule %s is no longer a delete rule", e.Rule))
			continue
		}
		items = append(items, janitor.Item{
			Artifact: artifact.Artifact{
				ID: e.ArtifactID, Repository: e.Repository, Name: e.ArtifactName, SizeInBytes: e.SizeInBytes,
				CreatedAt: e.ArtifactCreatedAt, Branch: e.Branch, HeadSHA: e.HeadSHA,
				// Orders the execution until the re-read says what it is now.
				Expired: e.Expired,
			},
			Decision: policy.Decision{
				Action: policy.Delete, Rule: e.Rule, Reason: e.Reason,
				Archive: rule.Archive, ArchiveRequired: rule.Archive && rule.ArchiveRequired,
			},
		})
	}
	if len(problems) > 0 {
		return nil, refuse("run %d cannot be applied as reviewed: %s (POLICY_FILE %s); leave those decisions out with --only-rule or --only-repository, or review a new dry-run",
			reviewedID, strings.Join(problems, "; "), r.policy.File)
	}
	if run.PolicySHA256 != r.policy.SHA256 {
		r.logger.WarnContext(ctx, "the policy changed since the reviewed run; archiving follows the current rules of the same names",
			slog.Int64("reviewed_run_id", reviewedID), slog.String("reviewed_policy_sha256", run.PolicySHA256),
			slog.String("policy_sha256", r.policy.SHA256))
	}
	return items, nil
}

// nothingToApply explains why no decision is left.
func (r *Runner) nothingToApply(ctx context.Context, reviewedID int64, opts ApplyOptions, refuse func(string, ...any) error) error {
	scope := ""
	if opts.OnlyRule != "" {
		scope += " of rule " + opts.OnlyRule
	}
	if opts.OnlyRepository != "" {
		scope += " about " + opts.OnlyRepository.String()
	}
	applied, err := r.store.ApplyRuns(ctx, reviewedID)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		return refuse("nothing left to apply: every dry_run delete decision%s of run %d was already settled (deleted, found gone, changed or expired) by apply run %s",
			scope, reviewedID, joinIDs(applied))
	}
	return refuse("run %d has no dry_run delete decisions%s", reviewedID, scope)
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}
