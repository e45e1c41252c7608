package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/migrations"
)

type appliedMigration struct {
	Version int
	Name    string
	SHA256  string
}

func applied(t *testing.T, st *store.Store) []appliedMigration {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT version, name, sha256 FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("reading schema_migrations: %v", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[appliedMigration])
	if err != nil {
		t.Fatalf("reading schema_migrations: %v", err)
	}
	return got
}

// embedded lists the migrations shipped in the binary as Migrate should
// record them, read independently of the code under test.
func embedded(t *testing.T) []appliedMigration {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var want []appliedMigration
	for _, n := range names { // fs.Glob sorts, and versions are zero-padded
		body, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			t.Fatal(err)
		}
		version, err := strconv.Atoi(n[:4])
		if err != nil {
			t.Fatalf("migration %s: %v", n, err)
		}
		sum := sha256.Sum256(body)
		want = append(want, appliedMigration{Version: version, Name: strings.TrimSuffix(n[5:], ".sql"), SHA256: hex.EncodeToString(sum[:])})
	}
	if len(want) == 0 || want[0] != (appliedMigration{Version: 1, Name: "artifacts_and_scans", SHA256: want[0].SHA256}) {
		t.Fatalf("embedded migrations %v do not start with 0001_artifacts_and_scans.sql", names)
	}
	return want
}

func tableExists(t *testing.T, st *store.Store, name string) bool {
	t.Helper()
	var ok bool
	if err := st.Pool().QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestMigrateFreshAndIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, pgtest.NewEmptyDatabase(t))

	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if diff := cmp.Diff(embedded(t), applied(t, st)); diff != "" {
		t.Errorf("schema_migrations after first Migrate (-want +got):\n%s", diff)
	}
	for _, table := range []string{"artifacts", "scans", "scan_artifacts"} {
		if !tableExists(t, st, table) {
			t.Errorf("table %s missing after Migrate", table)
		}
	}
	var firstApplied time.Time
	if err := st.Pool().QueryRow(ctx, `SELECT applied_at FROM schema_migrations WHERE version = 1`).Scan(&firstApplied); err != nil {
		t.Fatal(err)
	}

	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if diff := cmp.Diff(embedded(t), applied(t, st)); diff != "" {
		t.Errorf("schema_migrations after second Migrate (-want +got):\n%s", diff)
	}
	var again time.Time
	if err := st.Pool().QueryRow(ctx, `SELECT applied_at FROM schema_migrations WHERE version = 1`).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if !again.Equal(firstApplied) {
		t.Errorf("migration 1 re-applied: applied_at %v, then %v", firstApplied, again)
	}
}

