// Package pglocal finds a PostgreSQL server for development and tests, or
// starts a throwaway one, so that `make test` works on a machine with only the
// PostgreSQL binaries installed.
//
// Hand-made on purpose: testcontainers needs a Docker engine, which these
// machines (and many CI runners) do not have, and embedded-postgres downloads
// server binaries at run time, which a closed network refuses. initdb and
// pg_ctl from the distribution's package are what every machine can have.
package pglocal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server Ensure tries when DATABASE_URL is not set: the
// conventional local PostgreSQL with trust authentication.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// probeTimeout bounds the attempt to reach DefaultURL.
const probeTimeout = 3 * time.Second

// Option changes how Ensure finds a server.
type Option func(*options)

type options struct {
	throwaway bool
	lookupEnv func(string) (string, bool)
	lookPath  func(string) (string, error)
	binGlob   string
}

// Throwaway makes Ensure start a throwaway server even when DATABASE_URL is
// set or DefaultURL answers.
func Throwaway() Option { return func(o *options) { o.throwaway = true } }

// WithLookupEnv makes Ensure read DATABASE_URL through lookup instead of the
// process environment.
func WithLookupEnv(lookup func(string) (string, bool)) Option {
	return func(o *options) { o.lookupEnv = lookup }
}

// Ensure returns the URL of a PostgreSQL server to use, in this order:
// DATABASE_URL if set; DefaultURL if a server answers there; otherwise a
// throwaway server it starts from the PostgreSQL binaries (initdb and pg_ctl
// from PATH, else the newest /usr/lib/postgresql/*/bin), with trust
// authentication, listening on a free 127.0.0.1 port, its data and socket in a
// temporary directory. stop shuts a throwaway server down and removes its
// directory; for the other two cases it does nothing. The URL connects as the
// postgres superuser to the postgres database.
func Ensure(ctx context.Context, logger *slog.Logger, opts ...Option) (url string, stop func() error, err error) {
	o := options{lookupEnv: os.LookupEnv, lookPath: exec.LookPath, binGlob: "/usr/lib/postgresql/*/bin"}
	for _, opt := range opts {
		opt(&o)
	}
	logger = logger.With(slog.String("component", "pglocal"))
	noop := func() error { return nil }
	if !o.throwaway {
		if u, ok := o.lookupEnv("DATABASE_URL"); ok && u != "" {
			logger.InfoContext(ctx, "using the PostgreSQL server named by DATABASE_URL")
			return u, noop, nil
		}
		err := probe(ctx, DefaultURL)
		if err == nil {
			logger.InfoContext(ctx, "using the local PostgreSQL server", slog.String("address", "127.0.0.1:5432"))
			return DefaultURL, noop, nil
		}
		logger.InfoContext(ctx, "no PostgreSQL server at 127.0.0.1:5432; starting a throwaway one", slog.String("reason", err.Error()))
	}
	srv, err := startServer(ctx, logger, o)
	if err != nil {
		return "", nil, err
	}
	return srv.url, srv.stop, nil
}

// probe checks that a server answers at url.
func probe(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	cfg.ConnectTimeout = probeTimeout
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}

// waitReady polls url until a connection succeeds, ctx is done or timeout
// passes.
func waitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := probe(ctx, url)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server not ready after %v: %w", timeout, errors.Join(err, ctx.Err()))
		case <-tick.C:
		}
	}
}
