package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/retentiond/retentiond/internal/artifact"
)

// ScanMode says how a repository scan listed (scans.mode).
type ScanMode string

// The modes of a repository scan. Only a full scan marks artifacts gone.
const (
	// ScanFull read every page of the listing.
	ScanFull ScanMode = "full"
	// ScanIncremental read pages newest first until it reached known
	// artifact ids, and reconciled GitHub's total_count with the database.
	ScanIncremental ScanMode = "incremental"
	// ScanNotModified got a 304 for page 1: nothing changed.
	ScanNotModified ScanMode = "not_modified"
)

// FirstPage is what page 1 of a repository's listing answered: its ETag (""
// when GitHub sent none) and its total_count.
type FirstPage struct {
	ETag       string
	TotalCount int
}

// ScanState is what a repository's scans have learned (the scan_state table,
// see migrations/0007_incremental_scans.sql), with the live count the next
// scan reconciles against.
type ScanState struct {
	Repository artifact.Repository
	// Known is false when no repository scan of it has completed: the next
	// scan must be full.
	Known bool
	// ETag is page 1's ETag as of the latest complete scan that could vouch
	// for it, and ETagTotal the total_count it came with; "" and 0 when none.
	ETag      string
	ETagTotal int
	// MaxArtifactID is the highest artifact id a repository scan listed.
	MaxArtifactID  int64
	LastFullScanAt time.Time
	LastCompleteAt time.Time
	// Live is how many of its artifacts the database holds as not gone,
	// counted now, whether or not the state is Known.
	Live int
}

// Reconciliation compares what an incremental or not-modified scan saw with
// the database, after merging what it listed. OK means the scan proved the
// database holds the repository's whole listing.
type Reconciliation struct {
	OK bool
	// Total is GitHub's total_count; Live the database's live artifacts,
	// and LiveBytes their size.
	Total, Live int
	LiveBytes   int64
	// Listed is the distinct artifacts the scan read; WindowLive the live
	// artifacts in the database with an id at or above the lowest of them,
	// which must be exactly those.
	Listed, WindowLive int
}

// String says what did not match, for logs.
func (r Reconciliation) String() string {
	switch {
	case r.OK:
		return "reconciled"
	case r.Total != r.Live:
		return fmt.Sprintf("GitHub counts %d artifacts, the database %d live", r.Total, r.Live)
	default:
		return fmt.Sprintf("the pages read list %d artifacts, the database holds %d live in the same id range", r.Listed, r.WindowLive)
	}
}

// errNotReconciled rolls back a completion whose reconciliation failed.
var errNotReconciled = errors.New("not reconciled")

