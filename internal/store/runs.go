package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Trigger is what started a run, as stored in runs.trigger.
type Trigger string

// The triggers.
const (
	TriggerSchedule Trigger = "schedule" // serve's SCHEDULE
	TriggerManual   Trigger = "manual"   // retentiond run, demo
	TriggerApply    Trigger = "apply"    // retentiond apply of a reviewed dry-run
)

// RunStatus is how a run ended, as stored in runs.status.
type RunStatus string

// The statuses.
const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunPartial   RunStatus = "partial"
	RunFailed    RunStatus = "failed"
)

// NewRun describes a run that is starting.
type NewRun struct {
	StartedAt     time.Time
	Trigger       Trigger
	DryRun        bool
	PolicyFile    string
	PolicySHA256  string
	MaxDeletions  int
	ReviewedRunID int64 // for trigger apply: the dry-run a person reviewed
}

// RunTotals is what a run did, recorded when it ends.
type RunTotals struct {
	FinishedAt          time.Time
	Status              RunStatus
	RepositoriesScanned int
	RepositoriesFailed  int
	ArtifactsSeen       int
	Kept                int
	PlannedDeletions    int
	Deleted             int
	AlreadyGone         int
	Failed              int
	Skipped             int
	CapHit              bool
	BytesReclaimed      int64
	WouldReclaim        int64
	// ExpiredListings counts expired artifacts deleted (or, in dry-run,
	// that would have been); their sizes are in neither byte count.
	ExpiredListings int
	Error           string
}

// Run is one row of runs. FinishedAt is zero while it is running.
type Run struct {
	ID            int64
	StartedAt     time.Time
	Trigger       Trigger
	DryRun        bool
	PolicyFile    string
	PolicySHA256  string
	MaxDeletions  int
	ReviewedRunID int64
	RunTotals
}

// CreateRun records a running run and returns its id.
func (s *Store) CreateRun(ctx context.Context, r NewRun) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO runs (started_at, trigger, dry_run, policy_file, policy_sha256, max_deletions, reviewed_run_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		r.StartedAt, r.Trigger, r.DryRun, r.PolicyFile, r.PolicySHA256, r.MaxDeletions, nullInt(r.ReviewedRunID)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: recording a new run: %w", err)
	}
	return id, nil
}

// FinishRun records a run's end and totals. It is retried (SetRetry); a
// retry that finds the run finished exactly so succeeds.
func (s *Store) FinishRun(ctx context.Context, id int64, t RunTotals) error {
	return s.retry(ctx, "recording the end of a run", func(ctx context.Context, again bool) error {
		return s.finishRunOnce(ctx, id, t, again)
	})
}

func (s *Store) finishRunOnce(ctx context.Context, id int64, t RunTotals, again bool) error {
	err := s.finishRun(ctx, id, t)
	if !again || !errors.Is(err, ErrNotFound) {
		return err
	}
	var status RunStatus
	var finished pgtype.Timestamptz
	if qerr := s.pool.QueryRow(ctx, `SELECT status, finished_at FROM runs WHERE id = $1`, id).Scan(&status, &finished); qerr != nil {
		return errors.Join(err, qerr)
	}
	if status == t.Status && sameStoredTime(timeOf(finished), t.FinishedAt) {
		return nil
	}
	return err
}

