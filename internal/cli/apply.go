package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"

	"github.com/retentiond/retentiond/internal/config"
)

type applyOpts struct {
	run            int64
	onlyRule       string
	onlyRepository string
	noWait         bool
}

func applyCommand() *command {
	return &command{
		name:    "apply",
		args:    "--run ID [--only-rule NAME] [--only-repository OWNER/REPO] [--no-wait]",
		summary: "Delete exactly what a reviewed dry-run would have deleted",
		help: `Carries out the would-delete decisions (outcome dry_run) of dry-run ID, and
nothing else: not what the policy would decide today, only what you
reviewed. It is recorded as a new run with trigger apply that names the
reviewed one, and it always deletes, whatever DRY_RUN says.

There is no scan. Before each DELETE the artifact is read again, and it is
deleted only if its name, size and creation time are still those you
reviewed; otherwise its outcome is changed (or already_gone). Rules with
archive: true (as the current POLICY_FILE says) archive first. The cap
(MAX_DELETIONS_PER_RUN), pacing (DELETE_INTERVAL), rate limits and the audit
log work as for any run. A dry-run older than APPLY_MAX_AGE is refused.

Applying the same dry-run again carries on where the last apply stopped (at
the cap, a rate limit, failures); what is done is never done twice, and when
nothing is left it is refused.

Example:
  retentiond run                      # dry-run (DRY_RUN defaults to true)
  retentiond audit --run 12           # review what run 12 would delete
  retentiond apply --run 12 --only-rule old-test-results

Exit status: 0 when every decision was carried out, 1 when the apply was
refused, partial or failed, 2 for usage or configuration errors.`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &applyOpts{}
			fs.Int64Var(&o.run, "run", 0, "id of the reviewed dry-run (required)")
			fs.StringVar(&o.onlyRule, "only-rule", "", "apply only the decisions of this delete rule (any case)")
			fs.StringVar(&o.onlyRepository, "only-repository", "", "apply only the decisions about this repository (OWNER/REPO)")
			fs.BoolVar(&o.noWait, "no-wait", false, "exit instead of waiting when another run is in progress")
			return func(ctx context.Context, e *Env, args []string) error { return runApply(ctx, e, args, o) }
		},
		config: []config.Concern{config.DatabaseConcern, config.GitHubConcern, config.ScanConcern, config.PolicyConcern, config.JanitorConcern, config.ApplyConcern, config.ArchiveConcern, config.StorageConcern, config.LogConcern},
	}
}

func runApply(ctx context.Context, e *Env, args []string, opts *applyOpts) error {
	if len(args) != 0 {
		return usagef("apply takes no arguments; use --run ID")
	}
	if opts.run <= 0 {
		return usagef("apply needs --run ID, the dry-run to carry out ('retentiond audit' lists the latest runs)")
	}
	var onlyRepository artifact.Repository
	if opts.onlyRepository != "" {
		var err error
		if onlyRepository, err = artifact.ParseRepository(opts.onlyRepository); err != nil {
			return usagef("--only-repository: %v", err)
		}
	}
	a, closeFn, err := setup(ctx, e, needs{db: true, migrate: true, github: true, policy: true})
	if err != nil {
		return err
	}
	defer closeFn()
	// apply always deletes, whatever DRY_RUN says.
	if err := a.checkArchiveDir(ctx, false); err != nil {
		return err
	}
	r := a.runner(e, nil, !opts.noWait)
	sum, err := r.Apply(ctx, opts.run, runner.ApplyOptions{
		OnlyRule: opts.onlyRule, OnlyRepository: onlyRepository, MaxAge: a.cfg.Apply.MaxAge,
	})
	if errors.Is(err, runner.ErrRefused) || errors.Is(err, runner.ErrBusy) {
		return err
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "Applied dry-run %d: %d reviewed decisions\n", opts.run, sum.Janitor.Planned)
	if err := printRun(ctx, e, a, sum.RunID, 10); err != nil {
		return err
	}
	if err := printNotDone(ctx, e, a, sum.RunID); err != nil {
		return err
	}
	if sum.Status != runner.StatusSucceeded {
		return fmt.Errorf("apply run %d %s", sum.RunID, sum.Status)
	}
	return nil
}

// printNotDone lists the decisions of an apply that did not end deleted or
// already gone, with why.
func printNotDone(ctx context.Context, e *Env, a *app, runID int64) error {
	entries, err := a.store.AuditEntries(ctx, store.AuditFilter{RunID: runID})
	if err != nil {
		return err
	}
	var rest []store.AuditEntry
	for _, en := range entries {
		if en.Outcome != store.OutcomeDeleted && en.Outcome != store.OutcomeAlreadyGone {
			rest = append(rest, en)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	const most = 20
	fmt.Fprintf(e.Stdout, "\nNot deleted (%d", len(rest))
	if len(rest) > most {
		fmt.Fprintf(e.Stdout, ", first %d", most)
		rest = rest[:most]
	}
	fmt.Fprintln(e.Stdout, "):")
	return entryTable(rest, true).Write(e.Stdout, report.FormatTable)
}
