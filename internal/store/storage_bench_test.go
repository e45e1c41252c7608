package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/store"
)

// BenchmarkReport measures the storage report's queries over 100,000
// artifacts in 50 repositories (a third of them gone, a third expired),
// 30 daily complete scans and one run of 5,000 deletions, one sub-benchmark
// per query `retentiond report` makes (totals reuse storage by repository).
func BenchmarkReport(b *testing.B) {
	ctx := context.Background()
	st := newStore(b)
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	mustExec := func(sql string, args ...any) {
		b.Helper()
		if _, err := st.Pool().Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(`INSERT INTO artifacts (id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
	        created_at, expires_at, branch, first_seen_at, last_seen_at, gone_at)
	      SELECT i, 'bench/repo-' || (i % 50), 'n', 'build-' || (i % 7), 1000000 + (i * 7919) % 500000000, 'u', 'a',
	             i % 3 = 1, $1::timestamptz - (i % 120) * interval '1 day', $1::timestamptz + (90 - i % 120) * interval '1 day',
	             'feature/' || (i % 300), $1::timestamptz - (i % 120) * interval '1 day', $1,
	             CASE WHEN i % 3 = 2 THEN $1::timestamptz - (i % 30) * interval '1 day' END
	      FROM generate_series(1, 100000) i`, now)
	mustExec(`INSERT INTO scans (repository, kind, started_at, finished_at, status)
	      SELECT 'bench/repo-' || (d % 50), 'repository', $1::timestamptz - d * interval '1 day', $1::timestamptz - d * interval '1 day', 'complete'
	      FROM generate_series(0, 29) d`, now)
	mustExec(`INSERT INTO runs (id, started_at, finished_at, trigger, dry_run, status, policy_sha256, max_deletions)
	      VALUES (1, $1, $1, 'manual', false, 'succeeded', 'x', 5000)`, now.Add(-time.Hour))
	if _, err := st.EnsureAuditPartitions(context.Background(), now.Add(-time.Hour)); err != nil {
		b.Fatal(err)
	}
	mustExec(`INSERT INTO audit_log (run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes,
	        action, rule, reason, outcome, executed_at, expired)
	      SELECT 1, $1, 'bench/repo-' || (i % 50), i, 'build', 1000000, 'delete', 'r', 'x', 'deleted', $1, false
	      FROM generate_series(1, 15000, 3) i`, now.Add(-time.Hour))
	mustExec(`ANALYZE`)
	for _, q := range []struct {
		name string
		fn   func() error
	}{
		{"storage-by-repository", func() error {
			_, err := st.Storage(ctx, store.StorageFilter{By: store.ByRepository, Top: 10, Now: now})
			return err
		}},
		{"storage-by-branch", func() error {
			_, err := st.Storage(ctx, store.StorageFilter{By: store.ByBranch, Top: 10, Now: now})
			return err
		}},
		{"largest", func() error { _, err := st.ListStored(ctx, "", store.LargestFirst, 10, now); return err }},
		{"oldest", func() error { _, err := st.ListStored(ctx, "", store.OldestFirst, 10, now); return err }},
		{"trend-14d", func() error { _, err := st.StorageTrend(ctx, "", now.AddDate(0, 0, -13)); return err }},
		{"months-3", func() error { _, err := st.MonthlySavings(ctx, "", now.AddDate(0, -2, 0), now); return err }},
		{"run-savings", func() error { _, err := st.RecordRunSavings(ctx, 1, now); return err }},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if err := q.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
