// Package pgtest gives tests their own PostgreSQL database. NewDatabase
// clones a database migrated once per test binary (CREATE DATABASE ...
// TEMPLATE), which takes milliseconds, so every test can have a fresh,
// isolated schema.
//
// The server is the one DATABASE_URL names, or else
// postgres://postgres@127.0.0.1:5432/postgres. `make test` runs the tests
// under internal/tools/withpostgres, which sets DATABASE_URL to a throwaway
// server when nothing answers there. A test that cannot reach PostgreSQL
// fails; it never skips.
//
// A package using NewDatabase should call Main from its TestMain so the
// template database is dropped when its tests end.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/store"
)

// DefaultURL is the admin connection used when DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// namePrefix starts the name of every database this package creates; the
// rest is kind_unixtime_pid_random, so names are unique across parallel test
// binaries and old leftovers can be recognised and dropped.
const namePrefix = "retentiond_"

// staleAfter is how old a leftover database (from a test binary that was
// killed before its cleanup ran) must be before another binary drops it.
const staleAfter = 6 * time.Hour

// timeout bounds each administrative step (connect, create, drop).
const timeout = 60 * time.Second

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
	created      atomic.Int64
)

// AdminURL returns the URL of the server's administrative connection:
// DATABASE_URL if set, else DefaultURL.
func AdminURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates a database migrated to the latest schema and returns
// its URL. The database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	templateOnce.Do(func() { templateName, templateErr = createTemplate() })
	if templateErr != nil {
		t.Fatalf("pgtest: %v", templateErr)
	}
	return newDatabase(t, templateName)
}

// NewEmptyDatabase creates a database without any migration applied and
// returns its URL. The database is dropped when the test ends.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "template0")
}

// Main runs the tests of a package, then drops the template database that
// NewDatabase created, and exits. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if templateName != "" {
		if err := dropDatabase(templateName); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: dropping template database: %v\n", err)
		}
	}
	os.Exit(code)
}

func newDatabase(t testing.TB, template string) string {
	t.Helper()
	name := newName("test")
	err := withAdmin(func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
			pgx.Identifier{name}.Sanitize(), pgx.Identifier{template}.Sanitize()))
		return err
	})
	if err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	u, err := withDatabase(AdminURL(), name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// createTemplate creates and migrates this binary's template database, after
// dropping stale leftovers of earlier binaries.
func createTemplate() (string, error) {
	dropStale()
	name := newName("tmpl")
	err := withAdmin(func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("creating template database %s: %w", name, err)
	}
	u, err := withDatabase(AdminURL(), name)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := store.Open(ctx, u)
	if err != nil {
		return "", fmt.Errorf("opening template database: %w", err)
	}
	// Close before cloning: CREATE DATABASE refuses a template with open
	// sessions.
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return "", fmt.Errorf("migrating template database %s: %w", name, err)
	}
	return name, nil
}

func dropDatabase(name string) error {
	err := withAdmin(func(ctx context.Context, conn *pgx.Conn) error {
		// FORCE ends sessions a test leaked rather than failing on them.
		_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	})
	if err != nil {
		return fmt.Errorf("dropping database %s: %w", name, err)
	}
	return nil
}

// dropStale drops databases of this package older than staleAfter, left by
// test binaries that were killed. It is best effort: another binary may be
// dropping the same ones.
func dropStale() {
	var stale []string
	_ = withAdmin(func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, namePrefix)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, n := range names {
			if createdAt, ok := nameTime(n); ok && time.Since(createdAt) > staleAfter {
				stale = append(stale, n)
			}
		}
		return nil
	})
	for _, n := range stale {
		_ = dropDatabase(n)
	}
}

// newName returns a database name unique across processes:
// retentiond_<kind>_<unix seconds>_<pid>_<counter><random>.
func newName(kind string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%s_%d_%d_%d%s", namePrefix, kind, time.Now().Unix(), os.Getpid(), created.Add(1), hex.EncodeToString(b[:]))
}

// nameTime returns when a database named by newName was created.
func nameTime(name string) (time.Time, bool) {
	parts := strings.Split(strings.TrimPrefix(name, namePrefix), "_")
	if len(parts) != 4 {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

func withAdmin(fn func(context.Context, *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	admin := AdminURL()
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return fmt.Errorf("DATABASE_URL could not be parsed (not shown: it may hold a password)")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("cannot reach %s (set DATABASE_URL, or run the tests with `make test`, which starts a throwaway server when none answers): %w",
			store.DescribeURL(admin), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(ctx, conn)
}

// withDatabase returns connURL (a URL or key=value string) pointing at
// database name instead.
func withDatabase(connURL, name string) (string, error) {
	if strings.HasPrefix(connURL, "postgres://") || strings.HasPrefix(connURL, "postgresql://") {
		u, err := url.Parse(connURL)
		if err != nil {
			return "", fmt.Errorf("DATABASE_URL could not be parsed (not shown: it may hold a password)")
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In key=value form a later key overrides an earlier one.
	return connURL + " dbname=" + name, nil
}
