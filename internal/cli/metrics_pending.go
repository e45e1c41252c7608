package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/retentiond/retentiond/internal/store"
)

// pendingSource is what the pending-deletion series read, at scrape time.
type pendingSource interface {
	PendingDeletions(ctx context.Context) (store.Pending, error)
}

// pendingCollector exports the audit log's pending deletions at each
// scrape: how many there are, and when the oldest was recorded. A pending
// row lives for one DELETE in a healthy run; one that stays for an hour was
// left by a process that died and whose start-up resolution has not worked
// (GitHub unreachable, say), which is what the PendingDeletionStuck alert
// watches.
//
// The oldest is a timestamp, not an age, as Prometheus' naming advice has
// it, so it is exported only while there is one: an alert computes
// time() - retentiond_oldest_pending_deletion_timestamp_seconds.
type pendingCollector struct {
	src    pendingSource
	logger *slog.Logger
	count  *prometheus.Desc
	oldest *prometheus.Desc
}

func newPendingCollector(src pendingSource, logger *slog.Logger) *pendingCollector {
	return &pendingCollector{
		src:    src,
		logger: logger.With(slog.String("component", "metrics")),
		count: prometheus.NewDesc("retentiond_pending_deletions",
			"Deletions whose intent is recorded and whose DELETE is not resolved yet.", nil, nil),
		oldest: prometheus.NewDesc("retentiond_oldest_pending_deletion_timestamp_seconds",
			"When the oldest pending deletion was recorded (Unix time); absent while none is pending.", nil, nil),
	}
}

func (c *pendingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.count
	ch <- c.oldest
}

// Collect queries the database once. When it cannot answer, both series are
// left out of this scrape (and logged) rather than failing the whole scrape:
// /readyz already reports the database, and the run series stay visible.
func (c *pendingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, err := c.src.PendingDeletions(ctx)
	if err != nil {
		c.logger.WarnContext(ctx, "metrics: could not count pending deletions", slog.Any("error", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(p.Count))
	if p.Count > 0 {
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, float64(p.Oldest.UnixNano())/1e9)
	}
}
