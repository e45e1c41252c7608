package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// at returns t0 plus sec seconds.
func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// fullArtifact returns an artifact of repo with every field set.
func fullArtifact(repo artifact.Repository, id int64) artifact.Artifact {
	return artifact.Artifact{
		ID:                 id,
		Repository:         repo,
		NodeID:             fmt.Sprintf("MDg6QXJ0aWZhY3Q%d", id),
		Name:               fmt.Sprintf("build-%d", id),
		SizeInBytes:        1000 + id,
		URL:                fmt.Sprintf("https://api.github.com/repos/%s/actions/artifacts/%d", repo, id),
		ArchiveDownloadURL: fmt.Sprintf("https://api.github.com/repos/%s/actions/artifacts/%d/zip", repo, id),
		Expired:            false,
		CreatedAt:          t0.Add(-time.Duration(id) * time.Hour),
		ExpiresAt:          t0.Add(90*24*time.Hour - time.Duration(id)*time.Hour),
		UpdatedAt:          t0.Add(-time.Duration(id) * time.Hour),
		Digest:             fmt.Sprintf("sha256:%064x", id),
		WorkflowRunID:      500 + id,
		RepositoryID:       42,
		HeadRepositoryID:   43,
		Branch:             "main",
		HeadSHA:            fmt.Sprintf("%040x", id),
	}
}

// artifacts returns full artifacts of repo with ids from..to inclusive.
func artifacts(repo artifact.Repository, from, to int64) []artifact.Artifact {
	var arts []artifact.Artifact
	for id := from; id <= to; id++ {
		arts = append(arts, fullArtifact(repo, id))
	}
	return arts
}

func startScan(t *testing.T, st *store.Store, repo artifact.Repository, kind store.ScanKind, workflowRunID int64, startedAt time.Time) int64 {
	t.Helper()
	id, err := st.StartScan(context.Background(), store.NewScan{Repository: repo, Kind: kind, WorkflowRunID: workflowRunID, StartedAt: startedAt})
	if err != nil {
		t.Fatalf("StartScan: %v", err)
	}
	return id
}

func stage(t *testing.T, st *store.Store, scanID int64, seenAt time.Time, arts []artifact.Artifact) {
	t.Helper()
	if err := st.StageArtifacts(context.Background(), scanID, seenAt, arts); err != nil {
		t.Fatalf("StageArtifacts: %v", err)
	}
}

func complete(t *testing.T, st *store.Store, scanID int64, r store.ScanResult) store.ScanCounts {
	t.Helper()
	counts, err := st.CompleteScan(context.Background(), scanID, r)
	if err != nil {
		t.Fatalf("CompleteScan: %v", err)
	}
	return counts
}

// scanRepository runs a whole repository scan that lists arts in one page.
func scanRepository(t *testing.T, st *store.Store, repo artifact.Repository, startedAt, seenAt, finishedAt time.Time, arts []artifact.Artifact) (int64, store.ScanCounts) {
	t.Helper()
	id := startScan(t, st, repo, store.ScanKindRepository, 0, startedAt)
	stage(t, st, id, seenAt, arts)
	return id, complete(t, st, id, store.ScanResult{Pages: 1, Requests: 1, TotalCount: len(arts), FinishedAt: finishedAt})
}

