package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/savings"
)

// RunSavings is what one run saved in the unit GitHub bills (see package
// savings): what its deletions saved, what its dry-run decisions would
// save, and the storage still accruing when it ended.
type RunSavings struct {
	Saved     savings.Usage
	WouldSave savings.Usage
	// LiveBytes is the storage still accruing at the end of the run (bytes
	// of live, unexpired artifacts); -1 when not recorded (runs before
	// migration 0009, or still running).
	LiveBytes int64
}

// RecordRunSavings computes run runID's savings from its audit log and the
// artifacts' expires_at, and the storage still accruing at at, and writes
// them to the run's row. It is retried (SetRetry) and idempotent.
func (s *Store) RecordRunSavings(ctx context.Context, runID int64, at time.Time) (RunSavings, error) {
	var rs RunSavings
	err := s.retry(ctx, "recording a run's savings", func(ctx context.Context, _ bool) error {
		var err error
		rs, err = s.recordRunSavings(ctx, runID, at)
		return err
	})
	return rs, err
}

func (s *Store) recordRunSavings(ctx context.Context, runID int64, at time.Time) (RunSavings, error) {
	saved, would, err := s.deletionSavings(ctx, `a.run_id = $1`, runID)
	if err != nil {
		return RunSavings{}, fmt.Errorf("store: savings of run %d: %w", runID, err)
	}
	rs := RunSavings{Saved: saved, WouldSave: would}
	if rs.LiveBytes, err = s.accruingBytes(ctx, "", at); err != nil {
		return RunSavings{}, fmt.Errorf("store: savings of run %d: %w", runID, err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE runs SET gb_hours_saved = $2, gb_months_saved = $3,
		gb_hours_would_save = $4, gb_months_would_save = $5, storage_live_bytes = $6 WHERE id = $1`,
		runID, saved.GBHours, saved.GBMonths, would.GBHours, would.GBMonths, rs.LiveBytes)
	if err != nil {
		return RunSavings{}, fmt.Errorf("store: recording the savings of run %d: %w", runID, err)
	}
	if tag.RowsAffected() == 0 {
		return RunSavings{}, fmt.Errorf("store: recording the savings of run %d: %w", runID, ErrNotFound)
	}
	return rs, nil
}

// deletionSavings adds up, over the delete decisions selected by where
// (on audit_log a, with args), what the deletions saved and what the
// dry-run decisions would save. A decision is priced at when it was
// executed (a dry-run's when it was recorded) against the artifact's
// expires_at, which artifacts keeps after the artifact is gone.
func (s *Store) deletionSavings(ctx context.Context, where string, args ...any) (saved, would savings.Usage, err error) {
	rows, err := s.pool.Query(ctx, `
		SELECT a.outcome, a.size_in_bytes, coalesce(a.executed_at, a.recorded_at), x.expires_at, coalesce(a.expired, false)
		FROM audit_log a LEFT JOIN artifacts x ON x.id = a.artifact_id
		WHERE a.action = 'delete' AND a.outcome IN ('deleted', 'already_gone', 'dry_run') AND `+where, args...)
	if err != nil {
		return saved, would, err
	}
	var (
		outcome Outcome
		d       savings.Deletion
		expires pgtype.Timestamptz
	)
	_, err = pgx.ForEachRow(rows, []any{&outcome, &d.SizeInBytes, &d.At, &expires, &d.Expired}, func() error {
		d.ExpiresAt = timeOf(expires)
		d.AlreadyGone = outcome == OutcomeAlreadyGone
		if outcome == OutcomeDryRun {
			would = would.Add(savings.Saved(d))
		} else {
			saved = saved.Add(savings.Saved(d))
		}
		return nil
	})
	return saved, would, err
}

// accruingBytes is the storage still billed by the hour at at: bytes of
// live artifacts (of repo, or of every repository when repo is empty) that
// have not expired.
func (s *Store) accruingBytes(ctx context.Context, repo artifact.Repository, at time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(size_in_bytes), 0)::bigint FROM artifacts
		WHERE gone_at IS NULL AND NOT expired AND (expires_at IS NULL OR expires_at > $1)
		  AND ($2 = '' OR repository = $2)`, at, string(repo)).Scan(&n)
	return n, err
}

// RunSavings returns the savings recorded for run runID when it ended.
// The review page and the run summary read them.
func (s *Store) RunSavings(ctx context.Context, runID int64) (RunSavings, error) {
	var rs RunSavings
	var live pgtype.Int8
	err := s.pool.QueryRow(ctx, `SELECT gb_hours_saved, gb_months_saved, gb_hours_would_save, gb_months_would_save,
		storage_live_bytes FROM runs WHERE id = $1`, runID).
		Scan(&rs.Saved.GBHours, &rs.Saved.GBMonths, &rs.WouldSave.GBHours, &rs.WouldSave.GBMonths, &live)
	if err != nil {
		return RunSavings{}, fmt.Errorf("store: savings of run %d: %w", runID, notFound(err))
	}
	rs.LiveBytes = -1
	if live.Valid {
		rs.LiveBytes = live.Int64
	}
	return rs, nil
}

// RunWithSavings is a run's row with its savings, for listings.
type RunWithSavings struct {
	Run
	Savings RunSavings
}

// RecentRunSavings returns the latest limit runs with their savings, newest first.
func (s *Store) RecentRunSavings(ctx context.Context, limit int) ([]RunWithSavings, error) {
	runs, err := s.Runs(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]RunWithSavings, len(runs))
	for i, r := range runs {
		rs, err := s.RunSavings(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		out[i] = RunWithSavings{Run: r, Savings: rs}
	}
	return out, nil
}

// MonthSavings is one calendar month (UTC) of the savings report.
type MonthSavings struct {
	Month time.Time // first instant of the month
	// Deletions counts the deletions executed in the month; Saved is what
	// they saved.
	Deletions int
	Saved     savings.Usage
	// DryRunID is the month's latest finished dry-run that planned
	// deletions (0 when none); WouldSave is what it would save.
	DryRunID  int64
	WouldSave savings.Usage
	// Accrued is the storage billed in the month for the artifacts
	// retentiond knows, up to now: each one from its creation until it
	// expired or was found gone.
	Accrued savings.Usage
}

// MonthlySavings reports the months from the one holding since to the one
// holding now, oldest first, for repo (every repository when empty).
func (s *Store) MonthlySavings(ctx context.Context, repo artifact.Repository, since, now time.Time) ([]MonthSavings, error) {
	var out []MonthSavings
	for m := savings.MonthOf(since); !m.After(now); m = m.AddDate(0, 1, 0) {
		ms, err := s.monthSavings(ctx, repo, m, now)
		if err != nil {
			return nil, fmt.Errorf("store: savings of %s: %w", m.Format("2006-01"), err)
		}
		out = append(out, ms)
	}
	return out, nil
}

func (s *Store) monthSavings(ctx context.Context, repo artifact.Repository, month, now time.Time) (MonthSavings, error) {
	ms := MonthSavings{Month: month}
	next := month.AddDate(0, 1, 0)
	var err error
	if err = s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log a WHERE a.action = 'delete' AND a.outcome = 'deleted'
		AND a.executed_at >= $1 AND a.executed_at < $2 AND ($3 = '' OR a.repository = $3)`,
		month, next, string(repo)).Scan(&ms.Deletions); err != nil {
		return ms, err
	}
	if ms.Saved, _, err = s.deletionSavings(ctx, `a.outcome <> 'dry_run' AND a.executed_at >= $1 AND a.executed_at < $2
		AND ($3 = '' OR a.repository = $3)`, month, next, string(repo)); err != nil {
		return ms, err
	}
	err = s.pool.QueryRow(ctx, `SELECT r.id FROM runs r
		WHERE r.dry_run AND r.status IN ('succeeded', 'partial') AND r.started_at >= $1 AND r.started_at < $2
		  AND EXISTS (SELECT 1 FROM audit_log d WHERE d.run_id = r.id AND d.outcome = 'dry_run')
		ORDER BY r.id DESC LIMIT 1`, month, next).Scan(&ms.DryRunID)
	switch {
	case err == pgx.ErrNoRows:
	case err != nil:
		return ms, err
	default:
		if _, ms.WouldSave, err = s.deletionSavings(ctx, `a.run_id = $1 AND ($2 = '' OR a.repository = $2)`,
			ms.DryRunID, string(repo)); err != nil {
			return ms, err
		}
	}
	end := next
	if now.Before(end) {
		end = now
	}
	// Every artifact stored at some time in the window: created before
	// its end (or unknown), and neither gone nor expired before its start.
	rows, err := s.pool.Query(ctx, `SELECT size_in_bytes, created_at, expires_at, gone_at FROM artifacts
		WHERE (created_at IS NULL OR created_at < $2)
		  AND (gone_at IS NULL OR gone_at > $1) AND (expires_at IS NULL OR expires_at > $1)
		  AND ($3 = '' OR repository = $3)`, month, end, string(repo))
	if err != nil {
		return ms, err
	}
	var (
		a                      savings.Accrual
		created, expires, gone pgtype.Timestamptz
	)
	_, err = pgx.ForEachRow(rows, []any{&a.SizeInBytes, &created, &expires, &gone}, func() error {
		a.Created, a.ExpiresAt, a.Gone = timeOf(created), timeOf(expires), timeOf(gone)
		ms.Accrued = ms.Accrued.Add(a.Within(month, end))
		return nil
	})
	return ms, err
}
