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

func TestRecordRepositoriesRelinksARename(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	seen, err := st.RecordRepositories(ctx, []store.DiscoveredRepository{
		{ID: 11, FullName: "acme/old"}, {ID: 12, FullName: "acme/web", Fork: true},
	}, t0)
	if err != nil || len(seen) != 0 {
		t.Fatalf("first listing: renames %v, %v", seen, err)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := st.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Two artifacts of the old name's repository (one without a workflow
	// run), one of another repository that took the name since, and a
	// complete scan of the old name.
	exec(`INSERT INTO artifacts (id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
	        first_seen_at, last_seen_at, repository_id)
	      VALUES (1, 'acme/old', 'n', 'a', 1, 'u', 'd', false, $1, $1, 11),
	             (2, 'acme/old', 'n', 'b', 1, 'u', 'd', false, $1, $1, NULL),
	             (3, 'acme/old', 'n', 'c', 1, 'u', 'd', false, $1, $1, 99)`, t0)
	exec(`INSERT INTO scans (repository, kind, started_at, finished_at, status) VALUES ('acme/old', 'repository', $1, $1, 'complete')`, t0)

	t1 := t0.Add(time.Hour)
	renames, err := st.RecordRepositories(ctx, []store.DiscoveredRepository{
		{ID: 11, FullName: "acme/new", Archived: true}, {ID: 12, FullName: "acme/web", Fork: true},
	}, t1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Rename{{ID: 11, From: "acme/old", To: "acme/new", Artifacts: 2, Scans: 1}}, renames); diff != "" {
		t.Errorf("renames (-want +got):\n%s", diff)
	}
	live, err := st.LiveArtifacts(ctx, "acme/new")
	if err != nil || len(live) != 2 {
		t.Errorf("live artifacts under the new name: %d, %v; want 2", len(live), err)
	}
	if other, _ := st.LiveArtifacts(ctx, "acme/old"); len(other) != 1 || other[0].ID != 3 {
		t.Errorf("the artifact of the repository that took the old name must stay: %+v", other)
	}
	scans, err := st.LatestScans(ctx)
	if err != nil || len(scans) != 1 || scans[0].Repository != "acme/new" {
		t.Errorf("latest scans after the rename: %+v, %v", scans, err)
	}
	known, err := st.KnownRepositories(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.KnownRepository{
		{DiscoveredRepository: store.DiscoveredRepository{ID: 11, FullName: "acme/new", Archived: true}, Owner: "acme",
			FirstSeenAt: t0, LastSeenAt: t1, RenamedFrom: "acme/old", RenamedAt: t1},
		{DiscoveredRepository: store.DiscoveredRepository{ID: 12, FullName: "acme/web", Fork: true}, Owner: "acme",
			FirstSeenAt: t0, LastSeenAt: t1},
	}
	if diff := cmp.Diff(want, known); diff != "" {
		t.Errorf("known repositories (-want +got):\n%s", diff)
	}
	// The same listing again renames nothing.
	if again, err := st.RecordRepositories(ctx, []store.DiscoveredRepository{{ID: 11, FullName: "acme/new"}}, t1.Add(time.Hour)); err != nil || len(again) != 0 {
		t.Errorf("repeated listing: %v, %v", again, err)
	}
}

func TestRunDiscovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	id, err := st.CreateRun(ctx, store.NewRun{StartedAt: time.Now(), Trigger: store.TriggerManual, DryRun: true, PolicySHA256: "x"})
	if err != nil {
		t.Fatal(err)
	}
	d := store.RunDiscovery{Discovered: 7, Archived: 2, Excluded: 1, OwnersFailed: 1}
	if err := st.RecordRunDiscovery(ctx, id, d); err != nil {
		t.Fatal(err)
	}
	got, err := st.RunDiscoveries(ctx, id, id+1)
	if err != nil || !cmp.Equal(got, map[int64]store.RunDiscovery{id: d}) {
		t.Errorf("RunDiscoveries = %v, %v", got, err)
	}
}

// TestUpgradeFrom0004KeepsHistory fills a database at the schema of 0004
// the way that release wrote it, migrates, and checks that old runs read
// the same with zero discovery counts and that discovery works on the old
// artifacts.
func TestUpgradeFrom0004KeepsHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, pgtest.NewEmptyDatabase(t))
	if err := st.MigrateFS(ctx, migrationsUpTo(t, 4)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := st.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO artifacts (id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
	        first_seen_at, last_seen_at, repository_id)
	      VALUES (1, 'octo/api', 'n1', 'build', 100, 'u', 'a', false, $1, $1, 500)`, t0)
	exec(`INSERT INTO runs (id, started_at, finished_at, trigger, dry_run, status, policy_sha256, max_deletions,
	        artifacts_seen, planned_deletions, would_reclaim, expired_listings)
	      VALUES (1, $1, $1, 'manual', true, 'succeeded', 'x', 500, 1, 1, 100, 0)`, t0)
	exec(`INSERT INTO scans (repository, kind, started_at, finished_at, status, run_id) VALUES ('octo/api', 'repository', $1, $1, 'complete', 1)`, t0)
	exec(`INSERT INTO audit_log (run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes,
	        action, rule, reason, outcome, expired)
	      VALUES (1, $1, 'octo/api', 1, 'build', 100, 'delete', 'old', 'matched delete rule old', 'dry_run', false)`, t0)
	before := runSummary(t, st)

	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrating from 0004: %v", err)
	}
	if diff := cmp.Diff(before, runSummary(t, st)); diff != "" {
		t.Errorf("run_summary changed by the upgrade (-before +after):\n%s", diff)
	}
	got, err := st.RunDiscoveries(ctx, 1)
	if err != nil || got[1] != (store.RunDiscovery{}) {
		t.Errorf("discovery of an old run: %+v, %v; want zeros", got, err)
	}
	// The first listing after the upgrade records the repository; a rename
	// after it relinks the artifact that 0004 stored.
	if _, err := st.RecordRepositories(ctx, []store.DiscoveredRepository{{ID: 500, FullName: "octo/api"}}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	renames, err := st.RecordRepositories(ctx, []store.DiscoveredRepository{{ID: 500, FullName: "octo/api-v2"}}, t0.Add(2*time.Hour))
	if err != nil || len(renames) != 1 || renames[0].Artifacts != 1 {
		t.Fatalf("rename after the upgrade: %+v, %v", renames, err)
	}
	if live, _ := st.LiveArtifacts(ctx, artifact.Repository("octo/api-v2")); len(live) != 1 {
		t.Errorf("the old artifact under the new name: %+v", live)
	}
	// The audit log keeps the name each decision was made under.
	var name string
	if err := st.Pool().QueryRow(ctx, `SELECT repository FROM audit_log WHERE artifact_id = 1`).Scan(&name); err != nil || name != "octo/api" {
		t.Errorf("audit row: %q, %v", name, err)
	}
}

func TestOwnerListingRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 123456789, time.UTC)
	if _, ok, err := st.LatestOwnerListing(ctx, "acme"); ok || err != nil {
		t.Fatalf("no listing yet: ok %v, %v", ok, err)
	}
	l := store.OwnerListing{Owner: "acme", User: true, ETags: []string{`W/"a"`, `W/"b"`}, ListedAt: t0}
	if _, err := st.RecordOwnerListing(ctx, l, []store.DiscoveredRepository{{ID: 1, FullName: "acme/a"}, {ID: 2, FullName: "acme/b"}}); err != nil {
		t.Fatal(err)
	}
	// A later listing without acme/b: it stays known but is no longer listed.
	t1 := t0.Add(time.Hour)
	l.ListedAt, l.ETags = t1, nil
	if _, err := st.RecordOwnerListing(ctx, l, []store.DiscoveredRepository{{ID: 1, FullName: "acme/a"}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := st.LatestOwnerListing(ctx, "acme")
	if err != nil || !ok || !got.User || len(got.ETags) != 0 || !got.ListedAt.Equal(t1.Truncate(time.Microsecond)) {
		t.Errorf("latest listing: %+v, %v, %v", got, ok, err)
	}
	listed, err := st.ListedRepositories(ctx, "acme")
	if err != nil || len(listed) != 1 || listed[0].FullName != "acme/a" {
		t.Errorf("listed repositories: %+v, %v; want acme/a alone", listed, err)
	}
	// An unchanged listing moves the listed ones' last_seen_at on, only theirs.
	t2 := t1.Add(time.Hour)
	if err := st.TouchOwnerListing(ctx, "acme", t2); err != nil {
		t.Fatal(err)
	}
	listed, err = st.ListedRepositories(ctx, "acme")
	if err != nil || len(listed) != 1 || !listed[0].LastSeenAt.Equal(t2.Truncate(time.Microsecond)) {
		t.Errorf("after an unchanged listing: %+v, %v", listed, err)
	}
	known, _ := st.KnownRepositories(ctx, "acme")
	if len(known) != 2 || !known[1].LastSeenAt.Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("known repositories: %+v", known)
	}
}
