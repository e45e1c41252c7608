package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Intents: the pending rows that record a DELETE before it is sent
// (audit_pending, one per artifact), and their resolution into audit_log.

// ErrAlreadyPending is returned by InsertPending when another intent to
// delete the same artifact is still pending.
var ErrAlreadyPending = errors.New("a deletion of this artifact is already pending")

// InsertPending records the intent to delete one artifact in audit_pending
// and returns its id, which the row keeps in audit_log once resolved. It
// commits before returning, so the intent is durable before the DELETE is
// sent. A second pending intent for the same artifact is refused
// (ErrAlreadyPending), except that a retry finds the row its own earlier
// try committed.
func (s *Store) InsertPending(ctx context.Context, e AuditEntry) (int64, error) {
	if e.Outcome != OutcomePending {
		return 0, fmt.Errorf("store: InsertPending with outcome %q", e.Outcome)
	}
	var id int64
	err := s.retry(ctx, "recording an intent", func(ctx context.Context, again bool) (err error) {
		id, err = s.insertPending(ctx, e, again)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: recording the intent to delete artifact %d: %w", e.ArtifactID, err)
	}
	return id, nil
}

func (s *Store) insertPending(ctx context.Context, e AuditEntry, again bool) (id int64, _ error) {
	err := s.pool.QueryRow(ctx, `INSERT INTO audit_pending (id, `+auditColumnList+`)
		VALUES (nextval('audit_log_id_seq'), `+placeholders(len(auditColumns))+`)
		ON CONFLICT (artifact_id) DO NOTHING RETURNING id`,
		auditRow(&e)...).Scan(&id)
	if !errors.Is(err, pgx.ErrNoRows) {
		return id, err
	}
	var runID int64
	var recordedAt time.Time
	err = s.pool.QueryRow(ctx, `SELECT id, run_id, recorded_at FROM audit_pending WHERE artifact_id = $1`,
		e.ArtifactID).Scan(&id, &runID, &recordedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Resolved between the two statements: it was not ours, since
		// ours would still be pending.
		return 0, fmt.Errorf("%w (and was resolved since)", ErrAlreadyPending)
	case err != nil:
		return 0, err
	case again && runID == e.RunID && sameStoredTime(recordedAt, e.RecordedAt):
		return id, nil // our own earlier try committed
	}
	return 0, fmt.Errorf("%w: audit row %d of run %d", ErrAlreadyPending, id, runID)
}

// ResolveAudit records the outcome of pending intent id: in one
// transaction it moves the intent from audit_pending into audit_log (same
// id, the decision as it was, the outcome set) and, when r.MarkGone, marks
// the artifact gone. It is retried (SetRetry); a retry that finds the row
// already resolved exactly so, by a try whose reply was lost, succeeds.
func (s *Store) ResolveAudit(ctx context.Context, id int64, r Resolution) error {
	return s.retry(ctx, "recording an outcome", func(ctx context.Context, again bool) error {
		return s.resolveAuditOnce(ctx, id, r, again)
	})
}

func (s *Store) resolveAuditOnce(ctx context.Context, id int64, r Resolution, again bool) error {
	err := s.resolveAudit(ctx, id, r)
	if !again || !errors.Is(err, ErrNotPending) {
		return err
	}
	var outcome string
	var executed pgtype.Timestamptz
	if qerr := s.pool.QueryRow(ctx, `SELECT outcome, executed_at FROM audit_log WHERE id = $1`, id).Scan(&outcome, &executed); qerr != nil {
		return errors.Join(err, qerr)
	}
	if Outcome(outcome) == r.Outcome && sameStoredTime(timeOf(executed), r.ExecutedAt) {
		return nil
	}
	return err
}

func (s *Store) resolveAudit(ctx context.Context, id int64, r Resolution) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM audit_pending WHERE id = $1 RETURNING id, `+auditColumnList, id)
		if err != nil {
			return fmt.Errorf("store: resolving audit row %d: %w", id, err)
		}
		pending, err := scanAudit(rows)
		if err != nil {
			return fmt.Errorf("store: resolving audit row %d: %w", id, err)
		}
		if len(pending) == 0 {
			return fmt.Errorf("store: resolving audit row %d: %w", id, ErrNotPending)
		}
		e := pending[0]
		e.Outcome, e.HTTPStatus, e.Error, e.ExecutedAt = r.Outcome, r.HTTPStatus, r.Error, r.ExecutedAt
		e.ArchivePath, e.ArchiveBytes, e.ArchiveSHA256 = r.ArchivePath, r.ArchiveBytes, r.ArchiveSHA256
		if err := ensurePartitionsOf(ctx, tx, pending); err != nil {
			return fmt.Errorf("store: resolving audit row %d: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `
			WITH ins AS (
				INSERT INTO audit_log (id, `+auditColumnList+`) VALUES ($1, `+placeholdersFrom(2, len(auditColumns))+`)
				RETURNING id, run_id, recorded_at, artifact_id, action, rule
			)
			INSERT INTO audit_latest (artifact_id, audit_id, run_id, recorded_at, action, rule)
			SELECT artifact_id, id, run_id, recorded_at, action, rule FROM ins
			ON CONFLICT (artifact_id) DO UPDATE
			SET audit_id = EXCLUDED.audit_id, run_id = EXCLUDED.run_id, recorded_at = EXCLUDED.recorded_at,
			    action = EXCLUDED.action, rule = EXCLUDED.rule
			WHERE audit_latest.audit_id < EXCLUDED.audit_id`, append([]any{id}, auditRow(&e)...)...); err != nil {
			return fmt.Errorf("store: resolving audit row %d: %w", id, err)
		}
		if r.MarkGone {
			if _, err := tx.Exec(ctx, `UPDATE artifacts SET gone_at = $2 WHERE id = $1 AND gone_at IS NULL`, e.ArtifactID, r.ExecutedAt); err != nil {
				return fmt.Errorf("store: marking artifact %d gone: %w", e.ArtifactID, err)
			}
		}
		return nil
	})
}

// PendingAudit returns every intent still pending, oldest first.
func (s *Store) PendingAudit(ctx context.Context) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.retry(ctx, "listing pending deletions", func(ctx context.Context, _ bool) (err error) {
		out, err = s.auditQuery(ctx, "audit_pending", `ORDER BY id`)
		return err
	})
	return out, err
}
