package store_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/savings"
	"github.com/retentiond/retentiond/internal/store"
)

// storageFixture fills a database with the artifacts, runs and decisions the
// storage and savings tests read. now is 2026-03-20 12:00 UTC.
//
//	id  repo       name   branch  size    created   expires          gone
//	1   octo/api   build  main    4 GB    Mar 1     Mar 31           -       live
//	2   octo/api   build  feat    2 GB    Mar 2     Mar 30           Mar 10  deleted by run 1 (20 days left)
//	3   octo/api   logs   main    1 GB    Feb 1     Mar 1 (expired)  -       expired listing
//	4   octo/web   build  -       3 GB    Mar 3     Apr 1            -       live; run 2 would delete it
//	5   octo/web   logs   main    5 GB    Mar 4     -                Mar 10  deleted by run 1, no expires_at
//	6   octo/web   junk   main    7 GB    Mar 4     Apr 2            Mar 10  already gone in run 1
var (
	fixNow = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	march  = func(day int) time.Time { return time.Date(2026, 3, day, 0, 0, 0, 0, time.UTC) }
)

func exec(t *testing.T, st *store.Store, sql string, args ...any) {
	t.Helper()
	if _, err := st.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func storageFixture(t *testing.T, st *store.Store) {
	t.Helper()
	const gb = 1_000_000_000
	feb1 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	apr := func(day int) time.Time { return time.Date(2026, 4, day, 0, 0, 0, 0, time.UTC) }
	exec(t, st, `INSERT INTO artifacts (id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
	        created_at, expires_at, branch, first_seen_at, last_seen_at, gone_at)
	      VALUES (1, 'octo/api', 'n', 'build', $1, 'u', 'a', false, $3, $4, 'main', $3, $3, NULL),
	             (2, 'octo/api', 'n', 'build', $2, 'u', 'a', false, $5, $6, 'feat', $5, $5, $7),
	             (3, 'octo/api', 'n', 'logs', $8, 'u', 'a', true, $9, $3, 'main', $9, $9, NULL),
	             (4, 'octo/web', 'n', 'build', $10, 'u', 'a', false, $11, $12, NULL, $11, $11, NULL),
	             (5, 'octo/web', 'n', 'logs', $13, 'u', 'a', false, $14, NULL, 'main', $14, $14, $7),
	             (6, 'octo/web', 'n', 'junk', $15, 'u', 'a', false, $14, $16, 'main', $14, $14, $7)`,
		4*gb, 2*gb, march(1), march(31), march(2), march(30), march(10), 1*gb, feb1, 3*gb, march(3), apr(1),
		5*gb, march(4), 7*gb, apr(2))
	exec(t, st, `INSERT INTO runs (id, started_at, finished_at, trigger, dry_run, status, policy_sha256, max_deletions)
	      VALUES (1, $1, $1, 'manual', false, 'succeeded', 'x', 500),
	             (2, $2, $2, 'schedule', true, 'succeeded', 'x', 500)`, march(10), march(15))
	// Since 0005 audit_log is partitioned by month: March's must exist before
	// rows are written to it. (On a 0004 schema, for the upgrade test, it is
	// one table.)
	var partitioned bool
	if err := st.Pool().QueryRow(context.Background(), `SELECT to_regclass('audit_partitions') IS NOT NULL`).Scan(&partitioned); err != nil {
		t.Fatal(err)
	}
	if partitioned {
		if _, err := st.EnsureAuditPartitions(context.Background(), march(1)); err != nil {
			t.Fatal(err)
		}
	}
	exec(t, st, `INSERT INTO audit_log (run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes,
	        action, rule, reason, outcome, executed_at, expired)
	      VALUES (1, $1, 'octo/api', 2, 'build', $3, 'delete', 'r', 'x', 'deleted', $1, false),
	             (1, $1, 'octo/web', 5, 'logs', $4, 'delete', 'r', 'x', 'deleted', $1, false),
	             (1, $1, 'octo/web', 6, 'junk', $5, 'delete', 'r', 'x', 'already_gone', $1, false),
	             (1, $1, 'octo/api', 3, 'logs', $7, 'delete', 'r', 'x', 'deleted', $1, true),
	             (2, $2, 'octo/web', 4, 'build', $6, 'delete', 'r', 'x', 'dry_run', NULL, false),
	             (2, $2, 'octo/api', 1, 'build', $8, 'keep', 'k', 'x', 'kept', NULL, false)`,
		march(10), march(15), 2*gb, 5*gb, 7*gb, 3*gb, 1*gb, 4*gb)
	exec(t, st, `INSERT INTO scans (repository, kind, started_at, finished_at, status)
	      VALUES ('octo/api', 'repository', $1, $1, 'complete'), ('octo/web', 'repository', $2, $2, 'complete'),
	             ('octo/api', 'repository', $3, $3, 'failed')`,
		march(5).Add(time.Hour), march(12).Add(time.Hour), march(13))
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestRunSavings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	storageFixture(t, st)

	rs, err := st.RunSavings(ctx, 1)
	if err != nil || rs.LiveBytes != -1 || rs.Saved != (savings.Usage{}) {
		t.Fatalf("before recording: %+v, %v", rs, err)
	}
	// Run 1: artifact 2 had 20 days left (2 GB × 480 h); 5 has no
	// expires_at, 6 was already gone and 3 had expired: they save nothing.
	rs, err = st.RecordRunSavings(ctx, 1, fixNow)
	if err != nil {
		t.Fatal(err)
	}
	if !approx(rs.Saved.GBHours, 960) || !approx(rs.Saved.GBMonths, 960.0/744) || rs.WouldSave != (savings.Usage{}) {
		t.Errorf("run 1 saved %+v, would save %+v", rs.Saved, rs.WouldSave)
	}
	// Still accruing at now: artifacts 1 and 4.
	if rs.LiveBytes != 7_000_000_000 {
		t.Errorf("live bytes %d", rs.LiveBytes)
	}
	// Run 2 would delete artifact 4: 3 GB from Mar 15 to Apr 1, 17 days
	// in March (744 h) and none in April.
	rs2, err := st.RecordRunSavings(ctx, 2, fixNow)
	if err != nil {
		t.Fatal(err)
	}
	if !approx(rs2.WouldSave.GBHours, 3*17*24) || !approx(rs2.WouldSave.GBMonths, 3*17*24/744.0) || rs2.Saved != (savings.Usage{}) {
		t.Errorf("run 2: %+v", rs2)
	}
	// Recorded, it reads back the same, and recording again changes nothing.
	again, err := st.RecordRunSavings(ctx, 1, fixNow)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.RunSavings(ctx, 1)
	if err != nil || got != again || got != rs {
		t.Errorf("read back %+v, %v; recorded %+v", got, err, rs)
	}
	if _, err := st.RecordRunSavings(ctx, 99, fixNow); err == nil {
		t.Error("recorded savings of a run that does not exist")
	}
}

func TestStorageGroups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	storageFixture(t, st)

	repos, err := st.Storage(ctx, store.StorageFilter{By: store.ByRepository, Now: fixNow})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.StorageGroup{
		{Key: "octo/api", Groups: 1, Live: 1, LiveBytes: 4e9, Expired: 1, ExpiredBytes: 1e9, LargestBytes: 4e9,
			OldestCreated: march(1), NewestCreated: march(1), RepositoryKeys: 1},
		{Key: "octo/web", Groups: 1, Live: 1, LiveBytes: 3e9, LargestBytes: 3e9, OldestCreated: march(3), NewestCreated: march(3), RepositoryKeys: 1},
	}
	if diff := cmp.Diff(want, repos); diff != "" {
		t.Errorf("by repository (-want +got):\n%s", diff)
	}
	// By branch, top 1: main (api's live build, plus the expired logs),
	// then the rest (web's build without a branch) in one row.
	branches, err := st.Storage(ctx, store.StorageFilter{By: store.ByBranch, Top: 1, Now: fixNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(branches) != 2 || branches[0].Key != "main" || branches[0].LiveBytes != 4e9 || branches[0].Expired != 1 ||
		!branches[1].Other || branches[1].Groups != 1 || branches[1].LiveBytes != 3e9 {
		t.Errorf("by branch: %+v", branches)
	}
	names, err := st.Storage(ctx, store.StorageFilter{By: store.ByName, Repository: "octo/web", Now: fixNow})
	if err != nil || len(names) != 1 || names[0].Key != "build" {
		t.Errorf("names of octo/web: %+v, %v", names, err)
	}
	largest, err := st.ListStored(ctx, "", store.LargestFirst, 10, fixNow)
	if err != nil || len(largest) != 2 || largest[0].ID != 1 || largest[1].ID != 4 {
		t.Errorf("largest: %+v, %v", largest, err)
	}
	oldest, err := st.ListStored(ctx, "", store.OldestFirst, 1, fixNow)
	if err != nil || len(oldest) != 1 || oldest[0].ID != 1 {
		t.Errorf("oldest: %+v, %v", oldest, err)
	}
	live, err := st.LiveStorageByRepository(ctx, fixNow)
	if err != nil || len(live) != 2 || live[0] != (store.RepositoryStorage{Repository: "octo/api", LiveBytes: 4e9}) {
		t.Errorf("live by repository: %+v, %v", live, err)
	}
}

func TestStorageTrendAndMonths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	storageFixture(t, st)

	trend, err := st.StorageTrend(ctx, "", march(1))
	if err != nil {
		t.Fatal(err)
	}
	// Mar 5 01:00: artifacts 1, 2, 4, 5, 6 (3 expired Mar 1). Mar 12
	// 01:00: 2, 5 and 6 are gone; 1 and 4 left. The failed scan of Mar 13
	// is no point.
	want := []store.TrendPoint{
		{Day: march(5), At: march(5).Add(time.Hour), Live: 5, LiveBytes: 21e9},
		{Day: march(12), At: march(12).Add(time.Hour), Live: 2, LiveBytes: 7e9},
	}
	if diff := cmp.Diff(want, trend); diff != "" {
		t.Errorf("trend (-want +got):\n%s", diff)
	}
	if api, err := st.StorageTrend(ctx, "octo/api", march(1)); err != nil || len(api) != 1 || api[0].LiveBytes != 6e9 {
		t.Errorf("trend of octo/api: %+v, %v", api, err)
	}

	months, err := st.MonthlySavings(ctx, "", march(1).AddDate(0, -1, 0), fixNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(months) != 2 || !months[0].Month.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("months: %+v", months)
	}
	feb, mar := months[0], months[1]
	// February: only artifact 3 (1 GB, created Feb 1, expired Mar 1).
	if feb.Deletions != 0 || !approx(feb.Accrued.GBHours, 28*24) || !approx(feb.Accrued.GBMonths, 1) {
		t.Errorf("February: %+v", feb)
	}
	if mar.Deletions != 3 || !approx(mar.Saved.GBHours, 960) || mar.DryRunID != 2 || !approx(mar.WouldSave.GBHours, 3*17*24) {
		t.Errorf("March: %+v", mar)
	}
	// March until now (Mar 20 12:00): 1: 4 GB × 19.5 d; 2: 2 GB × 8 d;
	// 4: 3 GB × 17.5 d; 5: 5 GB × 6 d; 6: 7 GB × 6 d.
	wantAccrued := 24 * (4*19.5 + 2*8 + 3*17.5 + 5*6 + 7*6)
	if !approx(mar.Accrued.GBHours, wantAccrued) {
		t.Errorf("March accrued %v GB-hours, want %v", mar.Accrued.GBHours, wantAccrued)
	}
	web, err := st.MonthlySavings(ctx, "octo/web", march(1), fixNow)
	if err != nil || len(web) != 1 || web[0].Deletions != 1 || web[0].Saved.GBHours != 0 || !approx(web[0].WouldSave.GBHours, 3*17*24) {
		t.Errorf("March of octo/web: %+v, %v", web, err)
	}
}

// TestUpgradeFrom0004ToSavings migrates a database holding 0004's data to
// 0009: old runs read as not recorded, and their savings can be computed
// from the decisions they left.
func TestUpgradeFrom0004ToSavings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, pgtest.NewEmptyDatabase(t))
	if err := st.MigrateFS(ctx, migrationsUpTo(t, 4)); err != nil {
		t.Fatal(err)
	}
	storageFixture(t, st)
	before := runSummary(t, st)
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrating from 0004: %v", err)
	}
	if diff := cmp.Diff(before, runSummary(t, st)); diff != "" {
		t.Errorf("run_summary changed by the upgrade (-before +after):\n%s", diff)
	}
	rs, err := st.RunSavings(ctx, 1)
	if err != nil || rs.LiveBytes != -1 || rs.Saved != (savings.Usage{}) {
		t.Errorf("old run: %+v, %v", rs, err)
	}
	if rs, err = st.RecordRunSavings(ctx, 1, fixNow); err != nil || !approx(rs.Saved.GBHours, 960) {
		t.Errorf("old run recorded: %+v, %v", rs, err)
	}
	if !tableExists(t, st, "branch_listings") || !tableExists(t, st, "branch_pages") {
		t.Error("branch tables missing")
	}
}
