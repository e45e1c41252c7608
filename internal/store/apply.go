package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/artifact"
)

// ReviewFilter narrows ReviewedDecisions. Zero fields do not filter.
type ReviewFilter struct {
	Repository artifact.Repository
	Rule       string // compared ignoring case, as rule names are unique regardless of case
}

// settledOutcomes are the outcomes after which an apply never tries a
// reviewed decision again: the artifact is gone, or is no longer what was
// reviewed, or its rule forbids deleting it unarchived. The others (failed,
// skipped_cap, skipped_rate_limit, interrupted) may succeed another time.
const settledOutcomes = `'deleted', 'already_gone', 'changed', 'expired_not_archived'`

// ReviewedDecisions returns the dry_run rows of run reviewedID that match f,
// oldest artifact first, leaving out those an earlier apply of the same run
// has settled. So applying a run again carries on where the last apply
// stopped (at the cap, a rate limit, a failure) and never repeats a deletion.
func (s *Store) ReviewedDecisions(ctx context.Context, reviewedID int64, f ReviewFilter) ([]AuditEntry, error) {
	entries, err := s.auditQuery(ctx, "audit_log d", `
		WHERE d.run_id = $1 AND d.outcome = 'dry_run'
		  AND ($2 = '' OR d.repository = $2)
		  AND ($3 = '' OR lower(d.rule) = lower($3))
		  AND NOT EXISTS (
		      SELECT 1 FROM audit_log a JOIN runs r ON r.id = a.run_id
		      WHERE r.reviewed_run_id = $1 AND a.artifact_id = d.artifact_id
		        AND a.outcome IN (`+settledOutcomes+`))
		ORDER BY d.artifact_created_at NULLS LAST, d.artifact_id`, reviewedID, f.Repository, f.Rule)
	if err != nil {
		return nil, fmt.Errorf("store: reading the reviewed decisions of run %d: %w", reviewedID, err)
	}
	return entries, nil
}

// ApplyRuns returns the ids of the runs that applied run reviewedID, oldest first.
func (s *Store) ApplyRuns(ctx context.Context, reviewedID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM runs WHERE reviewed_run_id = $1 ORDER BY id`, reviewedID)
	if err != nil {
		return nil, fmt.Errorf("store: listing the applies of run %d: %w", reviewedID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: listing the applies of run %d: %w", reviewedID, err)
	}
	return ids, nil
}
