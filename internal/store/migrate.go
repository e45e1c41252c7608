package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/retentiond/retentiond/migrations"
)

// MigrationLockKey is the key of the session-level PostgreSQL advisory lock
// (pg_advisory_lock) held while migrating: the ASCII bytes of "retentio" read
// as a big-endian int64. Every retentiond process takes it before reading or
// applying migrations, so replicas starting together apply each migration
// exactly once. Other software sharing the database must not use this key.
const MigrationLockKey int64 = 0x726574656e74696f

// ErrMigrationMismatch is returned, wrapped, when the migrations recorded in
// the database disagree with the ones embedded in this binary: an applied
// migration's file was edited or renamed, the database has a migration this
// binary doesn't know (it was migrated by a newer version), or a new
// migration sorts before one already applied. Starting anyway could run code
// against a schema it was not written for.
var ErrMigrationMismatch = errors.New("database migrations do not match this binary")

// migrationFileName is NNNN_name.sql: a four-digit version (more digits are
// allowed once 9999 is reached) and a snake_case name.
var migrationFileName = regexp.MustCompile(`^([0-9]{4,})_([a-z0-9][a-z0-9_]*)\.sql$`)

type migration struct {
	version int
	name    string
	sql     string
	sha256  string
}

// The runner is hand-made rather than tern or golang-migrate because it does
// what they do not together: it keeps each applied file's SHA-256 and
// refuses to start when a released migration was edited or one is missing
// (ErrMigrationMismatch), applies embedded files under one advisory lock
// across replicas, and checks the schema read-only for commands that must
// not change it (CheckSchema). It is a hundred lines.

// Migrate brings the database schema up to date with the migrations embedded
// from the migrations directory: it applies, in version order, every one not
// yet recorded in schema_migrations, each in its own transaction. It holds
// the advisory lock MigrationLockKey on a dedicated connection throughout.
// It returns an error wrapping ErrMigrationMismatch, and changes nothing, if
// the applied migrations disagree with the embedded ones.
//
// It then creates the audit_log partitions of this month and the next
// (EnsureAuditPartitions), so that a fresh or upgraded database is ready
// for writes without DDL.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.migrate(ctx, migrations.FS); err != nil {
		return err
	}
	_, err := s.EnsureAuditPartitions(ctx, time.Now())
	return err
}

func (s *Store) migrate(ctx context.Context, fsys fs.FS) (err error) {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: acquiring a connection to migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", MigrationLockKey); err != nil {
		return fmt.Errorf("store: taking the migration lock %d: %w", MigrationLockKey, err)
	}
	defer func() {
		// Unlock even when ctx is done; if that fails, close the connection
		// so the pool can't hand out a session still holding the lock
		// (closing the session releases it).
		unlockCtx := context.WithoutCancel(ctx)
		if _, uerr := conn.Exec(unlockCtx, "SELECT pg_advisory_unlock($1)", MigrationLockKey); uerr != nil {
			_ = conn.Conn().Close(unlockCtx)
			if err == nil {
				err = fmt.Errorf("store: releasing the migration lock: %w", uerr)
			}
		}
	}()
	return applyMigrations(ctx, conn, ms)
}

func applyMigrations(ctx context.Context, conn *pgxpool.Conn, ms []migration) error {
	// CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the
	// table exists, so it is only sent when it does not: a role that does
	// not own the schema can then start on a schema its owner migrated.
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("store: looking for schema_migrations: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    int         PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL,
		sha256     text        NOT NULL
	)`); err != nil {
			return fmt.Errorf("store: creating schema_migrations: %w", err)
		}
	}
	applied, err := appliedMigrations(ctx, conn)
	if err != nil {
		return err
	}
	pending, err := pendingMigrations(ms, applied)
	if err != nil {
		return err
	}
	for _, m := range pending {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx,
				`INSERT INTO schema_migrations (version, name, applied_at, sha256) VALUES ($1, $2, now(), $3)`,
				m.version, m.name, m.sha256)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: applying migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

func appliedMigrations(ctx context.Context, conn *pgxpool.Conn) (map[int]migration, error) {
	rows, err := conn.Query(ctx, `SELECT version, name, sha256 FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("store: reading schema_migrations: %w", err)
	}
	applied := map[int]migration{}
	var m migration
	_, err = pgx.ForEachRow(rows, []any{&m.version, &m.name, &m.sha256}, func() error {
		applied[m.version] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading schema_migrations: %w", err)
	}
	return applied, nil
}