// ScanStates returns the scan state of each of repos, keyed by repository;
// every one of repos has an entry (Known false when it has no state).
func (s *Store) ScanStates(ctx context.Context, repos []artifact.Repository) (map[artifact.Repository]ScanState, error) {
	names := make([]string, len(repos))
	for i, r := range repos {
		names[i] = string(r)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT r.repository, st.repository IS NOT NULL, st.etag, st.etag_total_count, st.max_artifact_id,
		       st.last_full_scan_at, st.last_complete_at,
		       (SELECT count(*) FROM artifacts a WHERE a.repository = r.repository AND a.gone_at IS NULL)
		FROM unnest($1::text[]) AS r(repository)
		LEFT JOIN scan_state st ON st.repository = r.repository`, names)
	if err != nil {
		return nil, fmt.Errorf("store: loading the scan state of %d repositories: %w", len(repos), err)
	}
	out := make(map[artifact.Repository]ScanState, len(repos))
	var (
		st             ScanState
		etag           pgtype.Text
		total          pgtype.Int4
		maxID          pgtype.Int8
		lastFull, last pgtype.Timestamptz
		live           int64
	)
	_, err = pgx.ForEachRow(rows, []any{&st.Repository, &st.Known, &etag, &total, &maxID, &lastFull, &last, &live}, func() error {
		st.ETag, st.ETagTotal, st.MaxArtifactID = etag.String, int(total.Int32), maxID.Int64
		st.LastFullScanAt, st.LastCompleteAt, st.Live = timeOf(lastFull), timeOf(last), int(live)
		out[st.Repository] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: loading the scan state of %d repositories: %w", len(repos), err)
	}
	return out, nil
}

// ScanStateOf returns repo's scan state.
func (s *Store) ScanStateOf(ctx context.Context, repo artifact.Repository) (ScanState, error) {
	m, err := s.ScanStates(ctx, []artifact.Repository{repo})
	if err != nil {
		return ScanState{}, err
	}
	return m[repo], nil
}

// CompleteIncrementalScan ends a running repository scan that read pages
// newest first down to known artifact ids, if it reconciles: in one
// transaction it merges the staged artifacts into artifacts, then checks that
// the live artifacts now number GitHub's total_count (r.TotalCount) and that
// those with an id at or above the lowest one listed are exactly the ones
// listed. If so, it marks the scan complete (mode incremental; nothing is
// marked gone) and updates scan_state. If not, it rolls everything back and
// leaves the scan running with its staged rows, so the caller can go on to
// list the remaining pages and complete it as a full scan.
func (s *Store) CompleteIncrementalScan(ctx context.Context, scanID int64, r ScanResult) (ScanCounts, Reconciliation, error) {
	if r.FinishedAt.IsZero() {
		return ScanCounts{}, Reconciliation{}, fmt.Errorf("store: completing scan %d: FinishedAt is required", scanID)
	}
	var (
		counts ScanCounts
		rec    Reconciliation
	)
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		sc, err := lockRunningScan(ctx, tx, scanID)
		if err != nil {
			return err
		}
		if sc.Kind != ScanKindRepository {
			return fmt.Errorf("a %s scan cannot be incremental", sc.Kind)
		}
		seen, inserted, err := mergeStaged(ctx, tx, scanID, sc.Repository)
		if err != nil {
			return err
		}
		counts = ScanCounts{Seen: sc.Counts.Seen + seen, New: sc.Counts.New + inserted}
		var live, window, listed, bytes int64
		err = tx.QueryRow(ctx, `
			WITH listed AS (SELECT count(DISTINCT id) AS n, min(id) AS lo FROM scan_artifacts WHERE scan_id = $2),
			     live AS (SELECT count(*) AS n, coalesce(sum(size_in_bytes), 0)::bigint AS bytes
			              FROM artifacts WHERE repository = $1 AND gone_at IS NULL)
			SELECT live.n, live.bytes,
			       (SELECT count(*) FROM artifacts, listed WHERE repository = $1 AND gone_at IS NULL AND id >= listed.lo),
			       (SELECT n FROM listed)
			FROM live`, sc.Repository, scanID).Scan(&live, &bytes, &window, &listed)
		if err != nil {
			return fmt.Errorf("reconciling: %w", err)
		}
		rec = Reconciliation{Total: r.TotalCount, Live: int(live), LiveBytes: bytes, Listed: int(listed), WindowLive: int(window)}
		if rec.Total != rec.Live || rec.Listed != rec.WindowLive {
			return errNotReconciled
		}
		rec.OK = true
		if err := saveScanState(ctx, tx, sc, r, false); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM scan_artifacts WHERE scan_id = $1`, scanID); err != nil {
			return fmt.Errorf("deleting staged artifacts: %w", err)
		}
		return finishReconciled(ctx, tx, scanID, r, ScanIncremental, r.TotalCount, counts)
	})
	if errors.Is(err, errNotReconciled) {
		return ScanCounts{}, rec, nil
	}
	if err != nil {
		return ScanCounts{}, rec, fmt.Errorf("store: completing incremental scan %d: %w", scanID, err)
	}
	return counts, rec, nil
}

