package runner

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/retentiond/retentiond/internal/store"
)

// requestMetrics are the series of incremental scans and the budget.
type requestMetrics struct {
	scans     *prometheus.CounterVec
	requests  *prometheus.CounterVec
	fallbacks prometheus.Counter
	skipped   prometheus.Gauge
	estimated prometheus.Gauge
}

func newRequestMetrics(reg prometheus.Registerer) *requestMetrics {
	m := &requestMetrics{
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "retentiond_repository_scans_total", Help: "Complete repository scans of runs, by mode: full, incremental, not_modified.",
		}, []string{"mode"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "retentiond_scan_requests_total", Help: "Requests made by the repository scans of runs, by scan mode and whether they counted against the rate limit.",
		}, []string{"mode", "costed"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "retentiond_scan_fallbacks_total", Help: "Incremental or not-modified scans that did not reconcile and listed every page.",
		}),
		skipped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "retentiond_run_repositories_skipped", Help: "Repositories the latest run left unscanned, and without deletions, to keep RATE_LIMIT_RESERVE.",
		}),
		estimated: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "retentiond_run_requests_estimated", Help: "Requests the latest run estimated it needed before scanning, deletions included.",
		}),
	}
	reg.MustRegister(m.scans, m.requests, m.fallbacks, m.skipped, m.estimated)
	for _, mode := range []store.ScanMode{store.ScanFull, store.ScanIncremental, store.ScanNotModified} {
		m.scans.WithLabelValues(string(mode))
		m.requests.WithLabelValues(string(mode), "true")
		m.requests.WithLabelValues(string(mode), "false")
	}
	return m
}

func (m *requestMetrics) observe(sum *Summary) {
	if m == nil || sum.Trigger == TriggerApply {
		return
	}
	for _, rr := range sum.Scan.Repos {
		if rr.Mode == "" {
			continue
		}
		if rr.Status == store.ScanComplete {
			m.scans.WithLabelValues(string(rr.Mode)).Inc()
		}
		m.requests.WithLabelValues(string(rr.Mode), strconv.FormatBool(true)).Add(float64(rr.Costed))
		m.requests.WithLabelValues(string(rr.Mode), strconv.FormatBool(false)).Add(float64(rr.Requests - rr.Costed))
		if rr.Fallback != "" {
			m.fallbacks.Inc()
		}
	}
	m.skipped.Set(float64(len(sum.Budget.Skipped)))
	m.estimated.Set(float64(sum.Budget.Estimated))
}