func stagedRows(t *testing.T, st *store.Store, scanID int64) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM scan_artifacts WHERE scan_id = $1`, scanID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func liveIDs(t *testing.T, st *store.Store, repo artifact.Repository) []int64 {
	t.Helper()
	arts, err := st.LiveArtifacts(context.Background(), repo)
	if err != nil {
		t.Fatalf("LiveArtifacts: %v", err)
	}
	ids := []int64{}
	for _, a := range arts {
		ids = append(ids, a.ID)
	}
	return ids
}

func storedArtifact(t *testing.T, st *store.Store, id int64) store.StoredArtifact {
	t.Helper()
	a, err := st.Artifact(context.Background(), id)
	if err != nil {
		t.Fatalf("Artifact(%d): %v", id, err)
	}
	return a
}

// snapshot returns every artifacts row as text, with the id of the
// transaction that last wrote it, so that even a no-op rewrite shows.
func snapshot(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT a.xmin::text || ' ' || a::text FROM artifacts AS a ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRepositoryScanStagesPagesThenMerges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	const repo = "octo/app"
	id := startScan(t, st, repo, store.ScanKindRepository, 0, at(0))

	stage(t, st, id, at(1), artifacts(repo, 151, 250))
	// An artifact created mid-listing shifts the pages: 151 shows up again
	// on page 2, and must be counted once.
	stage(t, st, id, at(2), append(artifacts(repo, 151, 151), artifacts(repo, 51, 150)...))
	stage(t, st, id, at(3), artifacts(repo, 1, 50))
	if got := liveIDs(t, st, repo); len(got) != 0 {
		t.Fatalf("artifacts visible before the scan completed: %v", got)
	}

	counts := complete(t, st, id, store.ScanResult{Pages: 3, Requests: 4, TotalCount: 250, FinishedAt: at(4)})
	if diff := cmp.Diff(store.ScanCounts{Seen: 250, New: 250}, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	got, err := st.LiveArtifacts(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	want := artifacts(repo, 1, 250)
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("live artifacts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(store.StoredArtifact{
		Artifact: fullArtifact(repo, 151), FirstSeenAt: at(2), LastSeenAt: at(2), LastScanID: id,
	}, storedArtifact(t, st, 151)); diff != "" {
		t.Errorf("artifact 151, seen on two pages (-want +got):\n%s", diff)
	}

	sc, err := st.Scan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Scan{
		ID: id, Repository: repo, Kind: store.ScanKindRepository, StartedAt: at(0), FinishedAt: at(4),
		Status: store.ScanComplete, Pages: 3, Requests: 4, TotalCount: 250, Counts: counts, Mode: store.ScanFull,
	}, sc); diff != "" {
		t.Errorf("scan row (-want +got):\n%s", diff)
	}
	if n := stagedRows(t, st, id); n != 0 {
		t.Errorf("%d staging rows left after completion", n)
	}
}

func TestRescanUpdatesFieldsMarksGoneAndRevives(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	const repo = "octo/app"
	scan1, _ := scanRepository(t, st, repo, at(0), at(1), at(2), artifacts(repo, 1, 3))

	changed := fullArtifact(repo, 1)
	changed.Expired = true
	changed.Name = "renamed"
	changed.SizeInBytes = 7
	changed.Digest = ""
	scan2, counts := scanRepository(t, st, repo, at(10), at(11), at(12), []artifact.Artifact{changed, fullArtifact(repo, 2)})
	if diff := cmp.Diff(store.ScanCounts{Seen: 2, New: 0, Gone: 1}, counts); diff != "" {
		t.Errorf("rescan counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{2, 1}, liveIDs(t, st, repo)); diff != "" {
		t.Errorf("live ids after rescan (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(store.StoredArtifact{
		Artifact: changed, FirstSeenAt: at(1), LastSeenAt: at(11), LastScanID: scan2,
	}, storedArtifact(t, st, 1)); diff != "" {
		t.Errorf("updated artifact (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(store.StoredArtifact{
		Artifact: fullArtifact(repo, 3), FirstSeenAt: at(1), LastSeenAt: at(1), GoneAt: at(12), LastScanID: scan1,
	}, storedArtifact(t, st, 3)); diff != "" {
		t.Errorf("artifact missing from the rescan (-want +got):\n%s", diff)
	}

	scan3, counts := scanRepository(t, st, repo, at(20), at(21), at(22), artifacts(repo, 1, 3))
	if diff := cmp.Diff(store.ScanCounts{Seen: 3}, counts); diff != "" {
		t.Errorf("third scan counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(store.StoredArtifact{
		Artifact: fullArtifact(repo, 3), FirstSeenAt: at(1), LastSeenAt: at(21), LastScanID: scan3,
	}, storedArtifact(t, st, 3)); diff != "" {
		t.Errorf("artifact seen again after gone (-want +got):\n%s", diff)
	}
}

func TestRepositoryScanOnlyMarksItsOwnRepositoryGone(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	scanRepository(t, st, "octo/a", at(0), at(1), at(2), artifacts("octo/a", 1, 2))
	scanRepository(t, st, "octo/b", at(0), at(1), at(2), artifacts("octo/b", 11, 12))
	_, counts := scanRepository(t, st, "octo/a", at(10), at(11), at(12), nil)
	if diff := cmp.Diff(store.ScanCounts{Gone: 2}, counts); diff != "" {
		t.Errorf("empty rescan of octo/a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{12, 11}, liveIDs(t, st, "octo/b")); diff != "" {
		t.Errorf("octo/b live ids (-want +got):\n%s", diff)
	}
}

func TestFailedScanLeavesArtifactsUntouched(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	const repo = "octo/app"
	scanRepository(t, st, repo, at(0), at(1), at(2), artifacts(repo, 1, 5))
	before := snapshot(t, st)

	id := startScan(t, st, repo, store.ScanKindRepository, 0, at(10))
	changed := fullArtifact(repo, 1)
	changed.Expired = true
	stage(t, st, id, at(11), []artifact.Artifact{changed, fullArtifact(repo, 6)})
	cause := errors.New("listing artifacts of octo/app page 2: 502 Bad Gateway")
	if err := st.FailScan(ctx, id, store.ScanResult{Pages: 1, Requests: 3, TotalCount: 6, FinishedAt: at(12)}, cause); err != nil {
		t.Fatalf("FailScan: %v", err)
	}

	if diff := cmp.Diff(before, snapshot(t, st)); diff != "" {
		t.Errorf("artifacts changed by a failed scan (-before +after):\n%s", diff)
	}
	if n := stagedRows(t, st, id); n != 0 {
		t.Errorf("%d staging rows left after failure", n)
	}
	sc, err := st.Scan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Scan{
		ID: id, Repository: repo, Kind: store.ScanKindRepository, StartedAt: at(10), FinishedAt: at(12),
		Status: store.ScanFailed, Pages: 1, Requests: 3, TotalCount: 6, Error: cause.Error(),
	}, sc); diff != "" {
		t.Errorf("failed scan row (-want +got):\n%s", diff)
	}

	if _, err := st.CompleteScan(ctx, id, store.ScanResult{FinishedAt: at(13)}); !errors.Is(err, store.ErrScanNotRunning) {
		t.Errorf("CompleteScan of a failed scan: got %v, want ErrScanNotRunning", err)
	}
	if err := st.FailScan(ctx, id, store.ScanResult{FinishedAt: at(13)}, cause); !errors.Is(err, store.ErrScanNotRunning) {
		t.Errorf("FailScan of a failed scan: got %v, want ErrScanNotRunning", err)
	}
	if diff := cmp.Diff(before, snapshot(t, st)); diff != "" {
		t.Errorf("artifacts changed by a refused CompleteScan (-before +after):\n%s", diff)
	}
}

// TestRunScopedUpsertDuringRepositoryScan covers an artifact created while a
// repository scan was listing: the listing never saw it, but a run-scoped
// scan did, so the repository scan must not mark it gone.
func TestRunScopedUpsertDuringRepositoryScan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	const repo = "octo/app"
	scanRepository(t, st, repo, at(0), at(1), at(2), artifacts(repo, 1, 3))

	repoScan := startScan(t, st, repo, store.ScanKindRepository, 0, at(10))
	stage(t, st, repoScan, at(11), artifacts(repo, 2, 3)) // 1 was deleted on GitHub

	runScan := startScan(t, st, repo, store.ScanKindWorkflowRun, 900, at(12))
	counts, err := st.UpsertArtifacts(ctx, runScan, at(13), artifacts(repo, 3, 4))
	if err != nil {
		t.Fatalf("UpsertArtifacts: %v", err)
	}
	if diff := cmp.Diff(store.ScanCounts{Seen: 2, New: 1}, counts); diff != "" {
		t.Errorf("UpsertArtifacts counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{4, 3, 2, 1}, liveIDs(t, st, repo)); diff != "" {
		t.Errorf("live ids right after the run-scoped upsert (-want +got):\n%s", diff)
	}
	runCounts := complete(t, st, runScan, store.ScanResult{Pages: 1, Requests: 1, TotalCount: 2, FinishedAt: at(14)})
	if diff := cmp.Diff(store.ScanCounts{Seen: 2, New: 1}, runCounts); diff != "" {
		t.Errorf("run-scoped scan counts (-want +got):\n%s", diff)
	}

	repoCounts := complete(t, st, repoScan, store.ScanResult{Pages: 1, Requests: 1, TotalCount: 2, FinishedAt: at(15)})
	if diff := cmp.Diff(store.ScanCounts{Seen: 2, New: 0, Gone: 1}, repoCounts); diff != "" {
		t.Errorf("repository scan counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{4, 3, 2}, liveIDs(t, st, repo)); diff != "" {
		t.Errorf("live ids after the repository scan (-want +got):\n%s", diff)
	}
	// The repository scan saw 3 at 11, before the run-scoped scan did at 13:
	// the older sighting must not win.
	if got := storedArtifact(t, st, 3); !got.LastSeenAt.Equal(at(13)) || got.LastScanID != runScan {
		t.Errorf("artifact 3 last seen at %v by scan %d, want %v by the run-scoped scan %d", got.LastSeenAt, got.LastScanID, at(13), runScan)
	}
}

// TestLateRepositoryScanDoesNotResurrect has a slow scan complete after a
// newer one found an artifact gone; its older sighting must not revive it.
func TestLateRepositoryScanDoesNotResurrect(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	const repo = "octo/app"
	scanRepository(t, st, repo, at(0), at(1), at(2), artifacts(repo, 1, 2))

	slow := startScan(t, st, repo, store.ScanKindRepository, 0, at(10))
	stage(t, st, slow, at(11), artifacts(repo, 1, 2))
	scanRepository(t, st, repo, at(20), at(21), at(22), artifacts(repo, 1, 1))
	counts := complete(t, st, slow, store.ScanResult{Pages: 1, Requests: 1, TotalCount: 2, FinishedAt: at(30)})

	if diff := cmp.Diff(store.ScanCounts{Seen: 2}, counts); diff != "" {
		t.Errorf("slow scan counts (-want +got):\n%s", diff)
	}
	if got := storedArtifact(t, st, 2); !got.GoneAt.Equal(at(22)) {
		t.Errorf("artifact 2 gone_at = %v, want %v (a stale sighting revived it)", got.GoneAt, at(22))
	}
	if got := storedArtifact(t, st, 1); !got.LastSeenAt.Equal(at(21)) {
		t.Errorf("artifact 1 last_seen_at = %v, want %v (a stale sighting overwrote it)", got.LastSeenAt, at(21))
	}
}

func TestNullFieldsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	const repo = "octo/app"
	tests := []struct {
		name string
		art  artifact.Artifact
	}{
		{name: "every field set", art: fullArtifact(repo, 1)},
		{name: "only required fields", art: artifact.Artifact{
			ID: 2, Repository: repo, NodeID: "n2", Name: "logs", SizeInBytes: 0,
			URL: "https://api.github.com/x/2", ArchiveDownloadURL: "https://api.github.com/x/2/zip", Expired: true,
		}},
		{name: "workflow run without branch", art: artifact.Artifact{
			ID: 3, Repository: repo, NodeID: "n3", Name: "logs", SizeInBytes: 1 << 40,
			URL: "u", ArchiveDownloadURL: "z", CreatedAt: at(-5), WorkflowRunID: 9, RepositoryID: 8, HeadSHA: "abc",
		}},
	}
	var arts []artifact.Artifact
	for _, tc := range tests {
		arts = append(arts, tc.art)
	}
	scanRepository(t, st, repo, at(0), at(1), at(2), arts)
	live, err := st.LiveArtifacts(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.art, storedArtifact(t, st, tc.art.ID).Artifact); diff != "" {
				t.Errorf("Artifact (-stored +loaded):\n%s", diff)
			}
			for _, a := range live {
				if a.ID == tc.art.ID {
					if diff := cmp.Diff(tc.art, a); diff != "" {
						t.Errorf("LiveArtifacts (-stored +loaded):\n%s", diff)
					}
				}
			}
		})
	}
	var nulls int
	err = st.Pool().QueryRow(ctx, `SELECT num_nulls(created_at, expires_at, updated_at, digest, workflow_run_id,
		repository_id, head_repository_id, branch, head_sha) FROM artifacts WHERE id = 2`).Scan(&nulls)
	if err != nil {
		t.Fatal(err)
	}
	if nulls != 9 {
		t.Errorf("artifact 2 stored %d NULLs, want 9 (zero values must be NULL in the database)", nulls)
	}
}

func TestStartScanValidates(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	tests := []struct {
		name string
		scan store.NewScan
	}{
		{name: "not owner/name", scan: store.NewScan{Repository: "octo", Kind: store.ScanKindRepository, StartedAt: t0}},
		{name: "unknown kind", scan: store.NewScan{Repository: "octo/app", Kind: "org", StartedAt: t0}},
		{name: "workflow_run without run id", scan: store.NewScan{Repository: "octo/app", Kind: store.ScanKindWorkflowRun, StartedAt: t0}},
		{name: "repository with run id", scan: store.NewScan{Repository: "octo/app", Kind: store.ScanKindRepository, WorkflowRunID: 4, StartedAt: t0}},
		{name: "no start time", scan: store.NewScan{Repository: "octo/app", Kind: store.ScanKindRepository}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if id, err := st.StartScan(context.Background(), tc.scan); err == nil {
				t.Errorf("StartScan accepted %+v as scan %d", tc.scan, id)
			}
		})
	}
}

func TestUpsertArtifactsRefusesRepositoryScan(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	id := startScan(t, st, "octo/app", store.ScanKindRepository, 0, t0)
	if _, err := st.UpsertArtifacts(context.Background(), id, at(1), artifacts("octo/app", 1, 1)); err == nil {
		t.Error("UpsertArtifacts accepted a repository scan")
	}
	if got := liveIDs(t, st, "octo/app"); len(got) != 0 {
		t.Errorf("live artifacts after a refused upsert: %v", got)
	}
}

func TestScanReaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	runID, err := st.CreateRun(ctx, store.NewRun{StartedAt: at(0), Trigger: "manual", PolicySHA256: "x"})
	if err != nil {
		t.Fatal(err)
	}
	scanRepository(t, st, "octo/a", at(0), at(1), at(2), nil)
	latestA, _ := scanRepository(t, st, "octo/a", at(10), at(11), at(12), nil)
	runScoped := startScan(t, st, "octo/a", store.ScanKindWorkflowRun, 5, at(20))
	latestB, err := st.StartScan(ctx, store.NewScan{Repository: "octo/b", Kind: store.ScanKindRepository, RunID: &runID, StartedAt: at(5)})
	if err != nil {
		t.Fatal(err)
	}

	latest, err := st.LatestScans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Scan{
		{ID: latestA, Repository: "octo/a", Kind: store.ScanKindRepository, StartedAt: at(10), FinishedAt: at(12),
			Status: store.ScanComplete, Pages: 1, Requests: 1, Mode: store.ScanFull},
		{ID: latestB, Repository: "octo/b", Kind: store.ScanKindRepository, RunID: &runID, StartedAt: at(5), Status: store.ScanRunning},
	}
	if diff := cmp.Diff(want, latest); diff != "" {
		t.Errorf("LatestScans (-want +got):\n%s", diff)
	}

	got, err := st.LatestScan(ctx, "octo/a", store.ScanKindWorkflowRun)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != runScoped || got.WorkflowRunID != 5 {
		t.Errorf("LatestScan(workflow_run) = scan %d of run %d, want scan %d of run 5", got.ID, got.WorkflowRunID, runScoped)
	}
	if _, err := st.LatestScan(ctx, "octo/c", store.ScanKindRepository); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestScan of an unscanned repository: got %v, want ErrNotFound", err)
	}
	if _, err := st.Scan(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Scan(999999): got %v, want ErrNotFound", err)
	}
	if _, err := st.Artifact(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Artifact(999999): got %v, want ErrNotFound", err)
	}
	if _, err := st.CompleteScan(ctx, 999999, store.ScanResult{FinishedAt: at(1)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteScan(999999): got %v, want ErrNotFound", err)
	}
}

func TestAbandonScans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	old := startScan(t, st, "octo/a", store.ScanKindRepository, 0, at(0))
	stage(t, st, old, at(1), artifacts("octo/a", 1, 3))
	recent := startScan(t, st, "octo/b", store.ScanKindRepository, 0, at(100))
	stage(t, st, recent, at(101), artifacts("octo/b", 11, 13))
	ended, _ := scanRepository(t, st, "octo/c", at(100), at(101), at(102), nil)
	stage(t, st, ended, at(103), artifacts("octo/c", 21, 22)) // a late page, after completion

	n, err := st.AbandonScans(ctx, at(50), at(200))
	if err != nil {
		t.Fatalf("AbandonScans: %v", err)
	}
	if n != 1 {
		t.Errorf("AbandonScans failed %d scans, want 1", n)
	}
	if sc, err := st.Scan(ctx, old); err != nil || sc.Status != store.ScanFailed || !sc.FinishedAt.Equal(at(200)) {
		t.Errorf("old scan = %+v, %v; want failed at %v", sc, err, at(200))
	}
	if n := stagedRows(t, st, old); n != 0 {
		t.Errorf("old scan kept %d staging rows", n)
	}
	if sc, err := st.Scan(ctx, recent); err != nil || sc.Status != store.ScanRunning {
		t.Errorf("recent scan = %+v, %v; want still running", sc, err)
	}
	if n := stagedRows(t, st, ended); n != 0 {
		t.Errorf("ended scan kept %d staging rows", n)
	}
	if n := stagedRows(t, st, recent); n != 3 {
		t.Errorf("recent scan has %d staging rows, want 3", n)
	}
}
