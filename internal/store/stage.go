package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/artifact"
)

// stagingColumns are scan_artifacts' columns in the order stagingRow fills them.
var stagingColumns = []string{
	"scan_id", "seen_at", "id", "node_id", "name", "size_in_bytes", "url", "archive_download_url", "expired",
	"created_at", "expires_at", "updated_at", "digest",
	"workflow_run_id", "repository_id", "head_repository_id", "branch", "head_sha",
}

// StageArtifacts streams one page of a running scan into the staging table
// with COPY; seenAt is when the page was received. Nothing reaches artifacts
// until CompleteScan. The scan's repository applies to every staged artifact
// (artifact.Artifact.Repository is not read). The same artifact may be staged
// more than once (pages shift while GitHub lists them); the merge keeps its
// latest sighting.
func (s *Store) StageArtifacts(ctx context.Context, scanID int64, seenAt time.Time, arts []artifact.Artifact) error {
	if err := copyStaged(ctx, s.pool, scanID, seenAt, arts); err != nil {
		return fmt.Errorf("store: staging %d artifacts of scan %d: %w", len(arts), scanID, err)
	}
	return nil
}

// UpsertArtifacts writes one page of a run-scoped scan (ScanKindWorkflowRun)
// straight into artifacts, in one transaction, and adds to the scan's counts.
// It never marks anything gone. It returns the counts of this page alone.
func (s *Store) UpsertArtifacts(ctx context.Context, scanID int64, seenAt time.Time, arts []artifact.Artifact) (ScanCounts, error) {
	var counts ScanCounts
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		sc, err := lockRunningScan(ctx, tx, scanID)
		if err != nil {
			return err
		}
		if sc.Kind != ScanKindWorkflowRun {
			return fmt.Errorf("a %s scan must stage its artifacts and complete, not upsert them", sc.Kind)
		}
		// Staging inside the transaction reuses the merge statement; the
		// rows are deleted before commit, so no one else ever sees them.
		if err := copyStaged(ctx, tx, scanID, seenAt, arts); err != nil {
			return err
		}
		seen, inserted, err := mergeStaged(ctx, tx, scanID, sc.Repository)
		if err != nil {
			return err
		}
		counts = ScanCounts{Seen: seen, New: inserted}
		if _, err := tx.Exec(ctx, `DELETE FROM scan_artifacts WHERE scan_id = $1`, scanID); err != nil {
			return fmt.Errorf("deleting staged artifacts: %w", err)
		}
		_, err = tx.Exec(ctx,
			`UPDATE scans SET artifacts_seen = artifacts_seen + $2, artifacts_new = artifacts_new + $3 WHERE id = $1`,
			scanID, seen, inserted)
		if err != nil {
			return fmt.Errorf("counting: %w", err)
		}
		return nil
	})
	if err != nil {
		return ScanCounts{}, fmt.Errorf("store: upserting %d artifacts of scan %d: %w", len(arts), scanID, err)
	}
	return counts, nil
}

// copier is what COPY needs: the pool or a transaction.
type copier interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

func copyStaged(ctx context.Context, db copier, scanID int64, seenAt time.Time, arts []artifact.Artifact) error {
	if len(arts) == 0 {
		return nil
	}
	if seenAt.IsZero() {
		return fmt.Errorf("seenAt is required")
	}
	src := pgx.CopyFromSlice(len(arts), func(i int) ([]any, error) {
		return stagingRow(scanID, seenAt, &arts[i])
	})
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"scan_artifacts"}, stagingColumns, src); err != nil {
		return fmt.Errorf("copying into scan_artifacts: %w", err)
	}
	return nil
}

func stagingRow(scanID int64, seenAt time.Time, a *artifact.Artifact) ([]any, error) {
	if a.ID <= 0 {
		return nil, fmt.Errorf("artifact %q has no id", a.Name)
	}
	return []any{
		scanID, seenAt, a.ID, a.NodeID, a.Name, a.SizeInBytes, a.URL, a.ArchiveDownloadURL, a.Expired,
		nullTime(a.CreatedAt), nullTime(a.ExpiresAt), nullTime(a.UpdatedAt), nullString(a.Digest),
		nullInt(a.WorkflowRunID), nullInt(a.RepositoryID), nullInt(a.HeadRepositoryID),
		nullString(a.Branch), nullString(a.HeadSHA),
	}, nil
}

// mergeSQL upserts the staged artifacts of scan $1 into artifacts under
// repository $2 and returns how many distinct artifacts were staged and how
// many rows were inserted (xmax = 0 only on a freshly inserted row).
//
// An update only applies an observation newer than what the row records: a
// sighting older than the row's last_seen_at would overwrite fresher fields,
// and one older than its gone_at would resurrect an artifact a later scan
// (or the janitor) found gone. Rows are written in id order so that two
// concurrent merges lock them in the same order.
const mergeSQL = `
WITH staged AS MATERIALIZED (
	SELECT DISTINCT ON (id) * FROM scan_artifacts WHERE scan_id = $1 ORDER BY id, seen_at DESC
), upserted AS (
	INSERT INTO artifacts AS a (
		id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
		created_at, expires_at, updated_at, digest,
		workflow_run_id, repository_id, head_repository_id, branch, head_sha,
		first_seen_at, last_seen_at, gone_at, last_scan_id)
	SELECT
		id, $2, node_id, name, size_in_bytes, url, archive_download_url, expired,
		created_at, expires_at, updated_at, digest,
		workflow_run_id, repository_id, head_repository_id, branch, head_sha,
		seen_at, seen_at, NULL, $1
	FROM staged ORDER BY id
	ON CONFLICT (id) DO UPDATE SET
		repository = EXCLUDED.repository,
		node_id = EXCLUDED.node_id,
		name = EXCLUDED.name,
		size_in_bytes = EXCLUDED.size_in_bytes,
		url = EXCLUDED.url,
		archive_download_url = EXCLUDED.archive_download_url,
		expired = EXCLUDED.expired,
		created_at = EXCLUDED.created_at,
		expires_at = EXCLUDED.expires_at,
		updated_at = EXCLUDED.updated_at,
		digest = EXCLUDED.digest,
		workflow_run_id = EXCLUDED.workflow_run_id,
		repository_id = EXCLUDED.repository_id,
		head_repository_id = EXCLUDED.head_repository_id,
		branch = EXCLUDED.branch,
		head_sha = EXCLUDED.head_sha,
		last_seen_at = EXCLUDED.last_seen_at,
		gone_at = NULL,
		last_scan_id = EXCLUDED.last_scan_id
	WHERE EXCLUDED.last_seen_at >= a.last_seen_at
	  AND (a.gone_at IS NULL OR EXCLUDED.last_seen_at > a.gone_at)
	RETURNING (xmax = 0) AS inserted
)
SELECT (SELECT count(*) FROM staged), count(*) FILTER (WHERE inserted) FROM upserted`

func mergeStaged(ctx context.Context, tx pgx.Tx, scanID int64, repo artifact.Repository) (seen, inserted int, err error) {
	if err := tx.QueryRow(ctx, mergeSQL, scanID, repo).Scan(&seen, &inserted); err != nil {
		return 0, 0, fmt.Errorf("merging staged artifacts: %w", err)
	}
	return seen, inserted, nil
}
