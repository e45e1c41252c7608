package runner

import (
	"github.com/retentiond/retentiond/internal/metrics"
)

// Metrics are the series a run updates. A nil *Metrics records nothing.
type Metrics struct {
	Runs           *metrics.Vec
	ArtifactsSeen  metrics.Scalar
	Deletions      *metrics.Vec
	BytesReclaimed metrics.Scalar
	WouldReclaim   metrics.Scalar
	ScanDuration   *metrics.Histogram
	LastRunTime    metrics.Scalar
}

// NewMetrics registers the run series in reg.
func NewMetrics(reg *metrics.Registry) *Metrics {
	return &Metrics{
		Runs:           reg.NewCounterVec("retentiond_runs_total", "Runs by final status.", "status"),
		ArtifactsSeen:  reg.NewGauge("retentiond_artifacts_seen", "Artifacts listed by the latest run."),
		Deletions:      reg.NewCounterVec("retentiond_deletions_total", "Delete decisions by outcome.", "outcome"),
		BytesReclaimed: reg.NewCounter("retentiond_bytes_reclaimed_total", "Bytes of artifacts deleted (or found already gone)."),
		WouldReclaim:   reg.NewGauge("retentiond_would_reclaim_bytes", "Bytes the latest dry-run would have reclaimed."),
		ScanDuration:   reg.NewHistogram("retentiond_scan_duration_seconds", "Duration of repository scans.", []float64{0.5, 1, 2.5, 5, 10, 30, 60, 300, 900}),
		LastRunTime:    reg.NewGauge("retentiond_last_run_timestamp_seconds", "When the latest run finished (Unix time)."),
	}
}

func (m *Metrics) observe(sum *Summary) {
	if m == nil {
		return
	}
	m.Runs.Add(sum.Status, 1)
	if sum.Trigger != TriggerApply { // an apply scans nothing
		arts, _, _ := sum.Scan.Totals()
		m.ArtifactsSeen.Set(float64(arts))
	}
	for _, rr := range sum.Scan.Repos {
		m.ScanDuration.Observe(rr.Duration.Seconds())
	}
	jr := sum.Janitor
	for outcome, n := range map[string]int{
		"dry_run": jr.DryRun, "deleted": jr.Deleted, "already_gone": jr.AlreadyGone, "failed": jr.Failed,
		"skipped_cap": jr.SkippedCap, "skipped_rate_limit": jr.SkippedRateLimit, "interrupted": jr.Interrupted,
		"changed": jr.Changed, "expired_not_archived": jr.ExpiredNotArchived,
	} {
		if n > 0 {
			m.Deletions.Add(outcome, float64(n))
		}
	}
	m.BytesReclaimed.Add(float64(jr.BytesReclaimed))
	if sum.DryRun {
		m.WouldReclaim.Set(float64(jr.WouldReclaim))
	}
	m.LastRunTime.Set(float64(sum.FinishedAt.Unix()))
}
