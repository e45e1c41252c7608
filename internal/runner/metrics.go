package runner

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/janitor"
)

// Metrics are the series a run updates. A nil *Metrics records nothing.
type Metrics struct {
	runs           *prometheus.CounterVec
	artifactsSeen  prometheus.Gauge
	deletions      *prometheus.CounterVec
	bytesReclaimed prometheus.Counter
	wouldReclaim   prometheus.Gauge
	scanDuration   prometheus.Histogram
	lastRunTime    prometheus.Gauge
	discovery      *discoveryMetrics
	requests       *requestMetrics
	storage        *storageMetrics // see savings.go
	lastSuccess    prometheus.Gauge
}

// NewMetrics registers the run series with reg. Every run status and every
// outcome a delete decision can end with is exported at 0 from the start, so
// that a rate or an alert over them has a series before the first run.
//
// Registering fails only on a programming error (a name registered twice),
// so it panics like prometheus.MustRegister.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "retentiond_runs_total", Help: "Runs by final status.",
		}, []string{"status"}),
		artifactsSeen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "retentiond_artifacts_seen", Help: "Artifacts listed by the latest run.",
		}),
		deletions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "retentiond_deletions_total", Help: "Delete decisions by outcome.",
		}, []string{"outcome"}),
		bytesReclaimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "retentiond_bytes_reclaimed_total", Help: "Storage freed by deletions: bytes of the artifacts deleted or found already gone, expired ones left out.",
		}),
		wouldReclaim: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "retentiond_would_reclaim_bytes", Help: "Storage the latest dry-run would have freed, expired artifacts left out.",
		}),
		scanDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "retentiond_scan_duration_seconds", Help: "Duration of repository scans.",
			Buckets: []float64{0.5, 1, 2.5, 5, 10, 30, 60, 300, 900},
		}),
		lastRunTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "retentiond_last_run_timestamp_seconds", Help: "When the latest run finished (Unix time).",
		}),
		// An alert on "no successful run in two periods" needs the last
		// success, not the last run: a run that fails every hour is recent.
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "retentiond_last_successful_run_timestamp_seconds", Help: "When the latest succeeded run finished (Unix time); 0 until one has, read from the database at start.",
		}),
	}
	reg.MustRegister(m.runs, m.artifactsSeen, m.deletions, m.bytesReclaimed, m.wouldReclaim, m.scanDuration, m.lastRunTime, m.lastSuccess)
	m.discovery = newDiscoveryMetrics(reg)
	m.requests = newRequestMetrics(reg)
	m.storage = newStorageMetrics(reg)
	// Every label value exists from the start, at 0.
	for _, st := range Statuses {
		m.runs.WithLabelValues(string(st))
	}
	for _, o := range deletionOutcomes() {
		m.deletions.WithLabelValues(string(o))
	}
	return m
}

// deletionOutcomes returns the outcomes a delete decision of a finished run
// can end with, and so the values of retentiond_deletions_total's outcome
// label: every store outcome except kept (a keep decision's) and pending
// (resolved before a run ends, or by the next start).
func deletionOutcomes() []store.Outcome {
	var out []store.Outcome
	for _, o := range store.Outcomes() {
		if o != store.OutcomeKept && o != store.OutcomePending {
			out = append(out, o)
		}
	}
	return out
}

// deletionCounts counts a janitor report's delete decisions by outcome.
func deletionCounts(jr janitor.Report) map[store.Outcome]int {
	return map[store.Outcome]int{
		store.OutcomeDryRun:             jr.DryRun,
		store.OutcomeDeleted:            jr.Deleted,
		store.OutcomeAlreadyGone:        jr.AlreadyGone,
		store.OutcomeFailed:             jr.Failed,
		store.OutcomeSkippedCap:         jr.SkippedCap,
		store.OutcomeSkippedRateLimit:   jr.SkippedRateLimit,
		store.OutcomeInterrupted:        jr.Interrupted,
		store.OutcomeChanged:            jr.Changed,
		store.OutcomeExpiredNotArchived: jr.ExpiredNotArchived,
	}
}

func (m *Metrics) observe(sum *Summary) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(string(sum.Status)).Inc()
	if sum.Trigger != TriggerApply { // an apply scans nothing
		arts, _, _ := sum.Scan.Totals()
		m.artifactsSeen.Set(float64(arts))
	}
	for _, rr := range sum.Scan.Repos {
		m.scanDuration.Observe(rr.Duration.Seconds())
	}
	for outcome, n := range deletionCounts(sum.Janitor) {
		if n > 0 {
			m.deletions.WithLabelValues(string(outcome)).Add(float64(n))
		}
	}
	m.bytesReclaimed.Add(float64(sum.Janitor.BytesReclaimed))
	if sum.DryRun {
		m.wouldReclaim.Set(float64(sum.Janitor.WouldReclaim))
	}
	m.lastRunTime.Set(float64(sum.FinishedAt.Unix()))
	m.discovery.observe(sum)
	m.requests.observe(sum)
	if sum.Status == StatusSucceeded {
		m.lastSuccess.Set(float64(sum.FinishedAt.Unix()))
	}
}

// SetLastSuccess sets retentiond_last_successful_run_timestamp_seconds, as
// serve does at start from the database, so that a restart does not look
// like a daemon that never succeeded.
func (m *Metrics) SetLastSuccess(t time.Time) {
	if m == nil || t.IsZero() {
		return
	}
	m.lastSuccess.Set(float64(t.Unix()))
}
