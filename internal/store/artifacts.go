package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/retentiond/retentiond/internal/artifact"
)

// StoredArtifact is an artifact with retentiond's bookkeeping about it.
// GoneAt is zero while the artifact is live; LastScanID is zero if the scan
// that last saw it is unknown.
type StoredArtifact struct {
	artifact.Artifact
	FirstSeenAt time.Time
	LastSeenAt  time.Time
	GoneAt      time.Time
	LastScanID  int64
}

const artifactColumns = `id, repository, node_id, name, size_in_bytes, url, archive_download_url, expired,
	created_at, expires_at, updated_at, digest,
	workflow_run_id, repository_id, head_repository_id, branch, head_sha`

// LiveArtifacts returns every artifact of repo that is not gone, newest
// (largest id) first, as GitHub lists them. The policy engine needs a
// repository's artifacts all at once to rank them, so this is a slice.
func (s *Store) LiveArtifacts(ctx context.Context, repo artifact.Repository) ([]artifact.Artifact, error) {
	var arts []artifact.Artifact
	err := s.retry(ctx, "loading live artifacts", func(ctx context.Context, _ bool) (err error) {
		arts, err = s.liveArtifacts(ctx, repo)
		return err
	})
	return arts, err
}

func (s *Store) liveArtifacts(ctx context.Context, repo artifact.Repository) ([]artifact.Artifact, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+artifactColumns+` FROM artifacts WHERE repository = $1 AND gone_at IS NULL ORDER BY id DESC`, repo)
	if err != nil {
		return nil, fmt.Errorf("store: loading live artifacts of %s: %w", repo, err)
	}
	defer rows.Close()
	var arts []artifact.Artifact
	for rows.Next() {
		var a artifact.Artifact
		if err := scanArtifact(rows, &a); err != nil {
			return nil, fmt.Errorf("store: loading live artifacts of %s: %w", repo, err)
		}
		arts = append(arts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: loading live artifacts of %s: %w", repo, err)
	}
	return arts, nil
}

// Artifact returns the artifact with id id, live or gone, or an error
// wrapping ErrNotFound.
func (s *Store) Artifact(ctx context.Context, id int64) (StoredArtifact, error) {
	var (
		sa         StoredArtifact
		goneAt     pgtype.Timestamptz
		lastScanID pgtype.Int8
	)
	row := s.pool.QueryRow(ctx,
		`SELECT `+artifactColumns+`, first_seen_at, last_seen_at, gone_at, last_scan_id FROM artifacts WHERE id = $1`, id)
	if err := scanArtifact(row, &sa.Artifact, &sa.FirstSeenAt, &sa.LastSeenAt, &goneAt, &lastScanID); err != nil {
		return StoredArtifact{}, fmt.Errorf("store: loading artifact %d: %w", id, notFound(err))
	}
	sa.FirstSeenAt, sa.LastSeenAt = sa.FirstSeenAt.UTC(), sa.LastSeenAt.UTC()
	sa.GoneAt = timeOf(goneAt)
	sa.LastScanID = lastScanID.Int64
	return sa, nil
}

// scanArtifact reads artifactColumns, then extra, from row into a, turning
// NULLs into zero values.
func scanArtifact(row pgx.Row, a *artifact.Artifact, extra ...any) error {
	var (
		createdAt, expiresAt, updatedAt               pgtype.Timestamptz
		digest, branch, headSHA                       pgtype.Text
		workflowRunID, repositoryID, headRepositoryID pgtype.Int8
	)
	dest := append([]any{
		&a.ID, &a.Repository, &a.NodeID, &a.Name, &a.SizeInBytes, &a.URL, &a.ArchiveDownloadURL, &a.Expired,
		&createdAt, &expiresAt, &updatedAt, &digest,
		&workflowRunID, &repositoryID, &headRepositoryID, &branch, &headSHA,
	}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	a.CreatedAt, a.ExpiresAt, a.UpdatedAt = timeOf(createdAt), timeOf(expiresAt), timeOf(updatedAt)
	a.Digest, a.Branch, a.HeadSHA = digest.String, branch.String, headSHA.String
	a.WorkflowRunID, a.RepositoryID, a.HeadRepositoryID = workflowRunID.Int64, repositoryID.Int64, headRepositoryID.Int64
	return nil
}

// The artifact type uses zero values for the API's nulls; these map them to
// SQL NULL and back.

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// timeOf returns t in UTC, or the zero time for NULL.
func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
