// Package store owns every SQL statement retentiond runs. It opens the
// PostgreSQL pool, applies the embedded migrations and offers typed methods
// for the scanner, the policy engine and the janitor.
//
// Sentinel errors (test with errors.Is):
//   - ErrNotFound: a lookup by key found no row.
//   - ErrScanNotRunning: a scan was completed, failed or written to after it ended.
//   - ErrMigrationMismatch: the database's applied migrations disagree with
//     the ones embedded in this binary; the daemon must not start.
package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/retentiond/retentiond/internal/clock"
)

// ErrNotFound is returned, wrapped, when a lookup by key finds no row.
var ErrNotFound = errors.New("not found")

// defaultConnectTimeout bounds each connection attempt when the URL sets no
// connect_timeout, so an unreachable host fails Open in seconds rather than
// after the operating system's TCP timeout.
const defaultConnectTimeout = 10 * time.Second

// Store is retentiond's PostgreSQL database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// See SetRetry.
	retryClock clock.Clock
	retryFor   time.Duration
	// See SetAuditRetention.
	auditRetention time.Duration
}

// Open connects to the database at databaseURL (a postgres:// URL or a
// key=value connection string) and checks that it answers. Errors name the
// host, port, database and user but never the password.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx redacts passwords in parse errors only on a best-effort basis,
		// so its message (which quotes the URL) is deliberately dropped.
		return nil, errors.New("store: the database URL could not be parsed; check its syntax (it is not shown because it may contain a password)")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: opening a connection pool to %s: %w", describeConfig(&cfg.ConnConfig.Config), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connecting to %s: %w", describeConfig(&cfg.ConnConfig.Config), err)
	}
	return &Store{pool: pool, retryClock: clock.Real{}}, nil
}

// Close closes every connection of the pool, waiting for those in use to be
// released.
func (s *Store) Close() { s.pool.Close() }

// Pool returns the underlying pool, for callers that need something the
// store does not offer yet. Prefer adding a method here: SQL lives in this
// package.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: pinging the database: %w", err)
	}
	return nil
}

// InTx runs fn in a transaction, committing if fn returns nil and rolling
// back otherwise. fn's error is returned as is.
func (s *Store) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// DescribeURL says where databaseURL points (host, port, database, user)
// without its password, for logs and error messages.
func DescribeURL(databaseURL string) string {
	cfg, err := pgconn.ParseConfig(databaseURL)
	if err != nil {
		return "an unparseable database URL"
	}
	return describeConfig(cfg)
}

func describeConfig(cfg *pgconn.Config) string {
	host := cfg.Host
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("PostgreSQL at %s database %q user %q",
		net.JoinHostPort(host, strconv.Itoa(int(cfg.Port))), cfg.Database, cfg.User)
}

// notFound maps pgx.ErrNoRows to ErrNotFound; this is the one place that
// translation happens.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
