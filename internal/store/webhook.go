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

// DeliveryStatus is where a webhook delivery is in its life.
type DeliveryStatus string

// The statuses of a webhook delivery. A delivery is recorded queued (a scan
// will follow) or ignored (nothing to do), and a queued one ends exactly once,
// scanned or failed.
const (
	DeliveryQueued  DeliveryStatus = "queued"
	DeliveryScanned DeliveryStatus = "scanned"
	DeliveryFailed  DeliveryStatus = "failed"
	DeliveryIgnored DeliveryStatus = "ignored"
)

// WebhookDelivery is one row of webhook_deliveries. ProcessedAt is zero while
// the delivery is queued; ScanID is zero until a scan was started for it.
type WebhookDelivery struct {
	ID            string // X-GitHub-Delivery
	Event         string // X-GitHub-Event
	Action        string
	Repository    artifact.Repository
	WorkflowRunID int64
	ReceivedAt    time.Time
	ProcessedAt   time.Time
	Status        DeliveryStatus
	ScanID        int64
	// Error says what went wrong for a failed delivery and why an ignored
	// one was ignored.
	Error string
}

// DeliveryOutcome is how a queued delivery ended.
type DeliveryOutcome struct {
	Status      DeliveryStatus // DeliveryScanned or DeliveryFailed
	ProcessedAt time.Time
	ScanID      int64 // the scan started for the delivery, if any
	Error       string
}

// RecordDelivery records a webhook delivery as it arrives, with status
// DeliveryQueued or DeliveryIgnored (then ProcessedAt is set to ReceivedAt).
// It reports fresh = true when the delivery must be acted on: its id was not
// known, or the earlier delivery with that id failed, or it has been queued
// since before retryQueuedBefore (the process that queued it must have died).
// In those two cases the row is overwritten with d. Otherwise the delivery is
// a replay and the row is left as it was.
func (s *Store) RecordDelivery(ctx context.Context, d WebhookDelivery, retryQueuedBefore time.Time) (fresh bool, err error) {
	var processedAt any
	switch d.Status {
	case DeliveryQueued:
	case DeliveryIgnored:
		processedAt = d.ReceivedAt
	default:
		return false, fmt.Errorf("store: recording webhook delivery %s: status %q is neither queued nor ignored", d.ID, d.Status)
	}
	err = s.pool.QueryRow(ctx, `
		INSERT INTO webhook_deliveries AS w (delivery_id, event, action, repository, workflow_run_id,
			received_at, processed_at, status, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (delivery_id) DO UPDATE SET event = EXCLUDED.event, action = EXCLUDED.action,
			repository = EXCLUDED.repository, workflow_run_id = EXCLUDED.workflow_run_id,
			received_at = EXCLUDED.received_at, processed_at = EXCLUDED.processed_at,
			status = EXCLUDED.status, scan_id = NULL, error = EXCLUDED.error
		WHERE w.status = 'failed' OR (w.status = 'queued' AND w.received_at < $10)
		RETURNING true`,
		d.ID, d.Event, d.Action, d.Repository, nullInt(d.WorkflowRunID), d.ReceivedAt, processedAt,
		string(d.Status), nullString(d.Error), retryQueuedBefore).Scan(&fresh)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: recording webhook delivery %s: %w", d.ID, err)
	}
	return fresh, nil
}

// FinishDelivery records how the queued delivery id ended. It returns an
// error wrapping ErrNotFound if there is no such queued delivery.
func (s *Store) FinishDelivery(ctx context.Context, id string, o DeliveryOutcome) error {
	if o.Status != DeliveryScanned && o.Status != DeliveryFailed {
		return fmt.Errorf("store: finishing webhook delivery %s: status %q is neither scanned nor failed", id, o.Status)
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE webhook_deliveries SET status = $2, processed_at = $3, scan_id = $4, error = $5
		WHERE delivery_id = $1 AND status = 'queued'`,
		id, string(o.Status), o.ProcessedAt, nullInt(o.ScanID), nullString(o.Error))
	if err != nil {
		return fmt.Errorf("store: finishing webhook delivery %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: finishing webhook delivery %s: %w (or it is no longer queued)", id, ErrNotFound)
	}
	return nil
}

// Delivery returns the webhook delivery with id id, or an error wrapping
// ErrNotFound.
func (s *Store) Delivery(ctx context.Context, id string) (WebhookDelivery, error) {
	var (
		d             WebhookDelivery
		runID, scanID pgtype.Int8
		processedAt   pgtype.Timestamptz
		status        string
		errText       pgtype.Text
	)
	err := s.pool.QueryRow(ctx, `
		SELECT delivery_id, event, action, repository, workflow_run_id, received_at, processed_at,
			status, scan_id, error
		FROM webhook_deliveries WHERE delivery_id = $1`, id).Scan(
		&d.ID, &d.Event, &d.Action, &d.Repository, &runID, &d.ReceivedAt, &processedAt,
		&status, &scanID, &errText)
	if err != nil {
		return WebhookDelivery{}, fmt.Errorf("store: loading webhook delivery %s: %w", id, notFound(err))
	}
	d.WorkflowRunID, d.ScanID = runID.Int64, scanID.Int64
	d.ReceivedAt, d.ProcessedAt = d.ReceivedAt.UTC(), timeOf(processedAt)
	d.Status, d.Error = DeliveryStatus(status), errText.String
	return d, nil
}

// PruneDeliveries deletes the webhook deliveries received before
// receivedBefore and returns how many it deleted. A replay of a pruned
// delivery is treated as new, so the retention must cover the window in
// which GitHub redelivers (three days).
func (s *Store) PruneDeliveries(ctx context.Context, receivedBefore time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE received_at < $1`, receivedBefore)
	if err != nil {
		return 0, fmt.Errorf("store: pruning webhook deliveries: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
