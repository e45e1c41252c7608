package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/scanner"

	"github.com/retentiond/retentiond/internal/config"
)

type scanOpts struct {
	run bool
}

func scanCommand() *command {
	return &command{
		name:    "scan",
		args:    "[--run OWNER/REPO RUN_ID]",
		summary: "Scan the artifacts of every configured repository into the database",
		help: `Lists every artifact of each repository in the policy file's repositories
list (100 per page) and records them. A repository's scan counts only when
every page was read; then artifacts no longer listed are marked gone. Exit
status 0 when every scan completed, 1 otherwise.

With --run OWNER/REPO RUN_ID, scans only the artifacts of one workflow run
(far cheaper when a single run just finished); it never marks anything gone.`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &scanOpts{}
			fs.BoolVar(&o.run, "run", false, "scan one workflow run: takes OWNER/REPO RUN_ID as arguments")
			return func(ctx context.Context, e *Env, args []string) error { return runScan(ctx, e, args, o) }
		},
		config: []config.Concern{config.DatabaseConcern, config.GitHubConcern, config.ScanConcern, config.PolicyConcern, config.LogConcern},
	}
}

func scanRun(ctx context.Context, e *Env, args []string) error {
	if len(args) != 2 {
		return usagef("usage: retentiond scan --run OWNER/REPO RUN_ID")
	}
	repo, err := artifact.ParseRepository(args[0])
	if err != nil {
		return usagef("%v", err)
	}
	runID, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || runID <= 0 {
		return usagef("RUN_ID %q is not a workflow run id", args[1])
	}
	a, closeFn, err := setup(ctx, e, needs{db: true, migrate: true, github: true})
	if err != nil {
		return err
	}
	defer closeFn()
	rr := a.scanner(e).ScanWorkflowRun(ctx, repo, runID)
	printScan(e, scanner.Result{Repos: []scanner.RepoResult{rr}})
	if rr.Err != nil {
		return rr.Err
	}
	return nil
}

func printScan(e *Env, res scanner.Result) {
	t := &report.Table{Header: []string{"REPOSITORY", "STATUS", "ARTIFACTS", "SIZE", "NEW", "GONE", "PAGES", "REQUESTS", "COSTED", "MODE", "DURATION"}}
	for _, rr := range res.Repos {
		t.Add([]string{rr.Repository.String(), string(rr.Status), strconv.Itoa(rr.Artifacts), report.Bytes(rr.Bytes),
			strconv.Itoa(rr.New), strconv.Itoa(rr.Gone), strconv.Itoa(rr.Pages), strconv.Itoa(rr.Requests),
			strconv.Itoa(rr.Costed), dash(string(rr.Mode)), rr.Duration.Round(1e6).String()}, nil)
	}
	_ = t.Write(e.Stdout, report.FormatTable)
	arts, bytes, reqs := res.Totals()
	fmt.Fprintf(e.Stdout, "\n%d repositories, %d artifacts, %s, %d requests, %d failed\n",
		len(res.Repos), arts, report.Bytes(bytes), reqs, res.Failed())
	for _, rr := range res.Repos {
		if rr.Err != nil {
			fmt.Fprintf(e.Stdout, "  %s: %v\n", rr.Repository, rr.Err)
		}
	}
}

func runScan(ctx context.Context, e *Env, args []string, opts *scanOpts) error {
	if opts.run {
		return scanRun(ctx, e, args)
	}
	if len(args) != 0 {
		return usagef("scan takes no arguments (did you mean --run OWNER/REPO RUN_ID?)")
	}
	a, closeFn, err := setup(ctx, e, needs{db: true, migrate: true, github: true, policy: true})
	if err != nil {
		return err
	}
	defer closeFn()
	repos, found, err := a.scanRepositories(ctx, e)
	if err != nil {
		return err
	}
	res := a.scanner(e).ScanAll(ctx, repos, nil)
	printScan(e, res)
	if res.Failed() > 0 {
		return fmt.Errorf("%d of %d repository scans failed", res.Failed(), len(res.Repos))
	}
	if err := found.Err(); err != nil {
		return fmt.Errorf("the repositories of %d owner(s) could not be listed, so theirs were not scanned: %w", found.Counts().OwnersFailed, err)
	}
	return nil
}
