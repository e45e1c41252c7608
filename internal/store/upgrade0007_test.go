package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
)

// TestUpgradeFrom0004StartsScanState populates a database of the schema
// before 0007 the way 0004 wrote it, migrates, and checks that the scans
// read as the full scans they were, that a repository whose latest scan
// completed starts with scan state (so the first scan after the upgrade can
// be incremental) and one whose latest scan failed does not, and that an
// incremental scan then reconciles against the old rows.
func TestUpgradeFrom0004StartsScanState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, pgtest.NewEmptyDatabase(t))
	if err := st.MigrateFS(ctx, migrationsUpTo(t, 4)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := st.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO runs (id, started_at, finished_at, trigger, dry_run, status, policy_sha256, max_deletions, artifacts_seen)
	      VALUES (1, $1, $1, 'schedule', true, 'partial', 'x', 500, 3)`, t0)
	exec(`INSERT INTO scans (id, repository, kind, workflow_run_id, run_id, started_at, finished_at, status, pages, requests, total_count, artifacts_seen, error)
	      VALUES (1, 'octo/api', 'repository', NULL, 1, $1, $2, 'complete', 1, 1, 3, 3, NULL),
	             (2, 'octo/web', 'repository', NULL, 1, $1, $1, 'complete', 1, 1, 0, 0, NULL),
	             (3, 'octo/web', 'repository', NULL, 1, $2, $2, 'failed', 1, 4, 7, 0, 'boom'),
	             (4, 'octo/api', 'workflow_run', 77, NULL, $2, $2, 'complete', 1, 1, 1, 1, NULL)`, t0, t0.Add(time.Minute))
	exec(`SELECT setval('scans_id_seq', 4)`) // as the release's own inserts would have left it
	exec(`INSERT INTO artifacts (id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
	        first_seen_at, last_seen_at, gone_at, last_scan_id)
	      VALUES (5, 'octo/api', 'n5', 'build', 100, 'u', 'a', false, $1, $1, NULL, 1),
	             (7, 'octo/api', 'n7', 'build', 200, 'u', 'a', true, $1, $1, NULL, 1),
	             (9, 'octo/api', 'n9', 'logs', 300, 'u', 'a', false, $1, $1, $1, 1)`, t0)
	before := runSummary(t, st)

	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrating from 0004: %v", err)
	}
	if diff := cmp.Diff(before, runSummary(t, st)); diff != "" {
		t.Errorf("run_summary changed by the upgrade (-before +after):\n%s", diff)
	}
	for id, want := range map[int64]struct {
		mode   store.ScanMode
		costed int
	}{1: {store.ScanFull, 1}, 2: {store.ScanFull, 1}, 3: {"", 4}, 4: {"", 1}} {
		sc, err := st.Scan(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Mode != want.mode || sc.Costed != want.costed {
			t.Errorf("scan %d: mode %q, costed %d; want %q, %d", id, sc.Mode, sc.Costed, want.mode, want.costed)
		}
	}
	states, err := st.ScanStates(ctx, []artifact.Repository{"octo/api", "octo/web", "octo/new"})
	if err != nil {
		t.Fatal(err)
	}
	done := t0.Add(time.Minute)
	want := map[artifact.Repository]store.ScanState{
		// The gone artifact's id counts as seen; the expired one is live.
		"octo/api": {Repository: "octo/api", Known: true, MaxArtifactID: 9, LastFullScanAt: done, LastCompleteAt: done, Live: 2},
		"octo/web": {Repository: "octo/web"}, // its latest scan failed
		"octo/new": {Repository: "octo/new"},
	}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("scan state after the upgrade (-want +got):\n%s", diff)
	}
	rq, err := st.RunRequestsOf(ctx, 1)
	if err != nil || rq != (store.RunRequests{}) {
		t.Errorf("an old run's requests: %+v, %v", rq, err)
	}

	// The first scan after the upgrade: page 1 lists the two live artifacts
	// and a new one, and reconciles.
	id, err := st.StartScan(ctx, store.NewScan{Repository: "octo/api", Kind: store.ScanKindRepository, StartedAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	page := []artifact.Artifact{
		{ID: 11, Repository: "octo/api", NodeID: "n11", Name: "build", SizeInBytes: 50, URL: "u", ArchiveDownloadURL: "a"},
		{ID: 7, Repository: "octo/api", NodeID: "n7", Name: "build", SizeInBytes: 200, URL: "u", ArchiveDownloadURL: "a", Expired: true},
		{ID: 5, Repository: "octo/api", NodeID: "n5", Name: "build", SizeInBytes: 100, URL: "u", ArchiveDownloadURL: "a"},
	}
	if err := st.StageArtifacts(ctx, id, t0.Add(time.Hour), page); err != nil {
		t.Fatal(err)
	}
	counts, rec, err := st.CompleteIncrementalScan(ctx, id, store.ScanResult{
		Pages: 1, Requests: 1, Costed: 1, TotalCount: 3, FinishedAt: t0.Add(time.Hour),
		Mode: store.ScanIncremental, FirstPage: store.FirstPage{ETag: `W/"abc"`, TotalCount: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.OK || counts.New != 1 || rec.Live != 3 || rec.LiveBytes != 350 {
		t.Errorf("incremental scan after the upgrade: %+v, %+v", rec, counts)
	}
	s, err := st.ScanStateOf(ctx, "octo/api")
	if err != nil {
		t.Fatal(err)
	}
	if s.ETag != `W/"abc"` || s.ETagTotal != 3 || s.MaxArtifactID != 11 || !s.LastFullScanAt.Equal(done) || !s.LastCompleteAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("state after the incremental scan: %+v", s)
	}
}
