package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/discovery"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/policy"
)

type checkOpts struct {
	liveness bool
	webhook  bool
}

func checkCommand() *command {
	return &command{
		name:    "check",
		args:    "[--webhook] | --liveness",
		summary: "Check a setup: database, schema, privileges, policy, token, repositories, archive, webhook",
		help: `Checks everything a run needs, without changing anything, and prints one
line per check: ✓, or ✗ with what to do about it. The database must answer,
its schema must be this binary's (or the role must be allowed to migrate
it), and the role must hold the privileges of each command; the policy must
be valid; GitHub must accept the token (GET /rate_limit, which costs no rate
limit) and have budget left; for every repository of the policy, the token
must be able to list its artifacts, and, when DRY_RUN=false, have write
access (read from GET /repos/{owner}/{repo}: nothing is deleted); ARCHIVE_DIR
must be writable when a rule archives and DRY_RUN=false; WEBHOOK_SECRET must
be set with --webhook. Each repository costs two API requests.

Exit status: 0 when every check passes, 1 when one fails, 2 for a bad
variable. serve runs the same checks at start and logs them.

--liveness only asks a running serve for /healthz on HTTP_ADDR (exit 0 when
it answers 200): a health check for an image without a shell or curl.`,
		config: []config.Concern{config.DatabaseConcern, config.GitHubConcern, config.ScanConcern, config.PolicyConcern,
			config.JanitorConcern, config.ServerConcern, config.ArchiveConcern, config.LogConcern},
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &checkOpts{}
			fs.BoolVar(&o.liveness, "liveness", false, "only check that serve on HTTP_ADDR answers /healthz")
			fs.BoolVar(&o.webhook, "webhook", false, "the webhook will be used: WEBHOOK_SECRET must be set")
			return func(ctx context.Context, e *Env, args []string) error { return runCheck(ctx, e, args, o) }
		},
	}
}

// checksFailed is check's error when a check did not pass: exit 1.
type checksFailed struct{ failed, total int }

func (e *checksFailed) Error() string {
	return fmt.Sprintf("%d of %d checks failed", e.failed, e.total)
}

func runCheck(ctx context.Context, e *Env, args []string, o *checkOpts) error {
	if len(args) != 0 {
		return usagef("check takes no arguments")
	}
	cfg, logger, err := loadConfig(ctx, e)
	if err != nil {
		return err
	}
	if o.liveness {
		return checkLiveness(ctx, cfg.Server.Addr)
	}
	d := &doctor{cfg: cfg, webhookExpected: o.webhook}
	if cfg.Policy.File != "" {
		d.policy, d.policyErr = policy.Load(cfg.Policy.File)
	}
	if cfg.GitHub.Token != "" {
		if d.gh, err = newGitHub(cfg, e, logger); err != nil {
			return err
		}
	}
	if cfg.Database.URL != "" {
		st, err := store.Open(ctx, cfg.Database.URL.Reveal())
		if err != nil {
			d.storeErr = err
		} else {
			defer st.Close()
			d.store = st
		}
	}
	results := d.run(ctx)
	width := 0
	for _, r := range results {
		width = max(width, len([]rune(r.name)))
	}
	failed := 0
	for _, r := range results {
		r.print(e.Stdout, width)
		if !r.ok {
			failed++
		}
	}
	if failed > 0 {
		return &checksFailed{failed: failed, total: len(results)}
	}
	fmt.Fprintf(e.Stdout, "All %d checks passed.\n", len(results))
	return nil
}

// checkLiveness asks serve on addr for /healthz.
func checkLiveness(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return &config.Error{Var: "HTTP_ADDR", Msg: err.Error()}
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // serve listens on every interface, loopback included
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("liveness: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("liveness: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("liveness: GET %s: %s", url, resp.Status)
	}
	return nil
}

// checkResult is one line of check's report.
type checkResult struct {
	name   string
	ok     bool
	detail string
	fix    string // what to do, for a failed check
}

// print writes r with its name padded to width, so the details align.
func (r checkResult) print(w io.Writer, width int) {
	if r.ok {
		fmt.Fprintf(w, "✓ %-*s  %s\n", width, r.name, r.detail)
		return
	}
	fmt.Fprintf(w, "✗ %-*s  %s — %s\n", width, r.name, r.detail, r.fix)
}

// log writes r as serve logs it at start: info when it passed, warn when not.
func (r checkResult) log(ctx context.Context, logger *slog.Logger) {
	attrs := []slog.Attr{slog.String("check", r.name), slog.Bool("ok", r.ok), slog.String("detail", r.detail)}
	level := slog.LevelInfo
	if !r.ok {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("fix", r.fix))
	}
	logger.LogAttrs(ctx, level, "startup check", attrs...)
}

