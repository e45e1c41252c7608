package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
)

// RunRequests is a run's use of the rate limit: the requests it estimated
// before scanning, the requests its scans made (Made) and how many of those
// counted against the limit (Costed), and how many repositories it left
// unscanned to stay above RATE_LIMIT_RESERVE.
type RunRequests struct {
	Skipped   int
	Estimated int
	Made      int
	Costed    int
}

// RecordRunRequests writes r to run runID's row. It is separate from
// FinishRun so that the budget's columns stay in one place.
func (s *Store) RecordRunRequests(ctx context.Context, runID int64, r RunRequests) error {
	err := s.retry(ctx, "recording the requests of a run", func(ctx context.Context, _ bool) error {
		_, err := s.pool.Exec(ctx,
			`UPDATE runs SET repositories_skipped = $2, requests_estimated = $3, scan_requests = $4, scan_requests_costed = $5
			 WHERE id = $1`, runID, r.Skipped, r.Estimated, r.Made, r.Costed)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: recording the requests of run %d: %w", runID, err)
	}
	return nil
}

// RunRequestsOf returns what RecordRunRequests wrote for run runID (zeros
// for a run that recorded none).
func (s *Store) RunRequestsOf(ctx context.Context, runID int64) (RunRequests, error) {
	var (
		r                     RunRequests
		skipped               int32
		estimated, made, cost pgtype.Int4
	)
	err := s.pool.QueryRow(ctx,
		`SELECT repositories_skipped, requests_estimated, scan_requests, scan_requests_costed FROM runs WHERE id = $1`,
		runID).Scan(&skipped, &estimated, &made, &cost)
	if err != nil {
		return r, fmt.Errorf("store: loading the requests of run %d: %w", runID, notFound(err))
	}
	return RunRequests{Skipped: int(skipped), Estimated: int(estimated.Int32), Made: int(made.Int32), Costed: int(cost.Int32)}, nil
}

// RecentPlannedDeletions returns how many deletions the latest finished
// non-apply run planned, the budget's guess at what this run will delete
// (each DELETE costs one request); 0 when there is none.
func (s *Store) RecentPlannedDeletions(ctx context.Context) (int, error) {
	var n int32
	err := s.pool.QueryRow(ctx,
		`SELECT coalesce((SELECT planned_deletions FROM runs WHERE status <> 'running' AND trigger <> 'apply'
		                  ORDER BY id DESC LIMIT 1), 0)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: loading the latest run's planned deletions: %w", err)
	}
	return int(n), nil
}