// CompleteNotModifiedScan ends a running repository scan whose conditional
// request for page 1 got a 304, if it reconciles: the ETag it sent is the
// one scan_state holds, and the live artifacts in the database still number
// the total_count that ETag came with. If so, the scan is complete (mode
// not_modified) and scan_state records the time. If not — retentiond's own
// view moved while GitHub's did not — nothing changes and the caller must
// list afresh.
func (s *Store) CompleteNotModifiedScan(ctx context.Context, scanID int64, etag string, r ScanResult) (Reconciliation, error) {
	if r.FinishedAt.IsZero() {
		return Reconciliation{}, fmt.Errorf("store: completing scan %d: FinishedAt is required", scanID)
	}
	var rec Reconciliation
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		sc, err := lockRunningScan(ctx, tx, scanID)
		if err != nil {
			return err
		}
		if sc.Kind != ScanKindRepository {
			return fmt.Errorf("a %s scan cannot be not-modified", sc.Kind)
		}
		var (
			stored      pgtype.Text
			total       pgtype.Int4
			live, bytes int64
		)
		err = tx.QueryRow(ctx, `
			SELECT st.etag, st.etag_total_count, live.n, live.bytes
			FROM scan_state st,
			     (SELECT count(*) AS n, coalesce(sum(size_in_bytes), 0)::bigint AS bytes
			      FROM artifacts WHERE repository = $1 AND gone_at IS NULL) live
			WHERE st.repository = $1 FOR UPDATE OF st`, sc.Repository).Scan(&stored, &total, &live, &bytes)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotReconciled
		}
		if err != nil {
			return fmt.Errorf("reconciling: %w", err)
		}
		rec = Reconciliation{Total: int(total.Int32), Live: int(live), LiveBytes: bytes}
		if !stored.Valid || stored.String != etag || rec.Total != rec.Live {
			return errNotReconciled
		}
		rec.OK = true
		if _, err := tx.Exec(ctx, `UPDATE scan_state SET last_complete_at = $2, updated_at = $2 WHERE repository = $1`,
			sc.Repository, r.FinishedAt); err != nil {
			return fmt.Errorf("recording the scan state: %w", err)
		}
		return finishReconciled(ctx, tx, scanID, r, ScanNotModified, rec.Total, ScanCounts{})
	})
	if errors.Is(err, errNotReconciled) {
		return rec, nil
	}
	if err != nil {
		return rec, fmt.Errorf("store: completing not-modified scan %d: %w", scanID, err)
	}
	return rec, nil
}

// finishReconciled marks a reconciled scan complete with its result.
func finishReconciled(ctx context.Context, tx pgx.Tx, scanID int64, r ScanResult, mode ScanMode, total int, counts ScanCounts) error {
	_, err := tx.Exec(ctx,
		`UPDATE scans SET status = 'complete', finished_at = $2, pages = $3, requests = $4, total_count = $5,
		        artifacts_seen = $6, artifacts_new = $7, artifacts_gone = 0, mode = $8, costed_requests = $9
		 WHERE id = $1`,
		scanID, r.FinishedAt, r.Pages, r.Requests, total, counts.Seen, counts.New, mode, r.Costed)
	if err != nil {
		return fmt.Errorf("recording the result: %w", err)
	}
	return nil
}

// saveScanState records what a complete repository scan learned, before its
// staged rows are deleted: page 1's ETag, but only when the live artifacts
// the database now holds number what page 1 counted (otherwise a later 304
// could not vouch for them), the highest id listed, and the times.
func saveScanState(ctx context.Context, tx pgx.Tx, sc Scan, r ScanResult, full bool) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO scan_state AS st (repository, etag, etag_total_count, max_artifact_id, last_full_scan_at, last_complete_at, updated_at)
		SELECT $1,
		       CASE WHEN $2::text <> '' AND live.n = $3 THEN $2::text END,
		       CASE WHEN $2::text <> '' AND live.n = $3 THEN $3::int END,
		       coalesce(listed.hi, 0),
		       CASE WHEN $6 THEN $4::timestamptz END, $4, $4
		FROM (SELECT count(*) AS n FROM artifacts WHERE repository = $1 AND gone_at IS NULL) live,
		     (SELECT max(id) AS hi FROM scan_artifacts WHERE scan_id = $5) listed
		ON CONFLICT (repository) DO UPDATE SET
		       etag = EXCLUDED.etag, etag_total_count = EXCLUDED.etag_total_count,
		       max_artifact_id = greatest(st.max_artifact_id, EXCLUDED.max_artifact_id),
		       last_full_scan_at = coalesce(EXCLUDED.last_full_scan_at, st.last_full_scan_at),
		       last_complete_at = EXCLUDED.last_complete_at, updated_at = EXCLUDED.updated_at`,
		sc.Repository, r.FirstPage.ETag, r.FirstPage.TotalCount, r.FinishedAt, sc.ID, full)
	if err != nil {
		return fmt.Errorf("recording the scan state: %w", err)
	}
	return nil
}
