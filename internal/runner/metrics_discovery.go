package runner

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/retentiond/retentiond/internal/discovery"
)

// discoveryStatuses are the values of retentiond_repositories' status label.
var discoveryStatuses = []discovery.Status{
	discovery.Scan, discovery.ArchivedScanOnly, discovery.ArchivedSkipped, discovery.Excluded, discovery.OwnerFailed,
}

// discoveryMetrics are the series of the repositories a run resolved.
type discoveryMetrics struct {
	repositories   *prometheus.GaugeVec
	listingFailure prometheus.Counter
}

func newDiscoveryMetrics(reg prometheus.Registerer) *discoveryMetrics {
	m := &discoveryMetrics{
		repositories: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "retentiond_repositories",
			Help: "Repositories the policy's repositories list reached in the latest run, by what the run did with them.",
		}, []string{"status"}),
		listingFailure: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "retentiond_owner_listing_failures_total",
			Help: "Owner repository listings that failed; that owner's pattern-matched repositories got nothing in that run.",
		}),
	}
	reg.MustRegister(m.repositories, m.listingFailure)
	for _, st := range discoveryStatuses {
		m.repositories.WithLabelValues(string(st))
	}
	return m
}

func (m *discoveryMetrics) observe(sum *Summary) {
	if m == nil || sum.Trigger == TriggerApply { // an apply resolves nothing
		return
	}
	n := map[discovery.Status]int{}
	for _, r := range sum.Discovery.Repos {
		n[r.Status]++
	}
	for _, st := range discoveryStatuses {
		m.repositories.WithLabelValues(string(st)).Set(float64(n[st]))
	}
	m.listingFailure.Add(float64(sum.Discovery.Counts().OwnersFailed))
}
