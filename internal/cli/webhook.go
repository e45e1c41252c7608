package cli

import (
	"context"
	"log/slog"

	"github.com/retentiond/retentiond/internal/webhook"
)

// webhookHandler returns the /webhook handler, started, or nil when
// WEBHOOK_SECRET is unset. Deliveries of completed workflow runs of the
// policy's repositories are scanned by SCAN_CONCURRENCY background workers
// until ctx ends; then the scan in flight is cancelled and it and the
// deliveries still queued are recorded failed, so a redelivery from GitHub
// scans them. Call Wait on the handler after ctx ends. The webhook never
// deletes.
func (a *app) webhookHandler(ctx context.Context, e *Env) *webhook.Handler {
	secret := a.cfg.Server.WebhookSecret.Reveal()
	if secret == "" {
		return nil
	}
	h := webhook.New(webhook.Config{
		Secret:       secret,
		Repositories: a.policy.Repositories,
		Selects:      a.policy.Selects,
		Scanner:      a.scanner(e),
		Deliveries:   a.store,
		Clock:        e.Clock,
		Logger:       a.logger,
		Workers:      a.cfg.Scan.Concurrency,
	})
	h.Start(ctx)
	a.logger.InfoContext(ctx, "webhook enabled: POST /webhook scans the artifacts of completed workflow runs",
		slog.Int("repositories", len(a.policy.Repositories)), slog.Int("workers", a.cfg.Scan.Concurrency))
	return h
}
