package store_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/migrations"
)

// migrationsUpTo returns the embedded migrations numbered up to last.
func migrationsUpTo(t *testing.T, last int) fstest.MapFS {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	out := fstest.MapFS{}
	for _, n := range names {
		var v int
		for _, c := range n[:4] {
			v = v*10 + int(c-'0')
		}
		if v > last {
			continue
		}
		body, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = &fstest.MapFile{Data: body}
	}
	return out
}

// TestUpgradeFrom0003KeepsHistory populates a database of the schema before
// 0004 the way that release wrote it, migrates, and checks that the history
// reads the same and the new columns and views make sense of old rows.
func TestUpgradeFrom0003KeepsHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, pgtest.NewEmptyDatabase(t))
	if err := st.MigrateFS(ctx, migrationsUpTo(t, 3)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := st.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Two artifacts, one of them since gone; a succeeded dry-run that would
	// delete both, then a failed dry-run with nothing.
	exec(`INSERT INTO artifacts (id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
	        first_seen_at, last_seen_at, gone_at)
	      VALUES (1, 'octo/api', 'n1', 'build', 100, 'u', 'a', false, $1, $1, NULL),
	             (2, 'octo/api', 'n2', 'logs', 200, 'u', 'a', true, $1, $1, $1)`, t0)
	exec(`INSERT INTO runs (id, started_at, finished_at, trigger, dry_run, status, policy_sha256, max_deletions,
	        artifacts_seen, planned_deletions, would_reclaim)
	      VALUES (1, $1, $1, 'manual', true, 'partial', 'x', 500, 2, 2, 300),
	             (2, $2, $2, 'schedule', true, 'failed', 'x', 500, 0, 0, 0)`, t0, t0.Add(time.Hour))
	exec(`INSERT INTO audit_log (run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes,
	        action, rule, reason, outcome)
	      VALUES (1, $1, 'octo/api', 1, 'build', 100, 'delete', 'old', 'matched delete rule old', 'dry_run'),
	             (1, $1, 'octo/api', 2, 'logs', 200, 'delete', 'old', 'matched delete rule old', 'dry_run')`, t0)
	before := runSummary(t, st)

	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrating from 0003: %v", err)
	}

	after := runSummary(t, st)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("run_summary changed by the upgrade (-before +after):\n%s", diff)
	}
	var expiredListings int
	if err := st.Pool().QueryRow(ctx, `SELECT expired_listings FROM run_summary WHERE id = 1`).Scan(&expiredListings); err != nil || expiredListings != 0 {
		t.Errorf("expired_listings of an old run = %d, %v; want 0", expiredListings, err)
	}
	// pending_deletions shows the dry-run that planned deletions, not the
	// failed one after it, and not the artifact that has gone since; an
	// old row's expiry is unknown, so it counts as storage.
	var runID, artifactID, reclaimable int64
	var started time.Time
	var expired bool
	rows, err := st.Pool().Query(ctx, `SELECT run_id, run_started_at, artifact_id, expired, reclaimable_bytes FROM pending_deletions`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	_, err = pgx.ForEachRow(rows, []any{&runID, &started, &artifactID, &expired, &reclaimable}, func() error {
		n++
		return nil
	})
	if err != nil || n != 1 || runID != 1 || !started.Equal(t0) || artifactID != 1 || expired || reclaimable != 100 {
		t.Errorf("pending_deletions: %d rows, last run %d started %s artifact %d expired %v reclaimable %d (%v)",
			n, runID, started, artifactID, expired, reclaimable, err)
	}
	// Old rows read back as before, with Expired false.
	entries, err := st.AuditEntries(ctx, store.AuditFilter{RunID: 1})
	if err != nil || len(entries) != 2 || entries[0].Expired || entries[1].Expired {
		t.Errorf("old audit rows: %+v, %v", entries, err)
	}
	// The log is still append-only after the upgrade.
	if _, err := st.Pool().Exec(ctx, `UPDATE audit_log SET expired = true WHERE run_id = 1`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("rewriting an old decision: %v", err)
	}
}

func runSummary(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT id, status, planned_deletions, would_reclaim, bytes_reclaimed, cap_hit, coalesce(error, '') FROM run_summary ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var id, planned, would, reclaimed int64
	var status, errText string
	var capHit bool
	_, err = pgx.ForEachRow(rows, []any{&id, &status, &planned, &would, &reclaimed, &capHit, &errText}, func() error {
		out = append(out, fmt.Sprint(id, status, planned, would, reclaimed, capHit, errText))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