func (s *Store) finishRun(ctx context.Context, id int64, t RunTotals) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE runs SET finished_at = $2, status = $3, repositories_scanned = $4, repositories_failed = $5,
			artifacts_seen = $6, kept = $7, planned_deletions = $8, deleted = $9, already_gone = $10,
			failed = $11, skipped = $12, cap_hit = $13, bytes_reclaimed = $14, would_reclaim = $15, error = $16,
			expired_listings = $17
		WHERE id = $1 AND status = 'running'`,
		id, t.FinishedAt, t.Status, t.RepositoriesScanned, t.RepositoriesFailed, t.ArtifactsSeen, t.Kept,
		t.PlannedDeletions, t.Deleted, t.AlreadyGone, t.Failed, t.Skipped, t.CapHit, t.BytesReclaimed,
		t.WouldReclaim, nullString(t.Error), t.ExpiredListings)
	if err != nil {
		return fmt.Errorf("store: finishing run %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: finishing run %d: %w (or it already finished)", id, ErrNotFound)
	}
	return nil
}

// AbandonRuns marks runs still 'running' as failed, with totals counted
// from what their audit rows and scans record (a run killed mid-way never
// wrote its own). It runs under the run lock, when no run of any process
// can be in progress, after pending intents have been resolved.
func (s *Store) AbandonRuns(ctx context.Context, at time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, abandonRuns, at)
	if err != nil {
		return 0, fmt.Errorf("store: closing abandoned runs: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// abandonRuns counts like the janitor's Report: bytes leave out expired
// artifacts, whose storage GitHub had freed already, and count them as
// expired listings instead; kept counts the keep decisions of the
// decisions view, the carried ones included.
const abandonRuns = `
WITH dead AS (
	SELECT id FROM runs WHERE status = 'running'
), log AS (
	SELECT run_id, action, outcome, size_in_bytes, coalesce(expired, false) AS expired FROM audit_log
	WHERE run_id IN (SELECT id FROM dead)
	UNION ALL
	SELECT run_id, action, outcome, size_in_bytes, coalesce(expired, false) FROM audit_pending
	WHERE run_id IN (SELECT id FROM dead)
), t AS (
	SELECT d.id,
	       count(l.run_id) FILTER (WHERE l.action = 'delete') AS planned,
	       count(l.run_id) FILTER (WHERE l.outcome = 'deleted') AS deleted,
	       count(l.run_id) FILTER (WHERE l.outcome = 'already_gone') AS already_gone,
	       count(l.run_id) FILTER (WHERE l.outcome = 'failed') AS failed,
	       count(l.run_id) FILTER (WHERE l.outcome IN ('skipped_cap', 'skipped_rate_limit', 'interrupted', 'changed',
	                                                  'expired_not_archived')) AS skipped,
	       coalesce(bool_or(l.outcome = 'skipped_cap'), false) AS cap_hit,
	       coalesce(sum(l.size_in_bytes) FILTER (WHERE l.outcome IN ('deleted', 'already_gone') AND NOT l.expired), 0) AS reclaimed,
	       coalesce(sum(l.size_in_bytes) FILTER (WHERE l.outcome = 'dry_run' AND NOT l.expired), 0) AS would,
	       count(l.run_id) FILTER (WHERE l.outcome IN ('deleted', 'already_gone', 'dry_run') AND l.expired) AS expired_listings
	FROM dead d LEFT JOIN log l ON l.run_id = d.id
	GROUP BY d.id
)
UPDATE runs r
SET status = 'failed', finished_at = $1,
    error = 'the process stopped before the run finished; its totals are counted from its audit rows',
    planned_deletions = t.planned, deleted = t.deleted, already_gone = t.already_gone, failed = t.failed,
    skipped = t.skipped, cap_hit = t.cap_hit, bytes_reclaimed = t.reclaimed, would_reclaim = t.would,
    expired_listings = t.expired_listings,
    kept = (SELECT count(*) FROM decisions k WHERE k.run_id = r.id AND k.action = 'keep'),
    repositories_scanned = (SELECT count(*) FROM scans s WHERE s.run_id = r.id AND s.status = 'complete'),
    repositories_failed = (SELECT count(*) FROM scans s WHERE s.run_id = r.id AND s.status <> 'complete'),
    artifacts_seen = (SELECT coalesce(sum(s.artifacts_seen), 0) FROM scans s WHERE s.run_id = r.id)
FROM t
WHERE r.id = t.id`

const runColumns = `id, started_at, trigger, dry_run, policy_file, policy_sha256, max_deletions, reviewed_run_id,
	finished_at, status, repositories_scanned, repositories_failed, artifacts_seen, kept, planned_deletions,
	deleted, already_gone, failed, skipped, cap_hit, bytes_reclaimed, would_reclaim, error, expired_listings`

func scanRun(row pgx.Row) (Run, error) {
	var r Run
	var reviewed pgtype.Int8
	var finished pgtype.Timestamptz
	var errText pgtype.Text
	err := row.Scan(&r.ID, &r.StartedAt, &r.Trigger, &r.DryRun, &r.PolicyFile, &r.PolicySHA256, &r.MaxDeletions, &reviewed,
		&finished, &r.Status, &r.RepositoriesScanned, &r.RepositoriesFailed, &r.ArtifactsSeen, &r.Kept, &r.PlannedDeletions,
		&r.Deleted, &r.AlreadyGone, &r.Failed, &r.Skipped, &r.CapHit, &r.BytesReclaimed, &r.WouldReclaim, &errText, &r.ExpiredListings)
	r.StartedAt = r.StartedAt.UTC()
	r.ReviewedRunID, r.FinishedAt, r.Error = reviewed.Int64, timeOf(finished), errText.String
	return r, err
}

// Run returns run id.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, fmt.Errorf("store: run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("store: reading run %d: %w", id, err)
	}
	return r, nil
}

// Runs returns the latest limit runs, newest first.
func (s *Store) Runs(ctx context.Context, limit int) ([]Run, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+runColumns+` FROM runs ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) { return scanRun(row) })
	if err != nil {
		return nil, fmt.Errorf("store: listing runs: %w", err)
	}
	return runs, nil
}
