package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/retentiond/retentiond"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/logging"
	"github.com/retentiond/retentiond/internal/pglocal"
	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/policy"
)

type demoOpts struct {
	policyFile string
	database   string
	keep       bool
}

// demoDatabase is the database demo creates afresh when DATABASE_URL is unset.
const demoDatabase = "retentiond_demo"

// demoToken is the simulator's token; it is not a secret.
const demoToken = "demo-token"

func demoCommand() *command {
	return &command{
		name:    "demo",
		args:    "[--policy FILE] [--keep]",
		summary: "Run once, in dry-run, against a built-in GitHub simulator, then show the audit report",
		help: `Starts the built-in GitHub simulator seeded with a realistic organisation
(5 repositories, 3,000 artifacts over four months, several branches and
names, a few multi-GB images), creates the database retentiond_demo afresh
on a PostgreSQL server (DATABASE_URL's server, or 127.0.0.1:5432 if it
answers, or else a throwaway server started from the installed PostgreSQL
binaries and stopped at exit), runs once in dry-run with the embedded
policies.example.yaml, and prints the run summary, the largest would-delete
items and the SQL to look further. Nothing is sent to GitHub.

The demo never writes into the database DATABASE_URL names: it only uses
that server (and needs the CREATEDB privilege there) for a database of its
own, which it drops and recreates each time.

With --keep, the simulator (and a throwaway PostgreSQL it started) keeps
running after the report, in the foreground, and the demo prints the
environment to paste into another terminal (DATABASE_URL, GITHUB_API_URL,
GITHUB_TOKEN, POLICY_FILE, WEBHOOK_SECRET) and a curl line that sends serve
a signed workflow_run delivery, so every other command can be tried against
the simulated organisation. Ctrl-C stops and removes what it started.

Logs go to standard error at warn unless LOG_LEVEL is set, so that they do
not interleave with the report.`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &demoOpts{}
			fs.StringVar(&o.policyFile, "policy", "", "policy file to use instead of the embedded policies.example.yaml")
			fs.StringVar(&o.database, "database", demoDatabase, "name of the database the demo creates afresh on the server (dropped first if it exists)")
			fs.BoolVar(&o.keep, "keep", false, "keep the simulator and database running until Ctrl-C, and print the environment to try every command against them")
			return func(ctx context.Context, e *Env, args []string) error { return runDemo(ctx, e, args, o) }
		},
		config: []config.Concern{config.DatabaseConcern, config.JanitorConcern, config.ScanConcern, config.StorageConcern, config.LogConcern},
	}
}

func runDemo(ctx context.Context, e *Env, args []string, opts *demoOpts) error {
	if len(args) != 0 {
		return usagef("demo takes no arguments")
	}
	cfg, _, err := loadConfig(ctx, e)
	if err != nil {
		return err
	}
	logger, err := demoLogger(e, cfg)
	if err != nil {
		return err
	}
	pol, polSrc, err := demoPolicy(opts.policyFile)
	if err != nil {
		return err
	}

	// The simulated organisation, served on loopback like the real API.
	sim := githubsim.New(githubsim.Options{Token: demoToken, Logger: logger})
	sim.DemoOrg(e.Clock.Now())
	seedDemoArchived(sim, e.Clock.Now())
	repos := sim.Repositories()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the GitHub simulator: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	simURL := "http://" + ln.Addr().String()

	if !validIdentifier(opts.database) {
		return usagef("--database %q: a plain name of letters, digits and _ (at most 63)", opts.database)
	}
	dbURL, throwaway, stop, err := demoDatabaseURL(ctx, cfg, logger, opts.database)
	if err != nil {
		return err
	}
	defer func() {
		if err := stop(); err != nil {
			logger.Warn("stopping the throwaway PostgreSQL", slog.Any("error", err))
		}
	}()

	fmt.Fprintf(e.Stdout, "retentiond demo: a simulated GitHub at %s with %d artifacts in %d repositories\n", simURL, sim.Len(), len(repos))
	fmt.Fprintf(e.Stdout, "database: %s\npolicy:   %s (%d rules, safety.min_age %s)\n\n", config.RedactDSN(dbURL), pol.File, len(pol.Rules), report.Age(pol.MinAge))

	// The same wiring as 'retentiond run', pointed at the simulator, in dry-run.
	cfg.GitHub = config.GitHub{APIURL: simURL, Token: config.Secret(demoToken), MaxWait: 15 * time.Minute}
	cfg.Janitor.DryRun = true
	a := &app{cfg: cfg, logger: logger, policy: pol}
	if a.gh, err = newGitHub(cfg, e, logger); err != nil {
		return err
	}
	if a.store, err = openStore(ctx, dbURL, true); err != nil {
		return err
	}
	defer a.store.Close()
	a.store.SetRetry(e.Clock, cfg.Database.RetryFor)
	sum, err := a.runner(e, nil, true).Run(ctx, runner.TriggerManual)
	if err != nil {
		return err
	}
	printDiscovery(e.Stdout, sum.Discovery, true)
	fmt.Fprintln(e.Stdout)
	if err := printRunSummary(ctx, e, a, sum.RunID, 15); err != nil {
		return err
	}
	if err := demoSecondTick(ctx, e, a, sum); err != nil {
		return err
	}
	// A run that hit the deletion cap succeeded (the rest is left for the
	// next run); only a run that could not be carried out fails the demo.
	if sum.Status == runner.StatusFailed {
		return fmt.Errorf("demo run failed: %s", sum.Error)
	}
	printDemoHappened(e, pol, sum)
	if opts.keep {
		return keepDemo(ctx, e, demoKept{sim: sim, simURL: simURL, dbURL: dbURL, policy: polSrc, runID: sum.RunID, repos: repos})
	}
	printDemoNext(e, dbURL, throwaway, sum.RunID)
	return nil
}

