package cli

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/runner"
)

// newMetrics builds serve's Prometheus registry: the run series, the GitHub
// client's, the build's identity, the Go runtime's and the process's, and
// any extra collectors given. It returns the run series for the runner and
// the /metrics handler.
//
// The registry is private, not the library's global default, so that no
// package can add series behind serve's back and each test gets its own.
func newMetrics(gh *github.Client, logger *slog.Logger, extra ...prometheus.Collector) (*runner.Metrics, http.Handler) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(extra...)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newBudgetCollector(gh),
		buildInfoMetric(),
		// The client counts its requests itself (retries included), so the
		// series reads that count rather than keeping a second one.
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "retentiond_github_requests_total", Help: "GitHub API requests made, retries included.",
		}, func() float64 { return float64(gh.Requests()) }),
	)
	rm := runner.NewMetrics(reg)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.With(slog.String("component", "metrics")).Handler(), slog.LevelError),
	})
	return rm, h
}
