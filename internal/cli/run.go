package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/scanner"

	"github.com/retentiond/retentiond/internal/config"
)

// optBool is a boolean flag that remembers whether it was given, so a flag
// can override an environment variable only when present.
type optBool struct {
	set, v bool
}

func (b *optBool) String() string   { return strconv.FormatBool(b.v) }
func (b *optBool) IsBoolFlag() bool { return true }
func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not a boolean", s)
	}
	b.set, b.v = true, v
	return nil
}

type runOpts struct {
	dryRun optBool
	noWait bool
}

func runCommand() *command {
	return &command{
		name:    "run",
		args:    "[--dry-run=false] [--no-wait]",
		summary: "Scan, evaluate and clean up once, then exit",
		help: `One run now: scan every configured repository, evaluate the policy, and
delete what it says — or, by default (DRY_RUN=true), only record what would be
deleted. Every decision is written to the audit log; review it with
'retentiond audit' or SQL before you pass --dry-run=false.

Exit status, for Jobs and CronJobs: 0 when the run succeeded, including when
it stopped at MAX_DELETIONS_PER_RUN or MAX_DELETIONS_PER_DAY (normal operation:
the next run goes on); 1 when it was partial or failed (a repository's scan or
a deletion failed, a rate limit or a shutdown stopped it); 2 for usage or
configuration errors. If another run holds the lock on the database, run waits
for it (or, with --no-wait, exits 1 at once). Run it in a Job with
backoffLimit: 0: the next scheduled run is the retry.`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &runOpts{}
			fs.Var(&o.dryRun, "dry-run", "record without deleting (default from DRY_RUN, which defaults to true)")
			fs.BoolVar(&o.noWait, "no-wait", false, "exit instead of waiting when another run is in progress")
			return func(ctx context.Context, e *Env, args []string) error { return runRun(ctx, e, args, o) }
		},
		config: []config.Concern{config.DatabaseConcern, config.GitHubConcern, config.ScanConcern, config.PolicyConcern, config.JanitorConcern, config.ArchiveConcern, config.StorageConcern, config.AuditConcern, config.LogConcern},
	}
}

func (a *app) runner(e *Env, m *runner.Metrics, wait bool) *runner.Runner {
	return runner.New(a.store, a.gh, a.scanner(e), a.policy, a.runnerConfig(e, m, wait))
}

// runnerConfig is the one place the janitor's settings are taken from the
// configuration, for runs and applies alike.
func (a *app) runnerConfig(e *Env, m *runner.Metrics, wait bool) runner.Config {
	perRun, perDay := a.cfg.Janitor.MaxDeletions, a.cfg.Janitor.PerDay()
	if perDay == 0 {
		// MAX_DELETIONS_PER_DAY=0 deletes nothing; the janitor's 0 means
		// no daily cap, so say it with the per-run cap.
		perRun = 0
	}
	cfg := runner.Config{
		DryRun:             a.cfg.Janitor.DryRun,
		MaxDeletions:       perRun,
		MaxDeletionsPerDay: perDay,
		DeleteInterval:     a.cfg.Janitor.DeleteInterval,
		DatabaseRetryFor:   a.cfg.Database.RetryFor,
		Archive:            janitor.ArchiveConfig{Dir: a.cfg.Archive.Dir, MaxBytes: a.cfg.Archive.MaxBytes},
		Wait:               wait,
		Clock:              e.Clock,
		Logger:             a.logger,
		Metrics:            m,
		Resolver:           a.runResolver(e),
	}
	if a.gh != nil { // plan calls no GitHub: no budget to keep, no branches to list
		cfg.Budget, cfg.RateLimitReserve = a.gh, a.cfg.Scan.RateLimitReserve
		cfg.Branches = scanner.NewBranches(a.gh, a.store, scanner.Options{Clock: e.Clock, Logger: a.logger})
	}
	return cfg
}

func runRun(ctx context.Context, e *Env, args []string, opts *runOpts) error {
	if len(args) != 0 {
		return usagef("run takes no arguments")
	}
	a, closeFn, err := setup(ctx, e, needs{db: true, migrate: true, github: true, policy: true})
	if err != nil {
		return err
	}
	defer closeFn()
	if opts.dryRun.set {
		a.cfg.Janitor.DryRun = opts.dryRun.v
	}
	if err := a.checkExamplePolicy(ctx, a.cfg.Janitor.DryRun); err != nil {
		return err
	}
	if err := a.checkArchiveDir(ctx, a.cfg.Janitor.DryRun); err != nil {
		return err
	}
	r := a.runner(e, nil, !opts.noWait)
	sum, err := r.Run(ctx, runner.TriggerManual)
	if errors.Is(err, runner.ErrBusy) {
		return err
	}
	if err != nil {
		return err
	}
	if err := printRun(ctx, e, a, sum.RunID, 10); err != nil {
		return err
	}
	if sum.Status != runner.StatusSucceeded {
		return fmt.Errorf("run %d %s", sum.RunID, sum.Status)
	}
	return nil
}