// demoLogger is the demo's logger: at warn unless LOG_LEVEL is set, so that
// on a terminal no log line interleaves with the report, which is what the
// demo is for.
func demoLogger(e *Env, cfg *config.Config) (*slog.Logger, error) {
	level := cfg.Log.Level
	if _, set := e.Lookup.Lookup("LOG_LEVEL"); !set {
		level = "warn"
	}
	return logging.New(e.Stderr, level, cfg.Log.Format)
}

// demoPolicy returns the demo's policy and its source, which demo --keep
// writes to a file for the other commands' POLICY_FILE.
func demoPolicy(file string) (*policy.Policy, []byte, error) {
	if file != "" {
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the policy: %w", err)
		}
		p, err := policy.ParseFile(file, src)
		return p, src, err
	}
	p, err := policy.ParseFile("policies.example.yaml (embedded)", retentiond.ExamplePolicy)
	return p, retentiond.ExamplePolicy, err
}

// demoDatabaseURL creates database name afresh and returns its URL: on
// DATABASE_URL's server when it is set — never in the database it names,
// which may be a real audit log (append-only: a fake run there could not be
// removed) — else on a local server, starting a throwaway one when none
// answers.
func demoDatabaseURL(ctx context.Context, cfg *config.Config, logger *slog.Logger, name string) (url string, throwaway bool, stop func() error, err error) {
	noop := func() error { return nil }
	if cfg.Database.URL != "" {
		admin := cfg.Database.URL.Reveal()
		if store.DatabaseName(admin) == name {
			return "", false, nil, &config.Error{Var: "DATABASE_URL", Msg: fmt.Sprintf(
				"names the database %s, which the demo drops and recreates for itself; point DATABASE_URL at another database on that server (e.g. postgres), or pass demo --database OTHER", name)}
		}
		url, err := store.RecreateDatabase(ctx, admin, name)
		if err != nil {
			return "", false, nil, fmt.Errorf("creating the demo's own database %s on the DATABASE_URL server (it needs the CREATEDB privilege; unset DATABASE_URL to use a local server instead): %w", name, err)
		}
		return url, false, noop, nil
	}
	admin, stop, err := pglocal.Ensure(ctx, logger, pglocal.WithLookupEnv(func(string) (string, bool) { return "", false }))
	if err != nil {
		return "", false, nil, fmt.Errorf("finding a PostgreSQL for the demo (set DATABASE_URL to use your own server): %w", err)
	}
	throwaway = admin != pglocal.DefaultURL
	url, err = store.RecreateDatabase(ctx, admin, name)
	if err != nil {
		return "", false, nil, errors.Join(err, stop())
	}
	return url, throwaway, stop, nil
}

