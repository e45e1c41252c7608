package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/migrations"
)

// SchemaState is how the database's schema compares with this binary's
// migrations.
type SchemaState struct {
	Applied int // migrations recorded in schema_migrations
	Known   int // migrations embedded in this binary
	Latest  int // the newest embedded migration's number
	// Err is CheckSchema's verdict: nil when up to date, else wrapping
	// ErrSchemaBehind or ErrMigrationMismatch.
	Err error
}

// Schema reports the schema's state, reading only.
func (s *Store) Schema(ctx context.Context) (SchemaState, error) {
	ms, err := loadMigrations(migrations.FS)
	if err != nil {
		return SchemaState{}, err
	}
	st := SchemaState{Known: len(ms), Latest: ms[len(ms)-1].version}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return SchemaState{}, fmt.Errorf("store: checking the schema: %w", err)
	}
	if exists {
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&st.Applied); err != nil {
			return SchemaState{}, fmt.Errorf("store: reading schema_migrations: %w", err)
		}
	}
	st.Err = s.CheckSchema(ctx)
	return st, nil
}

// Grant is one privilege on one object of the schema, and whether the
// connected role holds it.
type Grant struct {
	Object    string // a table or sequence name, or "schema"
	Privilege string // SELECT, INSERT, UPDATE, DELETE, USAGE (sequences), CREATE (schema)
	Held      bool
}

// Grants returns, for every table and sequence of the current schema,
// whether the connected role holds each privilege retentiond may need, and
// CREATE on the schema itself (migrating needs it). PostgreSQL answers with
// has_*_privilege, which counts ownership, inherited roles and PUBLIC.
func (s *Store) Grants(ctx context.Context) ([]Grant, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT c.relname, p.priv, has_table_privilege(c.oid, p.priv)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
		CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p(priv)
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		UNION ALL
		SELECT c.relname, 'USAGE', has_sequence_privilege(c.oid, 'USAGE')
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
		WHERE c.relkind = 'S'
		UNION ALL
		SELECT 'schema', 'CREATE', has_schema_privilege(current_schema(), 'CREATE')
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("store: reading privileges: %w", err)
	}
	grants, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Grant, error) {
		var g Grant
		err := row.Scan(&g.Object, &g.Privilege, &g.Held)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading privileges: %w", err)
	}
	return grants, nil
}
