package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/retentiond/retentiond"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pglocal"
	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/policy"
)

type demoOpts struct {
	policyFile string
	database   string
}

// demoDatabase is the database demo creates afresh when DATABASE_URL is unset.
const demoDatabase = "retentiond_demo"

// demoToken is the simulator's token; it is not a secret.
const demoToken = "demo-token"

func demoCommand() *command {
	return &command{
		name:    "demo",
		args:    "[--policy FILE]",
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
own, which it drops and recreates each time.`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &demoOpts{}
			fs.StringVar(&o.policyFile, "policy", "", "policy file to use instead of the embedded policies.example.yaml")
			fs.StringVar(&o.database, "database", demoDatabase, "name of the database the demo creates afresh on the server (dropped first if it exists)")
			return func(ctx context.Context, e *Env, args []string) error { return runDemo(ctx, e, args, o) }
		},
		config: []config.Concern{config.DatabaseConcern, config.JanitorConcern, config.ScanConcern, config.LogConcern},
	}
}

func runDemo(ctx context.Context, e *Env, args []string, opts *demoOpts) error {
	if len(args) != 0 {
		return usagef("demo takes no arguments")
	}
	cfg, logger, err := loadConfig(ctx, e)
	if err != nil {
		return err
	}
	pol, err := demoPolicy(opts.policyFile)
	if err != nil {
		return err
	}

	// The simulated organisation, served on loopback like the real API.
	sim := githubsim.New(githubsim.Options{Token: demoToken, Logger: logger})
	repos := sim.DemoOrg(e.Clock.Now())
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
	if err := printRun(ctx, e, a, sum.RunID, 15); err != nil {
		return err
	}
	printDemoNext(e, dbURL, throwaway, sum.RunID)
	// A partial run is part of the show (the example policy finds more than
	// one run's cap); only a run that could not be carried out fails the demo.
	if sum.Status == runner.StatusFailed {
		return fmt.Errorf("demo run failed: %s", sum.Error)
	}
	return nil
}

func demoPolicy(file string) (*policy.Policy, error) {
	if file != "" {
		return policy.Load(file)
	}
	return policy.ParseFile("policies.example.yaml (embedded)", retentiond.ExamplePolicy)
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

func printDemoNext(e *Env, dbURL string, throwaway bool, runID int64) {
	w := e.Stdout
	queries := []string{
		"SELECT * FROM run_summary",
		"SELECT repository, count(*), pg_size_pretty(sum(reclaimable_bytes)) AS reclaimable FROM pending_deletions GROUP BY 1",
		fmt.Sprintf("SELECT rule, reason FROM decisions WHERE run_id = %d AND action = 'keep' LIMIT 20", runID),
	}
	fmt.Fprintln(w, "\nNext, review it as you would before switching dry-run off:")
	if throwaway {
		// The server stops with the demo, so a psql line would point nowhere.
		fmt.Fprintln(w, "  (this demo used a throwaway PostgreSQL that stops now; to keep the data, run it with")
		fmt.Fprintln(w, "   DATABASE_URL=postgres://USER@HOST/postgres: it creates its own retentiond_demo there) and then, in psql:")
		for _, q := range queries {
			fmt.Fprintf(w, "  %s;\n", q)
		}
		return
	}
	url := config.RedactDSN(dbURL)
	for _, q := range queries {
		fmt.Fprintf(w, "  psql '%s' -c \"%s\"\n", url, q)
	}
	fmt.Fprintf(w, "  DATABASE_URL='%s' retentiond audit --run %d --format csv\n", url, runID)
}