// validIdentifier accepts the plain names a database is given here.
func validIdentifier(s string) bool {
	if s == "" || len(s) > 63 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// printDemoHappened says in words what the run did.
func printDemoHappened(e *Env, pol *policy.Policy, sum runner.Summary) {
	w := e.Stdout
	artifacts, _, _ := sum.Scan.Totals()
	fmt.Fprintln(w, "\nWhat happened:")
	fmt.Fprintf(w, "  retentiond listed the %d artifacts of the %d repositories the policy selects into PostgreSQL,\n", artifacts, len(sum.Scan.Repos))
	fmt.Fprintf(w, "  applied the %d rules of %s\n", len(pol.Rules), pol.File)
	fmt.Fprintln(w, "  and recorded every decision as a dry-run: nothing was deleted.")
	if sum.Janitor.SkippedCap > 0 {
		fmt.Fprintf(w, "  %d decisions were past MAX_DELETIONS_PER_RUN: the next run takes them up.\n", sum.Janitor.SkippedCap)
	}
}

// demoBinary is how the next steps name the binary, with how to get it.
const demoBinary = "bin/retentiond"

// printDemoNext prints what to try next; every command works as printed
// from a clean checkout, and none points at a server that has stopped.
func printDemoNext(e *Env, dbURL string, throwaway bool, runID int64) {
	w := e.Stdout
	fmt.Fprintln(w, "\nWhat to do next:")
	fmt.Fprintf(w, "  1. Build the binary: make build  (it writes %s; or go install ./cmd/retentiond)\n", demoBinary)
	fmt.Fprintf(w, "  2. Try every command (run, plan, audit, apply, serve, webhook) against this simulation:\n")
	fmt.Fprintf(w, "       %s demo --keep\n", demoBinary)
	if throwaway {
		// The server stops with the demo, so a psql line would point nowhere.
		fmt.Fprintln(w, "  3. This demo's throwaway PostgreSQL stops now; to keep its data for SQL, run the demo with")
		fmt.Fprintln(w, "     DATABASE_URL=postgres://USER@HOST/postgres (it creates its own retentiond_demo there).")
	} else {
		url := config.RedactDSN(dbURL)
		fmt.Fprintln(w, "  3. Review this run as you would before switching dry-run off:")
		fmt.Fprintf(w, "       export DATABASE_URL='%s'\n", url)
		fmt.Fprintf(w, "       %s audit --run %d\n", demoBinary, runID)
		fmt.Fprintln(w, `       psql "$DATABASE_URL" -c 'SELECT * FROM run_summary'`)
		fmt.Fprintf(w, "       %s report   # storage by repository, and what the run would save\n", demoBinary)
		if url != dbURL {
			fmt.Fprintln(w, "     (the password is left out: put yours back)")
		}
	}
	fmt.Fprintln(w, "  4. Set up your own: cp policies.example.yaml policies.yaml, edit it, then")
	fmt.Fprintf(w, "       %s policy check policies.yaml\n", demoBinary)
	fmt.Fprintf(w, "       DATABASE_URL=... GITHUB_TOKEN=... POLICY_FILE=policies.yaml %s check\n", demoBinary)
}

// demoSecondTick runs again at once, as the next scheduled tick would, and
// prints what it cost next to the first: with nothing changed, each
// repository's page 1 answers 304, which costs no rate limit.
func demoSecondTick(ctx context.Context, e *Env, a *app, first runner.Summary) error {
	second, err := a.runner(e, nil, true).Run(ctx, runner.TriggerManual)
	if err != nil {
		return err
	}
	cost := func(sum runner.Summary) (requests, costed int, modes map[store.ScanMode]int) {
		modes = map[store.ScanMode]int{}
		for _, rr := range sum.Scan.Repos {
			requests += rr.Requests
			costed += rr.Costed
			modes[rr.Mode]++
		}
		return requests, costed, modes
	}
	r1, c1, _ := cost(first)
	r2, c2, modes := cost(second)
	fmt.Fprintf(e.Stdout, "\nSecond tick (run %d, nothing changed): %d requests, %d of them counted against the rate limit\n", second.RunID, r2, c2)
	fmt.Fprintf(e.Stdout, "  %d repositories not modified (304), %d incremental, %d full; the first tick took %d requests (%d counted)\n",
		modes[store.ScanNotModified], modes[store.ScanIncremental], modes[store.ScanFull], r1, c1)
	if second.Status == runner.StatusFailed {
		return fmt.Errorf("demo's second tick failed: %s", second.Error)
	}
	return nil
}
