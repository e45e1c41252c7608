package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	var exists bool
	err := withAdmin(func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	})
	if err != nil {
		t.Fatal(err)
	}
	return exists
}

// inspect connects to url and returns its database name and whether it has
// the schema.
func inspect(t *testing.T, url string) (name string, migrated bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting to %s: %v", url, err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT current_database(), to_regclass('artifacts') IS NOT NULL`).Scan(&name, &migrated); err != nil {
		t.Fatal(err)
	}
	return name, migrated
}

func TestDatabasesAreFreshAndDropped(t *testing.T) {
	t.Parallel()
	var names []string
	t.Run("create", func(t *testing.T) {
		for _, tc := range []struct {
			name         string
			create       func(testing.TB) string
			wantMigrated bool
		}{
			{name: "NewDatabase", create: NewDatabase, wantMigrated: true},
			{name: "NewDatabase again", create: NewDatabase, wantMigrated: true},
			{name: "NewEmptyDatabase", create: NewEmptyDatabase, wantMigrated: false},
		} {
			db, migrated := inspect(t, tc.create(t))
			if migrated != tc.wantMigrated {
				t.Errorf("%s: migrated = %v, want %v", tc.name, migrated, tc.wantMigrated)
			}
			names = append(names, db)
		}
	})
	if names[0] == names[1] {
		t.Errorf("two NewDatabase calls returned the same database %s", names[0])
	}
	for _, n := range names {
		if databaseExists(t, n) {
			t.Errorf("database %s still exists after its test ended", n)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "URL", in: "postgres://u:p@h:5/postgres?sslmode=disable", want: "postgres://u:p@h:5/x_1?sslmode=disable"},
		{name: "URL without path", in: "postgresql://h", want: "postgresql://h/x_1"},
		{name: "key=value", in: "host=h dbname=postgres", want: "host=h dbname=postgres dbname=x_1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := withDatabase(tc.in, "x_1")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("withDatabase(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNamesCarryTheirCreationTime(t *testing.T) {
	t.Parallel()
	before := time.Now().Add(-time.Second)
	name := newName("test")
	got, ok := nameTime(name)
	if !ok || got.Before(before) || got.After(time.Now()) {
		t.Errorf("nameTime(%q) = %v, %v; want about now", name, got, ok)
	}
	if len(name) > 63 {
		t.Errorf("name %q is longer than PostgreSQL's 63-byte identifiers", name)
	}
	for _, other := range []string{"retentiond_test", "retentiond_tmpl_x_1_2", "postgres"} {
		if _, ok := nameTime(other); ok {
			t.Errorf("nameTime(%q) parsed a name newName did not make", other)
		}
	}
	if a, b := newName("a"), newName("a"); a == b {
		t.Errorf("newName returned %q twice", a)
	}
}
