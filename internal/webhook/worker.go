package webhook

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/retentiond/retentiond/internal/store"
)

// errStopped is the outcome of deliveries still queued when the workers
// stopped. They are recorded failed, so a redelivery from GitHub scans them.
var errStopped = errors.New("retentiond stopped before scanning this run; redeliver it from GitHub to scan it")

// finishTimeout bounds recording an outcome, which must still happen while
// shutting down.
const finishTimeout = 10 * time.Second

// pruneEvery is how often, at most, old deliveries are deleted.
const pruneEvery = time.Hour

// Start starts the workers, which scan accepted deliveries until ctx is done.
// Then the handler refuses new deliveries with 503, the scan in flight is
// cancelled, and it and every delivery still queued are recorded failed;
// Wait returns once that is done. Start may be called once.
func (h *Handler) Start(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		panic("webhook: Handler.Start called twice")
	}
	h.started = true
	h.ctx = ctx
	h.live = h.workers
	for range h.workers {
		go h.work(ctx)
	}
}

// Wait blocks until every accepted delivery has been scanned or recorded
// failed: the queue is empty and no scan is in flight. Once Start's context
// is done, it also waits for the workers to stop, after which every delivery
// gets 503. Tests use it instead of sleeping; shutdown uses it to drain.
func (h *Handler) Wait() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.pending > 0 || (h.ctx != nil && h.ctx.Err() != nil && h.live > 0) {
		h.idle.Wait()
	}
}

// running reports whether the workers have been started and not stopped.
func (h *Handler) running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.started && !h.stopped
}

func (h *Handler) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			h.mu.Lock()
			h.stopped = true
			h.mu.Unlock()
			h.drain(ctx)
			h.mu.Lock()
			h.live--
			h.idle.Broadcast()
			h.mu.Unlock()
			return
		case d := <-h.queue:
			h.process(ctx, d)
		}
	}
}

// drain records every delivery left in the queue as failed. No delivery can
// be queued once stopped is set, so the queue ends empty.
func (h *Handler) drain(ctx context.Context) {
	for {
		select {
		case d := <-h.queue:
			h.finish(ctx, d, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: errStopped.Error()})
			h.done()
		default:
			return
		}
	}
}

// process scans one delivery's run and records the outcome.
func (h *Handler) process(ctx context.Context, d store.WebhookDelivery) {
	defer h.done()
	if ctx.Err() != nil {
		h.finish(ctx, d, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: errStopped.Error()})
		return
	}
	rr := h.scanner.ScanWorkflowRun(ctx, d.Repository, d.WorkflowRunID)
	o := store.DeliveryOutcome{Status: store.DeliveryScanned, ScanID: rr.ScanID}
	if rr.Err != nil || rr.Status != store.ScanComplete {
		o.Status = store.DeliveryFailed
		if rr.Err != nil {
			o.Error = rr.Err.Error()
		} else {
			o.Error = "the scan did not complete"
		}
	}
	h.finish(ctx, d, o)
	h.maybePrune(ctx)
}

// done marks one accepted delivery finished.
func (h *Handler) done() {
	<-h.slots
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pending--
	if h.pending == 0 {
		h.idle.Broadcast() // wakes Wait
	}
}

// finish records a queued delivery's outcome and logs it. It records even
// when ctx is done, since shutting down is when outcomes matter most.
func (h *Handler) finish(ctx context.Context, d store.WebhookDelivery, o store.DeliveryOutcome) {
	o.ProcessedAt = h.clock.Now()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	attrs := append(deliveryAttrs(d), slog.String("status", string(o.Status)), slog.Int64("scan_id", o.ScanID))
	level, msg := slog.LevelInfo, "webhook delivery scanned"
	if o.Status != store.DeliveryScanned {
		level, msg = slog.LevelWarn, "webhook delivery failed"
		attrs = append(attrs, slog.String("error", o.Error))
	}
	if err := h.deliveries.FinishDelivery(fctx, d.ID, o); err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.Any("record_error", err))
	}
	h.logger.LogAttrs(ctx, level, msg, attrs...)
}

// maybePrune deletes deliveries older than the retention, at most once per
// pruneEvery. Failing to prune only costs disk, so it is logged and retried
// later.
func (h *Handler) maybePrune(ctx context.Context) {
	now := h.clock.Now()
	h.mu.Lock()
	due := h.lastPrune.IsZero() || now.Sub(h.lastPrune) >= pruneEvery
	if due {
		h.lastPrune = now
	}
	h.mu.Unlock()
	if !due {
		return
	}
	n, err := h.deliveries.PruneDeliveries(ctx, now.Add(-h.retention))
	if err != nil {
		h.logger.WarnContext(ctx, "could not prune old webhook deliveries", slog.Any("error", err))
		return
	}
	if n > 0 {
		h.logger.InfoContext(ctx, "pruned old webhook deliveries", slog.Int("deleted", n), slog.Duration("retention", h.retention))
	}
}
