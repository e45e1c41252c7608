package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/store"
)

type auditOpts struct {
	run                            int64
	outcome, repository, rule, act string
	format                         string
	limit                          int
}

func init() {
	register(&command{
		name:    "audit",
		args:    "[--run ID [--outcome O] [--repository OWNER/REPO] [--rule NAME] [--action delete|keep]] [--format table|json|csv]",
		summary: "Show recent runs, or one run's decisions, from the audit tables",
		help: `Without --run, lists the latest runs with their totals (the run_summary view).
With --run ID, lists that run's delete decisions and their outcomes, oldest
artifact first; --action keep (or --outcome kept) shows why artifacts were
kept. Outcomes: dry_run, pending, deleted, already_gone, failed, skipped_cap,
skipped_rate_limit, interrupted, changed, expired_not_archived, kept.`,
		flags: func(fs *flag.FlagSet) any {
			o := &auditOpts{}
			fs.Int64Var(&o.run, "run", 0, "run id whose decisions to list")
			fs.StringVar(&o.outcome, "outcome", "", "only this outcome")
			fs.StringVar(&o.repository, "repository", "", "only this repository (owner/name)")
			fs.StringVar(&o.rule, "rule", "", "only decisions made by this rule")
			fs.StringVar(&o.act, "action", "", "delete (default) or keep")
			fs.StringVar(&o.format, "format", "table", "table, json or csv")
			fs.IntVar(&o.limit, "limit", 0, "at most this many rows (default: 20 runs, or every decision)")
			return o
		},
		vars: []string{"DATABASE_URL"},
		run:  runAudit,
	})
}

func runAudit(ctx context.Context, e *Env, fs *flag.FlagSet, o any) error {
	opts := o.(*auditOpts)
	if fs.NArg() != 0 {
		return usagef("audit takes no arguments; use --run ID")
	}
	f, err := report.ParseFormat(opts.format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	filter := store.AuditFilter{RunID: opts.run, Outcome: store.Outcome(opts.outcome), Rule: opts.rule, Limit: opts.limit}
	if opts.repository != "" {
		if filter.Repository, err = artifact.ParseRepository(opts.repository); err != nil {
			return usagef("--repository: %v", err)
		}
	}
	switch opts.act {
	case "":
		filter.Action = store.ActionDelete
		if filter.Outcome == store.OutcomeKept {
			filter.Action = store.ActionKeep
		}
	case "delete", "keep":
		filter.Action = store.Action(opts.act)
	default:
		return usagef("--action %q: accepted: delete, keep", opts.act)
	}
	a, closeFn, err := setup(ctx, e, needs{db: true})
	if err != nil {
		return err
	}
	defer closeFn()
	if opts.run == 0 {
		limit := opts.limit
		if limit == 0 {
			limit = 20
		}
		runs, err := a.store.Runs(ctx, limit)
		if err != nil {
			return err
		}
		if len(runs) == 0 && f == report.FormatTable {
			fmt.Fprintln(e.Stdout, "no runs yet: try 'retentiond run' (dry-run by default)")
			return nil
		}
		return runsTable(e.Stdout, runs, f)
	}
	if _, err := a.store.Run(ctx, opts.run); err != nil {
		return err
	}
	entries, err := a.store.AuditEntries(ctx, filter)
	if err != nil {
		return err
	}
	if err := entryTable(entries, true).Write(e.Stdout, f); err != nil {
		return err
	}
	if f == report.FormatTable {
		var bytes int64
		for _, en := range entries {
			bytes += en.SizeInBytes
		}
		fmt.Fprintf(e.Stdout, "\n%d decisions, %s\n", len(entries), report.Bytes(bytes))
	}
	return nil
}
