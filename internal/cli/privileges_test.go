package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/pgtest"
)

// appGrants are the README's GRANTs for the role retentiond runs as when
// another role owns the schema and applies the migrations.
func appGrants(role, db string) []string {
	return []string{
		"GRANT CONNECT ON DATABASE " + db + " TO " + role,
		"GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role,
		"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + role,
	}
}

// TestCommandsWorkWithTheAppRole: with the schema migrated by its owner,
// the GRANTs the README gives are enough for every command that scans,
// deletes and records, and the audit log stays append-only for that role.
func TestCommandsWorkWithTheAppRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	role := fmt.Sprintf("retentiond_app_%d", time.Now().UnixNano())
	admin, err := pgx.Connect(ctx, w.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, q := range append([]string{"CREATE ROLE " + role + " LOGIN"}, appGrants(role, admin.Config().Database)...) {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		for _, step := range []struct{ url, sql string }{
			{w.DBURL, "DROP OWNED BY " + role},
			{pgtest.AdminURL(), "DROP ROLE IF EXISTS " + role},
		} {
			c, err := pgx.Connect(ctx, step.url)
			if err != nil {
				t.Error(err)
				return
			}
			_, err = c.Exec(ctx, step.sql)
			c.Close(ctx)
			if err != nil {
				t.Errorf("%s: %v", step.sql, err)
			}
		}
	})
	app := w.with("DATABASE_URL", strings.Replace(w.DBURL, "postgres://postgres@", "postgres://"+role+"@", 1))
	for _, args := range [][]string{{"migrate"}, {"scan"}, {"run"}, {"apply", "--run", "1"}, {"run", "--dry-run=false"}, {"audit"}, {"plan"}} {
		if r := runWith(t, app, w.Clock, args...); r.code != 0 {
			t.Errorf("%v as the app role: exit %d, %v\n%s", args, r.code, r.err, r.stderr)
		}
	}
	// The audit log's trigger still refuses a rewrite, whatever the GRANT.
	c, err := pgx.Connect(ctx, app["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `DELETE FROM audit_log`); err == nil {
		t.Error("the app role deleted audit rows")
	}
}
