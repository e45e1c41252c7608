package cli

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/retentiond/retentiond/internal/github"
)

// budgetCollector exports each rate-limit budget of the GitHub client as
// series labelled budget: "token", or a GitHub App installation's id. The
// label is bounded by the installations the policy's owners have, and is
// never a credential.
type budgetCollector struct {
	gh                        *github.Client
	remaining, limit, resetAt *prometheus.Desc
}

func newBudgetCollector(gh *github.Client) *budgetCollector {
	label := []string{"budget"}
	return &budgetCollector{
		gh: gh,
		remaining: prometheus.NewDesc("retentiond_github_rate_limit_remaining",
			"GitHub primary rate limit left, per budget (the token, or a GitHub App installation); -1 until known.", label, nil),
		limit: prometheus.NewDesc("retentiond_github_rate_limit_limit",
			"GitHub primary rate limit per hour, per budget; -1 until known.", label, nil),
		resetAt: prometheus.NewDesc("retentiond_github_rate_limit_reset_timestamp_seconds",
			"When the budget's primary rate limit resets (Unix time); 0 until known.", label, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *budgetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.remaining
	ch <- c.limit
	ch <- c.resetAt
}

// Collect implements prometheus.Collector.
func (c *budgetCollector) Collect(ch chan<- prometheus.Metric) {
	for _, b := range c.gh.Budgets() {
		remaining, limit, reset := -1.0, -1.0, 0.0
		if b.Known {
			remaining, limit = float64(b.Remaining), float64(b.Limit)
			if !b.Reset.IsZero() {
				reset = float64(b.Reset.Unix())
			}
		}
		ch <- prometheus.MustNewConstMetric(c.remaining, prometheus.GaugeValue, remaining, b.Name)
		ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, limit, b.Name)
		ch <- prometheus.MustNewConstMetric(c.resetAt, prometheus.GaugeValue, reset, b.Name)
	}
}