// doctor runs the checks over what it was given; a nil part is reported
// with the reason it is missing.
type doctor struct {
	cfg             *config.Config
	store           *store.Store
	storeErr        error
	gh              *github.Client
	policy          *policy.Policy
	policyErr       error
	webhookExpected bool
}

func (d *doctor) run(ctx context.Context) []checkResult {
	var out []checkResult
	out = append(out, d.database(ctx)...)
	out = append(out, d.policyCheck())
	out = append(out, d.github(ctx)...)
	out = append(out, d.archive())
	out = append(out, d.webhook())
	return out
}

func pass(name, format string, a ...any) checkResult {
	return checkResult{name: name, ok: true, detail: fmt.Sprintf(format, a...)}
}

func fail(name, detail, fix string) checkResult {
	return checkResult{name: name, detail: detail, fix: fix}
}

func (d *doctor) database(ctx context.Context) []checkResult {
	switch {
	case d.cfg.Database.URL == "":
		return []checkResult{fail("database", "DATABASE_URL is not set", "set it, e.g. postgres://retentiond:PASSWORD@HOST:5432/retentiond")}
	case d.storeErr != nil:
		return []checkResult{fail("database", d.storeErr.Error(), "check DATABASE_URL's host, port, user and password, and that the server accepts connections from here")}
	}
	if err := d.store.Ping(ctx); err != nil {
		return []checkResult{fail("database", fmt.Sprintf("%s does not answer: %v", config.RedactDSN(d.cfg.Database.URL.Reveal()), err),
			"check DATABASE_URL's host, port, user and password, and that the server accepts connections from here")}
	}
	out := []checkResult{pass("database", "%s answers", config.RedactDSN(d.cfg.Database.URL.Reveal()))}
	sch, err := d.store.Schema(ctx)
	if err != nil {
		return append(out, fail("schema", err.Error(), "check that DATABASE_URL names retentiond's database"))
	}
	grants, err := d.store.Grants(ctx)
	if err != nil {
		return append(out, fail("privileges", err.Error(), "check that the role may read the catalog"))
	}
	canCreate := held(grants, "schema", "CREATE")
	switch {
	case sch.Err == nil:
		out = append(out, pass("schema", "at migration %04d, this binary's", sch.Latest))
	case errors.Is(sch.Err, store.ErrSchemaBehind) && canCreate:
		out = append(out, pass("schema", "%d of %d migrations applied; run, serve and migrate bring it to %04d at start (the role may CREATE)", sch.Applied, sch.Known, sch.Latest))
	case errors.Is(sch.Err, store.ErrSchemaBehind):
		out = append(out, fail("schema", fmt.Sprintf("%d of %d migrations applied, and this role may not CREATE in the schema", sch.Applied, sch.Known),
			"run 'retentiond migrate' once with the role that owns the schema"))
	default:
		out = append(out, fail("schema", sch.Err.Error(), "this database was migrated by another version of retentiond: use that version, or a database of its own"))
	}
	if sch.Applied == 0 {
		return out // nothing to hold privileges on yet; migrating creates the tables with this role as owner
	}
	out = append(out, privilegeCheck(grants, "read", "audit, plan", tablePrivileges(grants, "SELECT"), "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ROLE"))
	write := tablePrivileges(grants, "SELECT", "INSERT", "UPDATE")
	for _, t := range deletedFrom { // the tables a run deletes rows from
		write = append(write, privilege{t, "DELETE"})
	}
	for _, g := range grants {
		if g.Privilege == "USAGE" {
			write = append(write, privilege{g.Object, "USAGE"})
		}
	}
	out = append(out, privilegeCheck(grants, "write", "run, serve, apply, scan", write,
		"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO ROLE; GRANT DELETE ON "+strings.Join(deletedFrom, ", ")+" TO ROLE; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ROLE"))
	return out
}

// deletedFrom are the tables whose rows runs, scans and the webhook delete:
// work in progress (staged pages, the deletion plan, pending intents once
// resolved, webhook deliveries done with) and state that is replaced. The
// audit log is never among them.
var deletedFrom = []string{"scan_artifacts", "webhook_deliveries", "run_plan", "audit_pending", "scan_state", "branch_listings", "branch_pages"}

// privilege is one a command needs: Privilege on Object.
type privilege struct{ Object, Privilege string }

