package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"
)

// needs says what a command uses, so setup opens only that and asks only
// for the variables it requires.
type needs struct {
	db, github, policy bool
	// migrate brings the schema up to date; without it, the schema is only
	// checked, so a read-only role is enough (audit, plan).
	migrate bool
}

// app is what a command works with once set up.
type app struct {
	cfg    *config.Config
	logger *slog.Logger
	store  *store.Store
	gh     *github.Client
	policy *policy.Policy
}

// setup loads the configuration and opens what n asks for. The database is
// migrated on open, so every command works on a current schema. The returned
// func closes what was opened.
func setup(ctx context.Context, e *Env, n needs) (*app, func(), error) {
	cfg, logger, err := loadConfig(ctx, e)
	if err != nil {
		return nil, nil, err
	}
	a := &app{cfg: cfg, logger: logger}
	// A command that uses a part without reading its configuration would
	// run on zero values: a bug in the command's config list.
	for _, c := range []struct {
		need    bool
		concern config.Concern
	}{{n.db, config.DatabaseConcern}, {n.github, config.GitHubConcern}, {n.github, config.ScanConcern}, {n.policy, config.PolicyConcern}} {
		if c.need && !cfg.Loaded(c.concern) {
			panic(fmt.Sprintf("cli: %s uses %s without reading its configuration", e.command.name, c.concern))
		}
	}
	if n.policy {
		if a.policy, err = policy.Load(cfg.Policy.File); err != nil {
			var pe policy.ErrorList
			if errors.As(err, &pe) {
				return nil, nil, err // each error already names the file, line and column
			}
			return nil, nil, &config.Error{Var: "POLICY_FILE", Msg: err.Error()}
		}
	}
	if n.github {
		if err := cfg.RequireToken(); err != nil {
			return nil, nil, err
		}
		if a.gh, err = newGitHub(cfg, e, logger); err != nil {
			return nil, nil, err
		}
	}
	// The database last: nothing after it can fail and leave it open.
	if n.db {
		if err := cfg.RequireDatabase(); err != nil {
			return nil, nil, err
		}
		if a.store, err = openStore(ctx, cfg.Database.URL.Reveal(), n.migrate); err != nil {
			return nil, nil, err
		}
		a.store.SetRetry(e.Clock, cfg.Database.RetryFor)
		if cfg.Loaded(config.AuditConcern) {
			a.store.SetAuditRetention(cfg.Audit.Retention)
		}
	}
	return a, func() {
		if a.store != nil {
			a.store.Close()
		}
	}, nil
}

func newGitHub(cfg *config.Config, e *Env, logger *slog.Logger) (*github.Client, error) {
	ghc := github.Config{
		BaseURL:     cfg.GitHub.APIURL,
		Token:       cfg.GitHub.Token.Reveal(),
		TokenFile:   cfg.GitHub.TokenFile,
		MaxWait:     cfg.GitHub.MaxWait,
		Concurrency: cfg.Scan.Concurrency,
		Clock:       e.Clock,
		Logger:      logger,
		UserAgent:   "retentiond/" + versionString(),
	}
	if k := cfg.GitHub.AppKey; k != nil {
		ghc.App = &github.AppConfig{ID: cfg.GitHub.AppID, PrivateKey: k.RSA(), InstallationID: cfg.GitHub.AppInstallationID}
	}
	gh, err := github.New(ghc)
	if err != nil {
		return nil, fmt.Errorf("setting up the GitHub client: %w", err)
	}
	return gh, nil
}

// openStore opens the database and migrates it, or with migrate false
// only checks that its schema is the one this binary needs.
func openStore(ctx context.Context, url string, migrate bool) (*store.Store, error) {
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if migrate {
		err = st.Migrate(ctx)
		if err != nil {
			err = fmt.Errorf("migrating the database: %w", err)
		}
	} else {
		err = st.CheckSchema(ctx)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func (a *app) scanner(e *Env) *scanner.Scanner {
	return scanner.New(a.gh, a.store, scanner.Options{
		Concurrency: a.cfg.Scan.Concurrency, FullScanInterval: a.cfg.Scan.FullScanInterval, Clock: e.Clock, Logger: a.logger,
	})
}

// checkArchiveDir refuses a run that may delete under a policy with archive
// rules when ARCHIVE_DIR is not set, or is not writable: the archive is
// written before its artifact is deleted, so it must land where it lasts.
// A dry-run archives nothing; it only warns that a real run would refuse.
func (a *app) checkArchiveDir(ctx context.Context, dryRun bool) error {
	var rules []string
	for _, r := range a.policy.Rules {
		if r.Archive {
			rules = append(rules, r.Name)
		}
	}
	if len(rules) == 0 {
		return nil
	}
	dir := a.cfg.Archive.Dir
	if dir == "" {
		msg := fmt.Sprintf("is required: rule %s archives before deleting (archive: true); set it to a writable directory on a volume that outlives the container (docker run -v /srv/archive:/archive -e ARCHIVE_DIR=/archive ...)",
			strings.Join(rules, ", "))
		if dryRun {
			a.logger.WarnContext(ctx, "ARCHIVE_DIR "+msg+"; this dry-run archives nothing, a real run would refuse to start")
			return nil
		}
		return &config.Error{Var: "ARCHIVE_DIR", Msg: msg}
	}
	if err := archive.CheckWritable(dir); err != nil {
		return &config.Error{Var: "ARCHIVE_DIR", Msg: fmt.Sprintf("%s is not a writable directory (%v); rule %s archives before deleting", dir, err, strings.Join(rules, ", "))}
	}
	return nil
}