// pendingMigrations checks the applied migrations against the known ones and
// returns those still to apply, in order.
func pendingMigrations(known []migration, applied map[int]migration) ([]migration, error) {
	byVersion := make(map[int]migration, len(known))
	for _, m := range known {
		byVersion[m.version] = m
	}
	maxApplied := 0
	for v, a := range applied {
		maxApplied = max(maxApplied, v)
		k, ok := byVersion[v]
		switch {
		case !ok:
			return nil, fmt.Errorf("store: migration %04d_%s is applied but unknown to this binary (was the database migrated by a newer retentiond?): %w",
				a.version, a.name, ErrMigrationMismatch)
		case k.name != a.name:
			return nil, fmt.Errorf("store: migration %04d was applied as %q but is now named %q: %w",
				v, a.name, k.name, ErrMigrationMismatch)
		case k.sha256 != a.sha256:
			return nil, fmt.Errorf("store: migration %04d_%s was edited after it was applied (sha256 %s in the database, %s now); add a new migration instead: %w",
				v, k.name, a.sha256, k.sha256, ErrMigrationMismatch)
		}
	}
	var pending []migration
	for _, m := range known {
		if _, ok := applied[m.version]; ok {
			continue
		}
		if m.version < maxApplied {
			return nil, fmt.Errorf("store: migration %04d_%s is not applied but the later %04d is; migrations are forward-only, renumber it after %04d: %w",
				m.version, m.name, maxApplied, maxApplied, ErrMigrationMismatch)
		}
		pending = append(pending, m)
	}
	return pending, nil
}

// loadMigrations reads every .sql file of fsys and returns them sorted by
// version. A .sql file with a malformed name is an error rather than being
// skipped, so a typo can't silently drop a migration.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("store: listing migrations: %w", err)
	}
	var ms []migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		parts := migrationFileName.FindStringSubmatch(e.Name())
		if parts == nil {
			return nil, fmt.Errorf("store: migration file %q is not named NNNN_name.sql", e.Name())
		}
		version, err := strconv.Atoi(parts[1])
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("store: migration file %q: version must be a positive number", e.Name())
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("store: migration files %q and %q share version %d", other, e.Name(), version)
		}
		seen[version] = e.Name()
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("store: reading migration %q: %w", e.Name(), err)
		}
		sum := sha256.Sum256(body)
		ms = append(ms, migration{version: version, name: parts[2], sql: string(body), sha256: hex.EncodeToString(sum[:])})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// ErrSchemaBehind is returned, wrapped, by CheckSchema when the database
// lacks migrations this binary needs.
var ErrSchemaBehind = errors.New("the database schema is behind this retentiond")

// CheckSchema checks, reading only, that the database has exactly the
// migrations embedded in this binary, for the commands that must not change
// the schema (audit, plan): they work with a read-only role. A database
// that is behind gets an error wrapping ErrSchemaBehind that says to run
// 'retentiond migrate'; one that disagrees otherwise, ErrMigrationMismatch.
func (s *Store) CheckSchema(ctx context.Context) error {
	ms, err := loadMigrations(migrations.FS)
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: acquiring a connection to check the schema: %w", err)
	}
	defer conn.Release()
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("store: checking the schema: %w", err)
	}
	applied := map[int]migration{}
	if exists {
		if applied, err = appliedMigrations(ctx, conn); err != nil {
			return err
		}
	}
	pending, err := pendingMigrations(ms, applied)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		last := ms[len(ms)-1]
		return fmt.Errorf("%w: it has %d of the %d migrations this version needs (up to %04d_%s); run 'retentiond migrate' (with a role that may change the schema) first",
			ErrSchemaBehind, len(ms)-len(pending), len(ms), last.version, last.name)
	}
	return nil
}
