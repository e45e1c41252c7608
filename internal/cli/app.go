package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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
		if a.store, err = openStore(ctx, cfg.Database.URL.Reveal()); err != nil {
			return nil, nil, err
		}
	}
	return a, func() {
		if a.store != nil {
			a.store.Close()
		}
	}, nil
}

func newGitHub(cfg *config.Config, e *Env, logger *slog.Logger) (*github.Client, error) {
	gh, err := github.New(github.Config{
		BaseURL:     cfg.GitHub.APIURL,
		Token:       cfg.GitHub.Token.Reveal(),
		MaxWait:     cfg.GitHub.MaxWait,
		Concurrency: cfg.Scan.Concurrency,
		Clock:       e.Clock,
		Logger:      logger,
		UserAgent:   "retentiond/" + versionString(),
	})
	if err != nil {
		return nil, fmt.Errorf("setting up the GitHub client: %w", err)
	}
	return gh, nil
}

func openStore(ctx context.Context, url string) (*store.Store, error) {
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrating the database: %w", err)
	}
	return st, nil
}

func (a *app) scanner(e *Env) *scanner.Scanner {
	return scanner.New(a.gh, a.store, scanner.Options{Concurrency: a.cfg.Scan.Concurrency, Clock: e.Clock, Logger: a.logger})
}
