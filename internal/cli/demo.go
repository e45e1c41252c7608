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
}

// demoDatabase is the database demo creates afresh when DATABASE_URL is unset.
const demoDatabase = "retentiond_demo"

// demoToken is the simulator's token; it is not a secret.
const demoToken = "demo-token"

func init() {
	register(&command{
		name:    "demo",
		args:    "[--policy FILE]",
		summary: "Run once, in dry-run, against a built-in GitHub simulator, then show the audit report",
		help: `Starts the built-in GitHub simulator seeded with a realistic organisation
(5 repositories, 3,000 artifacts over four months, several branches and
names, a few multi-GB images), uses DATABASE_URL or else a local PostgreSQL
(127.0.0.1:5432 if it answers, where it creates the database retentiond_demo
afresh; otherwise a throwaway server started from the installed PostgreSQL
binaries and stopped at exit), runs once in dry-run with the embedded
policies.example.yaml, and prints the run summary, the largest would-delete
items and the SQL to look further. Nothing is sent to GitHub.`,
		flags: func(fs *flag.FlagSet) any {
			o := &demoOpts{}
			fs.StringVar(&o.policyFile, "policy", "", "policy file to use instead of the embedded policies.example.yaml")
			return o
		},
		vars: []string{"DATABASE_URL", "MAX_DELETIONS_PER_RUN", "LOG_LEVEL", "LOG_FORMAT"},
		run:  runDemo,
	})
}

func runDemo(ctx context.Context, e *Env, fs *flag.FlagSet, o any) error {
	opts := o.(*demoOpts)
	if fs.NArg() != 0 {
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

	dbURL, throwaway, stop, err := demoDatabaseURL(ctx, cfg, logger)
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
	cfg.GitHub.APIURL, cfg.GitHub.Token = simURL, config.Secret(demoToken)
	cfg.Janitor.DryRun = true
	a := &app{cfg: cfg, logger: logger, policy: pol}
	if a.gh, err = newGitHub(cfg, e, logger); err != nil {
		return err
	}
	if a.store, err = openStore(ctx, dbURL); err != nil {
		return err
	}
	defer a.store.Close()
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

// demoDatabaseURL returns DATABASE_URL when set, else a fresh retentiond_demo
// database on a local server, starting a throwaway one when none answers.
func demoDatabaseURL(ctx context.Context, cfg *config.Config, logger *slog.Logger) (url string, throwaway bool, stop func() error, err error) {
	noop := func() error { return nil }
	if cfg.Database.URL != "" {
		return cfg.Database.URL.Reveal(), false, noop, nil
	}
	admin, stop, err := pglocal.Ensure(ctx, logger, pglocal.WithLookupEnv(func(string) (string, bool) { return "", false }))
	if err != nil {
		return "", false, nil, fmt.Errorf("finding a PostgreSQL for the demo (set DATABASE_URL to use your own): %w", err)
	}
	throwaway = admin != pglocal.DefaultURL
	url, err = store.RecreateDatabase(ctx, admin, demoDatabase)
	if err != nil {
		return "", false, nil, errors.Join(err, stop())
	}
	return url, throwaway, stop, nil
}

func printDemoNext(e *Env, dbURL string, throwaway bool, runID int64) {
	w := e.Stdout
	queries := []string{
		"SELECT * FROM run_summary",
		"SELECT repository, count(*), pg_size_pretty(sum(reclaimable_bytes)) AS reclaimable FROM pending_deletions GROUP BY 1",
		fmt.Sprintf("SELECT rule, reason FROM audit_log WHERE run_id = %d AND action = 'keep' LIMIT 20", runID),
	}
	fmt.Fprintln(w, "\nNext, review it as you would before switching dry-run off:")
	if throwaway {
		// The server stops with the demo, so a psql line would point nowhere.
		fmt.Fprintln(w, "  (this demo used a throwaway PostgreSQL that stops now; to keep the data, run it as")
		fmt.Fprintln(w, "   DATABASE_URL=postgres://... retentiond demo) and then, in psql:")
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
