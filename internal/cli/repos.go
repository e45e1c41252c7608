package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/discovery"
	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
)

type reposOpts struct {
	format string
}

func reposCommand() *command {
	return &command{
		name:    "repos",
		args:    "[--format table|json|csv]",
		summary: "Print what the policy's repositories (patterns included) resolve to now",
		help: `Lists the repositories of every owner a pattern in the policy's repositories
names (GET /orgs/OWNER/repos, or /users/OWNER/repos for a user: one request per
100 repositories) and prints each repository the list reaches: scanned,
archived (skipped, or with include_archived scanned without deletions), or
excluded by a "!" entry, with the entry that decided it. Plain owner/name
entries are printed without listing their owner. Nothing is recorded and no
database is needed. Exit status 1 when an owner's listing failed.`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &reposOpts{}
			fs.StringVar(&o.format, "format", "table", "table, json or csv")
			return func(ctx context.Context, e *Env, args []string) error { return runRepos(ctx, e, args, o) }
		},
		config: []config.Concern{config.GitHubConcern, config.ScanConcern, config.PolicyConcern, config.LogConcern},
	}
}

func runRepos(ctx context.Context, e *Env, args []string, opts *reposOpts) error {
	if len(args) != 0 {
		return usagef("repos takes no arguments")
	}
	f, err := report.ParseFormat(opts.format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	a, closeFn, err := setup(ctx, e, needs{github: true, policy: true})
	if err != nil {
		return err
	}
	defer closeFn()
	res, err := discovery.New(a.lister(), nil, e.Clock, a.logger).Resolve(ctx, a.policy)
	if err != nil {
		return err
	}
	if err := reposTable(res).Write(e.Stdout, f); err != nil {
		return err
	}
	if f == report.FormatTable {
		fmt.Fprintln(e.Stdout)
		printDiscovery(e.Stdout, res, false)
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("the repositories of %d owner(s) could not be listed: %w", res.Counts().OwnersFailed, err)
	}
	return nil
}

// reposTable lists a resolution's repositories.
func reposTable(res discovery.Resolution) *report.Table {
	t := &report.Table{
		Header: []string{"REPOSITORY", "ID", "STATUS", "ENTRY", "NOTE"},
		Keys:   []string{"repository", "id", "status", "archived", "fork", "entry", "excluded_by", "reason"},
	}
	for _, r := range res.Repos {
		id := "-"
		if r.ID != 0 {
			id = strconv.FormatInt(r.ID, 10)
		}
		entry := r.By
		if r.ExcludedBy != "" {
			entry += " " + r.ExcludedBy
		}
		note := r.Reason
		if r.Fork {
			note = joinNote("fork", note)
		}
		t.Add([]string{r.Repository.String(), id, string(r.Status), entry, dash(note)},
			[]any{r.Repository, orNil(r.ID), string(r.Status), r.Archived, r.Fork, r.By, orNil(r.ExcludedBy), orNil(r.Reason)})
	}
	return t
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

// printDiscovery says what each owner's listing found and cost, and with
// names set names what was skipped (when there are few enough to read).
func printDiscovery(w io.Writer, res discovery.Resolution, names bool) {
	if len(res.Owners) == 0 {
		return
	}
	c := res.Counts()
	fmt.Fprintf(w, "discovery: %d repositories to scan; %d found by listing, %d archived, %d excluded\n",
		len(res.Scan()), c.Discovered, c.Archived, c.Excluded)
	for _, o := range res.Owners {
		kind := "organization"
		if o.User {
			kind = "user"
		}
		if o.Err != nil {
			fmt.Fprintf(w, "  %s: listing FAILED after %s: %v\n", o.Owner, plural(o.Requests, "request"), o.Err)
			continue
		}
		if o.NotModified {
			fmt.Fprintf(w, "  %s (%s): %s, unchanged since the last listing: %s answered 304, free\n", o.Owner, kind, plural(o.Listed, "repository"), plural(o.Requests, "request"))
			continue
		}
		fmt.Fprintf(w, "  %s (%s): %s listed in %s\n", o.Owner, kind, plural(o.Listed, "repository"), plural(o.Requests, "request"))
	}
	var skipped []discovery.Repo
	for _, r := range res.Repos {
		if r.Status != discovery.Scan {
			skipped = append(skipped, r)
		}
	}
	if names && len(skipped) <= 10 {
		for _, r := range skipped {
			fmt.Fprintf(w, "  %s: %s\n", r.Repository, r.Reason)
		}
	}
	for _, rn := range res.Renames {
		fmt.Fprintf(w, "  renamed: %s is now %s (id %d); %d artifacts and %d scans moved to the new name\n", rn.From, rn.To, rn.ID, rn.Artifacts, rn.Scans)
	}
}

// plural is "1 request", "3 requests"; "repository" becomes "repositories".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return strconv.Itoa(n) + " " + word[:len(word)-1] + "ies"
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// resolver is the discovery of runs and scans: it lists through the
// command's GitHub client and records in its database.
func (a *app) resolver(e *Env) *discovery.Resolver {
	if a.gh == nil || a.store == nil {
		return nil
	}
	return discovery.New(a.lister(), a.store, e.Clock, a.logger)
}

// lister is how owners' repositories are listed: as a GitHub App, what its
// installations can see; with a token, the owner's listing.
func (a *app) lister() discovery.Lister {
	if a.cfg.GitHub.AppKey != nil {
		return discovery.InstallationLister{GitHub: a.gh}
	}
	return a.gh
}

// scanRepositories resolves the policy's repositories for the scan
// command and prints what discovery found. The owners whose listing failed
// are in the resolution's Err: the scan command scans the rest and then
// fails.
func (a *app) scanRepositories(ctx context.Context, e *Env) ([]artifact.Repository, discovery.Resolution, error) {
	if !a.policy.Selector.HasPatterns() {
		return a.policy.Repositories, discovery.Resolution{}, nil
	}
	res, err := a.resolver(e).Resolve(ctx, a.policy)
	if err != nil {
		return nil, res, err
	}
	printDiscovery(e.Stdout, res, true)
	fmt.Fprintln(e.Stdout)
	return res.Scan(), res, nil
}

// runResolver is the Resolver of runs: nil (the plain list) when the
// command has no GitHub client, as plan and apply need none, so that a
// typed nil never reaches the runner's interface.
func (a *app) runResolver(e *Env) runner.Resolver {
	if r := a.resolver(e); r != nil {
		return r
	}
	return nil
}

// printRunDiscovery adds to a run's summary what discovery found, when the
// policy has patterns or discovery skipped something.
func printRunDiscovery(ctx context.Context, w io.Writer, a *app, runID int64) error {
	ds, err := a.store.RunDiscoveries(ctx, runID)
	if err != nil {
		return err
	}
	d := ds[runID]
	if d == (store.RunDiscovery{}) {
		return nil
	}
	fmt.Fprintf(w, "  discovery      %d found by listing owners, %d archived (", d.Discovered, d.Archived)
	if a.policy != nil && a.policy.IncludeArchived {
		fmt.Fprint(w, "scanned, no deletions")
	} else {
		fmt.Fprint(w, "skipped")
	}
	fmt.Fprintf(w, "), %d excluded", d.Excluded)
	if d.OwnersFailed > 0 {
		fmt.Fprintf(w, ", %d owner listing(s) FAILED", d.OwnersFailed)
	}
	fmt.Fprintln(w)
	return nil
}
