package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/store"

	"github.com/retentiond/retentiond/internal/config"
)

type auditOpts struct {
	run, artifact                  int64
	outcome, repository, rule, act string
	format                         string
	limit                          int
	dryRun                         bool
}

func auditCommand() *command {
	return &command{
		name:    "audit",
		args:    "[--run ID [--outcome O] [--repository OWNER/REPO] [--rule NAME] [--action delete|keep]] [--artifact ID] [--format table|json|csv] | prune [--dry-run]",
		summary: "Show recent runs, or one run's decisions, from the audit tables",
		help: `Without --run, lists the latest runs with their totals (the run_summary view).
With --run ID, lists that run's delete decisions and their outcomes, oldest
artifact first; --action keep (or --outcome kept) shows why artifacts were
kept, and --rule alone shows that rule's decisions, keep or delete. Rule
names and outcomes ignore case. --outcome, --repository, --rule and --action
need --run; a rule the run's audit log does not name is refused, with the
names it does.

--artifact ID prints the decision history of one artifact across runs: each
recorded decision, and for a keep, the later runs that made the same decision
without writing a row (see the decisions view).

'audit prune [--dry-run]' drops the audit_log partitions (whole months) that
ended more than AUDIT_RETENTION ago and records each drop in audit_prunes;
--dry-run lists them and drops nothing. Pending intents are never dropped.

Outcomes: ` + outcomeNames() + `.`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &auditOpts{}
			fs.Int64Var(&o.run, "run", 0, "run id whose decisions to list")
			fs.Int64Var(&o.artifact, "artifact", 0, "artifact id whose decision history to print")
			fs.StringVar(&o.outcome, "outcome", "", "only this outcome")
			fs.StringVar(&o.repository, "repository", "", "only this repository (owner/name)")
			fs.StringVar(&o.rule, "rule", "", "only decisions made by this rule (any case)")
			fs.StringVar(&o.act, "action", "", "delete (default) or keep")
			fs.StringVar(&o.format, "format", "table", "table, json or csv")
			fs.BoolVar(&o.dryRun, "dry-run", false, "with prune: list the partitions that would be dropped, drop nothing")
			fs.IntVar(&o.limit, "limit", 0, "at most this many rows (default: 20 runs, or every decision)")
			return func(ctx context.Context, e *Env, args []string) error { return runAudit(ctx, e, args, o) }
		},
		config: []config.Concern{config.DatabaseConcern, config.AuditConcern, config.LogConcern},
	}
}

func runAudit(ctx context.Context, e *Env, args []string, opts *auditOpts) error {
	if len(args) > 0 && args[0] == "prune" {
		return runAuditPrune(ctx, e, args[1:], opts.dryRun)
	}
	if opts.dryRun {
		return usagef("--dry-run belongs to 'audit prune'")
	}
	if len(args) != 0 {
		return usagef("audit takes no arguments but prune; use --run ID or --artifact ID")
	}
	f, err := report.ParseFormat(opts.format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	if opts.artifact != 0 {
		return runAuditArtifact(ctx, e, opts, f)
	}
	if opts.run == 0 {
		// The runs listing has nothing to filter by these; ignoring them would
		// answer a question that was not asked.
		var given []string
		for _, f := range []struct{ name, value string }{
			{"outcome", opts.outcome}, {"repository", opts.repository}, {"rule", opts.rule}, {"action", opts.act},
		} {
			if f.value != "" {
				given = append(given, "--"+f.name)
			}
		}
		if len(given) == 1 {
			return usagef("%s needs --run ID: it filters the decisions of one run ('retentiond audit' lists the runs)", given[0])
		}
		if len(given) > 1 {
			return usagef("%s and %s need --run ID: they filter the decisions of one run ('retentiond audit' lists the runs)",
				strings.Join(given[:len(given)-1], ", "), given[len(given)-1])
		}
	}
	filter := store.AuditFilter{RunID: opts.run, Rule: opts.rule, Limit: opts.limit}
	if opts.outcome != "" {
		if filter.Outcome, err = store.ParseOutcome(opts.outcome); err != nil {
			return usagef("--outcome: %v", err)
		}
	}
	if opts.repository != "" {
		if filter.Repository, err = artifact.ParseRepository(opts.repository); err != nil {
			return usagef("--repository: %v", err)
		}
	}
	switch opts.act {
	case "":
		switch {
		case filter.Outcome == store.OutcomeKept:
			filter.Action = store.ActionKeep
		case filter.Outcome != "":
			filter.Action = store.ActionDelete
		case filter.Rule != "":
			// A rule's decisions are all keeps or all deletes: show them.
		default:
			filter.Action = store.ActionDelete
		}
	case "delete", "keep":
		filter.Action = store.Action(opts.act)
		if filter.Outcome != "" && (filter.Outcome == store.OutcomeKept) != (filter.Action == store.ActionKeep) {
			return usagef("--outcome %s and --action %s match nothing: keep decisions, and only they, end kept", filter.Outcome, filter.Action)
		}
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
	if len(entries) == 0 && filter.Rule != "" {
		if err := checkRule(ctx, a, opts.run, filter.Rule); err != nil {
			return err
		}
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

// checkRule refuses a --rule that run runID's audit log does not name, so a
// mistyped rule is not mistaken for one that matched nothing. The run's own
// log is what counts: a rule since removed from the policy still has its
// decisions there.
func checkRule(ctx context.Context, a *app, runID int64, rule string) error {
	rules, err := a.store.RunRules(ctx, runID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(rules, func(r string) bool { return strings.EqualFold(r, rule) }) {
		return nil
	}
	if len(rules) == 0 {
		return usagef("--rule %q: run %d recorded no decision by any rule", rule, runID)
	}
	return usagef("--rule %q: run %d recorded no decision by that rule; its audit log names %s", rule, runID, strings.Join(rules, ", "))
}

// outcomeNames lists the outcomes for the help.
func outcomeNames() string {
	var names []string
	for _, o := range store.Outcomes() {
		names = append(names, string(o))
	}
	return strings.Join(names, ", ")
}