// TestMigrateConcurrent starts several processes' worth of pools migrating a
// fresh database at once; without the advisory lock they would race on
// CREATE TABLE and fail.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewEmptyDatabase(t)
	const pools, perPool = 4, 2
	stores := make([]*store.Store, pools)
	for i := range stores {
		stores[i] = openStore(t, url)
	}
	errs := make(chan error, pools*perPool)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, st := range stores {
		for range perPool {
			wg.Go(func() {
				<-start
				errs <- st.Migrate(ctx)
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
	if diff := cmp.Diff(embedded(t), applied(t, stores[0])); diff != "" {
		t.Errorf("schema_migrations (-want +got):\n%s", diff)
	}
}

// TestMigrateWaitsForLock holds the migration lock from another session and
// checks that Migrate waits for it before touching the schema.
func TestMigrateWaitsForLock(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := pgtest.NewEmptyDatabase(t)
	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, store.MigrationLockKey); err != nil {
		t.Fatal(err)
	}

	st := openStore(t, url)
	done := make(chan error, 1)
	go func() { done <- st.Migrate(ctx) }()

	// Wait until Migrate's session is queued on the advisory lock.
	for {
		select {
		case err := <-done:
			t.Fatalf("Migrate returned (%v) while another session held the migration lock", err)
		default:
		}
		var waiting int
		err := holder.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted
			  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting)
		if err != nil {
			t.Fatalf("waiting for Migrate to queue on the lock: %v", err)
		}
		if waiting > 0 {
			break
		}
	}
	if tableExists(t, st, "schema_migrations") {
		t.Fatal("Migrate touched the schema while another session held the migration lock")
	}

	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock($1)`, store.MigrationLockKey); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Migrate after the lock was released: %v", err)
	}
	if diff := cmp.Diff(embedded(t), applied(t, st)); diff != "" {
		t.Errorf("schema_migrations (-want +got):\n%s", diff)
	}
}

func TestMigrateRefusesEditedEmbeddedMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	// The same as editing 0001 after it was applied.
	if _, err := st.Pool().Exec(ctx, `UPDATE schema_migrations SET sha256 = 'feed' WHERE version = 1`); err != nil {
		t.Fatal(err)
	}
	err := st.Migrate(ctx)
	if !errors.Is(err, store.ErrMigrationMismatch) {
		t.Fatalf("Migrate after 0001 changed: got %v, want ErrMigrationMismatch", err)
	}
}

func sqlFile(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }

func TestMigrateRefusesMismatch(t *testing.T) {
	t.Parallel()
	base := fstest.MapFS{
		"0001_one.sql": sqlFile(`CREATE TABLE one (id int)`),
		"0002_two.sql": sqlFile(`CREATE TABLE two (id int)`),
	}
	tests := []struct {
		name  string
		first fstest.MapFS
		then  fstest.MapFS
	}{
		{
			name:  "applied migration edited",
			first: base,
			then: fstest.MapFS{
				"0001_one.sql": sqlFile(`CREATE TABLE one (id bigint)`),
				"0002_two.sql": base["0002_two.sql"],
			},
		},
		{
			name:  "applied migration renamed",
			first: base,
			then: fstest.MapFS{
				"0001_uno.sql": base["0001_one.sql"],
				"0002_two.sql": base["0002_two.sql"],
			},
		},
		{
			name:  "database migrated by a newer binary",
			first: base,
			then:  fstest.MapFS{"0001_one.sql": base["0001_one.sql"]},
		},
		{
			name:  "new migration sorts before an applied one",
			first: fstest.MapFS{"0001_one.sql": base["0001_one.sql"], "0003_three.sql": sqlFile(`CREATE TABLE three (id int)`)},
			then: fstest.MapFS{
				"0001_one.sql":   base["0001_one.sql"],
				"0002_two.sql":   base["0002_two.sql"],
				"0003_three.sql": sqlFile(`CREATE TABLE three (id int)`),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := openStore(t, pgtest.NewEmptyDatabase(t))
			if err := st.MigrateFS(ctx, tc.first); err != nil {
				t.Fatalf("first migration: %v", err)
			}
			before := applied(t, st)
			err := st.MigrateFS(ctx, tc.then)
			if !errors.Is(err, store.ErrMigrationMismatch) {
				t.Fatalf("got %v, want ErrMigrationMismatch", err)
			}
			if diff := cmp.Diff(before, applied(t, st)); diff != "" {
				t.Errorf("schema_migrations changed by a refused Migrate (-before +after):\n%s", diff)
			}
		})
	}
}

func TestMigrateFailureRollsBackThatMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, pgtest.NewEmptyDatabase(t))
	fsys := fstest.MapFS{
		"0001_one.sql": sqlFile(`CREATE TABLE one (id int)`),
		"0002_two.sql": sqlFile(`CREATE TABLE two (id int); SELECT no_such_function()`),
	}
	if err := st.MigrateFS(ctx, fsys); err == nil {
		t.Fatal("Migrate with a broken migration succeeded")
	}
	versions := []int{}
	for _, m := range applied(t, st) {
		versions = append(versions, m.Version)
	}
	if diff := cmp.Diff([]int{1}, versions); diff != "" {
		t.Errorf("applied versions (-want +got):\n%s", diff)
	}
	if !tableExists(t, st, "one") || tableExists(t, st, "two") {
		t.Error("want table one (from 0001) and no table two (0002 rolled back)")
	}

	fsys["0002_two.sql"] = sqlFile(`CREATE TABLE two (id int)`)
	if err := st.MigrateFS(ctx, fsys); err != nil {
		t.Fatalf("Migrate after fixing 0002: %v", err)
	}
	if !tableExists(t, st, "two") {
		t.Error("table two missing after the fixed 0002 was applied")
	}
}

func TestLoadMigrationsRejectsBadFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fsys fstest.MapFS
		ok   bool
	}{
		{name: "valid", fsys: fstest.MapFS{"0001_a.sql": sqlFile(""), "0002_b_c.sql": sqlFile(""), "README.md": sqlFile("")}, ok: true},
		{name: "no version", fsys: fstest.MapFS{"init.sql": sqlFile("")}},
		{name: "short version", fsys: fstest.MapFS{"1_init.sql": sqlFile("")}},
		{name: "upper case name", fsys: fstest.MapFS{"0001_Init.sql": sqlFile("")}},
		{name: "version zero", fsys: fstest.MapFS{"0000_init.sql": sqlFile("")}},
		{name: "duplicate version", fsys: fstest.MapFS{"0001_a.sql": sqlFile(""), "0001_b.sql": sqlFile("")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := store.LoadMigrations(tc.fsys)
			if (err == nil) != tc.ok {
				t.Errorf("LoadMigrations: got error %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if err := store.LoadMigrations(migrations.FS); err != nil {
		t.Errorf("the embedded migrations are invalid: %v", err)
	}
}

// run_summary shows the per-run figures later migrations added to runs,
// after its columns of 0004.
func TestRunSummaryShowsTheNewRunFigures(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	rows, err := st.Pool().Query(context.Background(), `SELECT * FROM run_summary LIMIT 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	want := []string{"expired_listings", "repositories_discovered", "repositories_archived", "repositories_excluded", "owners_failed",
		"repositories_skipped", "requests_estimated", "scan_requests", "scan_requests_costed",
		"gb_hours_saved", "gb_months_saved", "gb_hours_would_save", "gb_months_would_save", "storage_live_bytes"}
	if len(cols) < len(want) || !slices.Equal(cols[len(cols)-len(want):], want) {
		t.Errorf("run_summary columns %v, want them to end with %v", cols, want)
	}
}

// The partition function runs as the schema's owner, so its search_path is
// fixed with pg_temp last: a caller's temporary table cannot stand in for
// one of its tables.
func TestPartitionFunctionSearchPathPutsTempLast(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	var config []string
	var definer bool
	if err := st.Pool().QueryRow(context.Background(), `SELECT proconfig, prosecdef FROM pg_proc WHERE proname = 'audit_log_ensure_partition'`).Scan(&config, &definer); err != nil {
		t.Fatal(err)
	}
	if !definer || len(config) != 1 || !strings.HasPrefix(config[0], "search_path=") || !strings.HasSuffix(config[0], ", pg_temp") {
		t.Errorf("audit_log_ensure_partition: security definer %v, config %v", definer, config)
	}
}