func held(grants []store.Grant, object, privilege string) bool {
	for _, g := range grants {
		if g.Object == object && g.Privilege == privilege {
			return g.Held
		}
	}
	return false
}

// tablePrivileges is every table of the schema with each of privs.
func tablePrivileges(grants []store.Grant, privs ...string) []privilege {
	var out []privilege
	for _, g := range grants {
		if g.Object == "schema" || g.Privilege == "USAGE" {
			continue
		}
		for _, p := range privs {
			if g.Privilege == p {
				out = append(out, privilege{g.Object, p})
			}
		}
	}
	return out
}

func privilegeCheck(grants []store.Grant, kind, commands string, need []privilege, fix string) checkResult {
	var missing []string
	for _, n := range need {
		if !held(grants, n.Object, n.Privilege) {
			missing = append(missing, n.Privilege+" on "+n.Object)
		}
	}
	name := "privileges"
	if len(missing) == 0 {
		return pass(name, "%s: enough for %s", kind, commands)
	}
	const show = 4
	list := strings.Join(missing[:min(len(missing), show)], ", ")
	if len(missing) > show {
		list += fmt.Sprintf(" and %d more", len(missing)-show)
	}
	return fail(name, fmt.Sprintf("%s: %s need %s", kind, commands, list), fix)
}

func (d *doctor) policyCheck() checkResult {
	switch {
	case d.policyErr != nil: // one line per check: the file's errors joined
		return fail("policy", strings.ReplaceAll(d.policyErr.Error(), "\n", "; "), "fix the file (retentiond policy check FILE explains each rule), or point POLICY_FILE at the right one")
	case d.policy == nil:
		return fail("policy", "POLICY_FILE is empty", "set POLICY_FILE to your policy (start from policies.example.yaml)")
	}
	return pass("policy", "%s: %d rules, %d repositories", d.cfg.Policy.File, len(d.policy.Rules), len(d.policy.Repositories))
}

func (d *doctor) github(ctx context.Context) []checkResult {
	if d.gh == nil {
		return []checkResult{fail("token", "GITHUB_TOKEN is not set", "set GITHUB_TOKEN, or GITHUB_TOKEN_FILE to a mounted secret")}
	}
	budget, err := d.gh.CoreBudget(ctx)
	switch {
	case errors.Is(err, github.ErrUnauthorized):
		return []checkResult{fail("token", fmt.Sprintf("%s rejects the token (401 Bad credentials)", d.cfg.GitHub.APIURL),
			"the token is wrong, expired or revoked: create a new one (Actions: read and write) and set GITHUB_TOKEN")}
	case err != nil:
		return []checkResult{fail("token", fmt.Sprintf("%s did not answer: %v", d.cfg.GitHub.APIURL, err),
			"check GITHUB_API_URL (https://HOST/api/v3 for GitHub Enterprise Server) and the network or proxy to it")}
	}
	out := []checkResult{pass("token", "accepted by %s", d.cfg.GitHub.APIURL)}
	if budget.Remaining == 0 {
		// The repositories cannot be checked until the reset either.
		return append(out, fail("rate limit", fmt.Sprintf("0 of %d requests left until %s UTC", budget.Limit, budget.Reset.Format("15:04")),
			"wait for the reset, or give retentiond a token (or App) of its own so other tools do not spend its budget"))
	}
	out = append(out, pass("rate limit", "%d of %d requests left, resets %s UTC", budget.Remaining, budget.Limit, budget.Reset.Format("15:04")))
	if d.policy == nil {
		return out
	}
	for _, repo := range d.policy.Repositories {
		out = append(out, d.repository(ctx, repo))
	}
	for _, owner := range d.policy.Selector.PatternOwners() {
		out = append(out, d.owner(ctx, owner)...)
	}
	return out
}

