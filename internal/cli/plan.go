package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/janitor"

	"github.com/retentiond/retentiond/internal/config"
)

type planOpts struct {
	format string
}

func planCommand() *command {
	return &command{
		name:    "plan",
		args:    "[--format table|json|csv]",
		summary: "Evaluate the policy over the database and print what would be deleted",
		help: `Evaluates POLICY_FILE over the artifacts already in the database (from the
latest scans) and prints the would-delete list, oldest first, with totals.
It makes no GitHub calls and records nothing. Decisions past
MAX_DELETIONS_PER_RUN are marked, as a run would skip them.`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &planOpts{}
			fs.StringVar(&o.format, "format", "table", "table, json or csv")
			return func(ctx context.Context, e *Env, args []string) error { return runPlan(ctx, e, args, o) }
		},
		config: []config.Concern{config.DatabaseConcern, config.PolicyConcern, config.JanitorConcern, config.LogConcern},
	}
}

func runPlan(ctx context.Context, e *Env, args []string, opts *planOpts) error {
	if len(args) != 0 {
		return usagef("plan takes no arguments")
	}
	f, err := report.ParseFormat(opts.format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	a, closeFn, err := setup(ctx, e, needs{db: true, policy: true})
	if err != nil {
		return err
	}
	defer closeFn()

	now := e.Clock.Now()
	plan, err := runner.New(a.store, nil, nil, a.policy, a.runnerConfig(e, nil, false)).Plan(ctx)
	if err != nil {
		return err
	}
	defer plan.Close()
	limit, warnings, seen := plan.Limit, plan.Warnings, plan.Evaluated
	for _, w := range warnings {
		a.logger.WarnContext(ctx, w)
	}
	// The decisions stream from the database to the output: a plan over an
	// organisation is never held in memory. A table with nothing to show is
	// left out.
	var out *report.Stream
	if f != report.FormatTable || plan.Total > 0 {
		out = report.NewStream(e.Stdout, f,
			[]string{"REPOSITORY", "ARTIFACT", "NAME", "BRANCH", "SIZE", "AGE", "RULE", "REASON"},
			[]string{"repository", "artifact_id", "artifact_name", "branch", "size_in_bytes", "created_at", "rule", "reason", "over_cap", "expired"})
	}
	// Bytes count the storage a deletion frees: an expired artifact's was
	// freed by GitHub already, so it is counted apart, as a listing.
	var bytes, capBytes int64
	var expired int
	err = plan.Each(ctx, func(i int, it janitor.Item) error {
		ar := it.Artifact
		rule := it.Decision.Rule
		freed, isExpired := ar.SizeInBytes, ar.ExpiredAt(now)
		if isExpired {
			freed = 0
			expired++
		}
		if i >= limit {
			rule += " (over cap)"
		} else {
			capBytes += freed
		}
		bytes += freed
		out.Add([]string{ar.Repository.String(), strconv.FormatInt(ar.ID, 10), ar.Name, dash(ar.Branch), sizeCell(ar.SizeInBytes, isExpired),
			report.AgeSince(now, ar.CreatedAt), rule, it.Decision.Reason},
			[]any{ar.Repository, ar.ID, ar.Name, orNil(ar.Branch), ar.SizeInBytes, ar.CreatedAt, it.Decision.Rule, it.Decision.Reason, i >= limit, isExpired})
		return nil
	})
	if err != nil {
		return err
	}
	if out != nil {
		if err := out.Close(); err != nil {
			return err
		}
	}
	if f != report.FormatTable {
		return nil
	}
	if plan.Total > 0 {
		fmt.Fprintln(e.Stdout)
	}
	fmt.Fprintf(e.Stdout, "%d artifacts evaluated; %d would be deleted (%s of storage", seen, plan.Total, report.Bytes(bytes))
	if expired > 0 {
		fmt.Fprintf(e.Stdout, ", and %d expired listings whose storage GitHub already freed", expired)
	}
	fmt.Fprint(e.Stdout, ")")
	if plan.Total > limit {
		fmt.Fprintf(e.Stdout, "; a run now deletes the first %d (%s): %s", limit, report.Bytes(capBytes), strings.TrimPrefix(plan.Cap, "over "))
	}
	fmt.Fprintln(e.Stdout)
	for _, w := range warnings {
		fmt.Fprintf(e.Stdout, "warning: %s\n", w)
	}
	return nil
}
