package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Pending is what the audit log holds of deletions whose intent was recorded
// and whose DELETE is not resolved yet: a run in progress has one at a time,
// a process that died mid-deletion leaves its own until the next start
// resolves it.
type Pending struct {
	Count int64
	// Oldest is when the oldest of them was recorded; zero when Count is 0.
	Oldest time.Time
}

// PendingDeletions counts the pending deletions, for the metrics an alert
// watches. It is one query, not retried (see SetRetry): a scrape should
// answer in time, and the next scrape asks again.
func (s *Store) PendingDeletions(ctx context.Context) (Pending, error) {
	var p Pending
	var oldest pgtype.Timestamptz
	// Pending intents have a small table of their own (audit_pending,
	// migration 0005), so this stays cheap however large the log.
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(recorded_at) FROM audit_pending`).Scan(&p.Count, &oldest)
	if err != nil {
		return Pending{}, fmt.Errorf("store: counting pending deletions: %w", err)
	}
	p.Oldest = timeOf(oldest)
	return p, nil
}
