package runner

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/retentiond/retentiond/internal/store"
)

// recordSavings computes what the run saved in GB-hours (package savings)
// and writes it to the run's row, then updates the storage series. The
// run's totals are already recorded, so a failure here is logged and the
// run keeps its status: the figure can be computed again from the audit
// log (store.RecordRunSavings) at any time.
func (r *Runner) recordSavings(ctx context.Context, log *slog.Logger, sum *Summary) {
	rs, err := r.store.RecordRunSavings(ctx, sum.RunID, sum.FinishedAt)
	if err != nil {
		log.WarnContext(ctx, "could not record the run's savings", slog.Any("error", err))
		return
	}
	sum.Savings = rs
	sum.SavingsRecorded = true
	m := r.cfg.Metrics
	if m == nil || m.storage == nil {
		return
	}
	m.storage.observeSavings(sum)
	live, err := r.store.LiveStorageByRepository(ctx, sum.FinishedAt)
	if err != nil {
		log.WarnContext(ctx, "could not read live storage for the metrics", slog.Any("error", err))
		return
	}
	m.storage.setLive(live)
}

// storageMetrics are the storage and savings series.
type storageMetrics struct {
	top          int
	live         *prometheus.GaugeVec
	saved        prometheus.Counter
	wouldSave    prometheus.Gauge
	liveAccruing prometheus.Gauge
}

// defaultStorageTop is STORAGE_METRICS_TOP's default.
const defaultStorageTop = 10

// otherRepositories is the repository label of the series that sums every
// repository past the top N, so the label's values stay bounded however
// many repositories there are.
const otherRepositories = "other"

// byteSecondsPerGBHour converts GB-hours (GB = 10^9 bytes, as GitHub bills)
// to the base units Prometheus names metrics in.
const byteSecondsPerGBHour = 1e9 * 3600

func newStorageMetrics(reg prometheus.Registerer) *storageMetrics {
	m := &storageMetrics{
		top: defaultStorageTop,
		live: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "retentiond_storage_live_bytes",
			Help: "Artifact storage still billed, by repository, after the latest run: the top STORAGE_METRICS_TOP repositories, and 'other' for the rest.",
		}, []string{"repository"}),
		saved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "retentiond_storage_saved_byte_seconds_total",
			Help: "Storage that deletions saved, in byte-seconds (GitHub bills GB-hours: divide by 3.6e12): each deleted artifact's size × the time it had left until expires_at.",
		}),
		wouldSave: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "retentiond_storage_would_save_byte_seconds",
			Help: "Storage the latest dry-run's deletions would save, in byte-seconds (divide by 3.6e12 for GB-hours).",
		}),
		liveAccruing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "retentiond_storage_accruing_bytes",
			Help: "Artifact storage still billed by the hour after the latest run, over every repository.",
		}),
	}
	reg.MustRegister(m.live, m.saved, m.wouldSave, m.liveAccruing)
	return m
}

// SetStorageTop sets how many repositories get a series of their own in
// retentiond_storage_live_bytes (STORAGE_METRICS_TOP).
func (m *Metrics) SetStorageTop(n int) {
	if m != nil && m.storage != nil && n > 0 {
		m.storage.top = n
	}
}

func (m *storageMetrics) observeSavings(sum *Summary) {
	m.saved.Add(sum.Savings.Saved.GBHours * byteSecondsPerGBHour)
	if sum.DryRun {
		m.wouldSave.Set(sum.Savings.WouldSave.GBHours * byteSecondsPerGBHour)
	}
	m.liveAccruing.Set(float64(sum.Savings.LiveBytes))
}

// setLive replaces the per-repository series: a repository that left the
// top N loses its series rather than keeping a stale value.
func (m *storageMetrics) setLive(live []store.RepositoryStorage) {
	m.live.Reset()
	var other int64
	for i, rs := range live {
		if i < m.top {
			m.live.WithLabelValues(string(rs.Repository)).Set(float64(rs.LiveBytes))
			continue
		}
		other += rs.LiveBytes
	}
	if len(live) > m.top {
		m.live.WithLabelValues(otherRepositories).Set(float64(other))
	}
}