// owner checks that owner's repositories can be listed, as a run resolving
// the policy's patterns lists them, and checks one repository they select as
// a sample of what the token may do there (checking every one could spend
// the budget on an organisation of thousands).
func (d *doctor) owner(ctx context.Context, owner string) []checkResult {
	name := owner + "/*"
	var lister discovery.Lister = d.gh
	if d.cfg.GitHub.AppKey != nil {
		lister = discovery.InstallationLister{GitHub: d.gh}
	}
	l, err := lister.ListOwnerRepositories(ctx, owner, github.ListingState{})
	switch {
	case errors.Is(err, github.ErrNoInstallation):
		return []checkResult{fail(name, "the GitHub App is not installed on "+owner, "install the App on "+owner+" (Settings → GitHub Apps), or take its patterns out of the policy")}
	case err != nil:
		return []checkResult{fail(name, "listing its repositories failed: "+err.Error(),
			"check the owner's name in the policy, and that the token can see its repositories (fine-grained: Repository access)")}
	}
	var selected, archived int
	var sample artifact.Repository
	for _, r := range l.Repositories {
		if !d.policy.Selector.MatchesPatternOf(string(r.FullName)) {
			continue
		}
		selected++
		switch {
		case r.Archived:
			archived++
		case sample == "":
			sample = r.FullName
		}
	}
	if selected == 0 {
		return []checkResult{fail(name, fmt.Sprintf("lists %d repositories, none of which the patterns select", len(l.Repositories)),
			"check the patterns (retentiond repos shows what they resolve to)")}
	}
	out := []checkResult{pass(name, "lists %d repositories; the patterns select %d (%d of them archived)", len(l.Repositories), selected, archived)}
	if sample != "" {
		out = append(out, d.repository(ctx, sample))
	}
	return out
}

// repository checks that the token can list repo's artifacts and, for a
// run that deletes, write to it.
func (d *doctor) repository(ctx context.Context, repo artifact.Repository) checkResult {
	name := repo.String()
	page, err := d.gh.ListArtifactsPage(ctx, repo, 1, "")
	var apiErr *github.APIError
	switch {
	case errors.Is(err, github.ErrRateLimited):
		return fail(name, "not checked: "+err.Error(), "wait for the rate limit to reset")
	case errors.Is(err, github.ErrNotFound):
		return fail(name, "not found, or the token cannot see it",
			"check the name in the policy; give the token access to it (fine-grained: Repository access; App: install it there)")
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden:
		return fail(name, "the token may not list its artifacts", "grant Actions: read (classic tokens: the repo scope)")
	case err != nil:
		return fail(name, err.Error(), "check GITHUB_API_URL and the network")
	}
	listed := fmt.Sprintf("lists %d artifacts", page.TotalCount)
	access, err := d.gh.RepositoryAccess(ctx, repo)
	switch {
	case err != nil:
		return fail(name, listed+"; reading its permissions failed: "+err.Error(), "check that the token may read the repository's metadata")
	case access.Archived:
		return fail(name, listed+"; archived: its artifacts cannot be deleted", "take it out of the policy's repositories, or unarchive it")
	case !access.PermissionsKnown:
		return pass(name, "%s; delete permission not shown to this kind of token (an App's: grant Actions: write)", listed)
	case access.Push:
		return pass(name, "%s; can delete (write access)", listed)
	case d.cfg.Janitor.DryRun:
		return pass(name, "%s; read-only: enough for DRY_RUN=true, a real run would get 403", listed)
	}
	return fail(name, listed+"; read-only, and DRY_RUN=false", "grant write access (fine-grained: Actions: read and write; classic: repo scope and a write role)")
}

func (d *doctor) archive() checkResult {
	var rules []string
	if d.policy != nil {
		for _, r := range d.policy.Rules {
			if r.Archive {
				rules = append(rules, r.Name)
			}
		}
	}
	dir := d.cfg.Archive.Dir
	switch {
	case len(rules) == 0:
		return pass("archive", "no rule archives")
	case dir == "" && d.cfg.Janitor.DryRun:
		return pass("archive", "ARCHIVE_DIR is unset: enough for DRY_RUN=true; a real run refuses (rule %s archives)", strings.Join(rules, ", "))
	case dir == "":
		return fail("archive", fmt.Sprintf("ARCHIVE_DIR is unset and rule %s archives", strings.Join(rules, ", ")),
			"set ARCHIVE_DIR to a writable directory on a volume that outlives the container")
	}
	if err := archive.CheckWritable(dir); err != nil {
		return fail("archive", fmt.Sprintf("ARCHIVE_DIR %s is not writable: %v", dir, err), "create it, or mount a volume there writable by this user")
	}
	return pass("archive", "ARCHIVE_DIR %s is writable", dir)
}

func (d *doctor) webhook() checkResult {
	switch {
	case d.cfg.Server.WebhookSecret != "":
		return pass("webhook", "WEBHOOK_SECRET is set: serve accepts POST /webhook")
	case d.webhookExpected:
		return fail("webhook", "WEBHOOK_SECRET is not set, so serve has no /webhook",
			"set WEBHOOK_SECRET to the secret of the webhook on GitHub")
	}
	return pass("webhook", "WEBHOOK_SECRET is unset: serve has no /webhook (pass --webhook to require it)")
}
