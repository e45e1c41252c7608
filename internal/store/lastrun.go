package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// LastSuccessFinished returns when the latest succeeded run finished, or
// the zero time when none has.
func (s *Store) LastSuccessFinished(ctx context.Context) (time.Time, error) {
	var t pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT max(finished_at) FROM runs WHERE status = $1`, RunSucceeded).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: reading the last successful run: %w", err)
	}
	return timeOf(t), nil
}

// LastScanStarted returns when the latest run that scans (any trigger but
// apply, whatever its status, running included) started, or the zero time
// when none has: what serve's RUN_ON_START=missed compares with its
// schedule.
func (s *Store) LastScanStarted(ctx context.Context) (time.Time, error) {
	var t pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT max(started_at) FROM runs WHERE trigger <> $1`, TriggerApply).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: reading the last run's start: %w", err)
	}
	return timeOf(t), nil
}
