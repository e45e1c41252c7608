package metrics

import (
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExposition(t *testing.T) {
	t.Parallel()
	r := New()
	runs := r.NewCounterVec("retentiond_runs_total", "Runs by final status.", "status")
	remaining := r.NewGauge("retentiond_github_rate_limit_remaining", "Requests left.")
	r.NewCounterFunc("retentiond_github_requests_total", "Requests.", func() float64 { return 7 })
	h := r.NewHistogram("retentiond_scan_duration_seconds", "Scan durations.", []float64{1, 10})
	runs.Add("succeeded", 2)
	runs.Add(`par"tial`, 1)
	remaining.Set(4999)
	h.Observe(0.5)
	h.Observe(5)
	h.Observe(50)

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	want := `# HELP retentiond_runs_total Runs by final status.
# TYPE retentiond_runs_total counter
retentiond_runs_total{status="par\"tial"} 1
retentiond_runs_total{status="succeeded"} 2
# HELP retentiond_github_rate_limit_remaining Requests left.
# TYPE retentiond_github_rate_limit_remaining gauge
retentiond_github_rate_limit_remaining 4999
# HELP retentiond_github_requests_total Requests.
# TYPE retentiond_github_requests_total counter
retentiond_github_requests_total 7
# HELP retentiond_scan_duration_seconds Scan durations.
# TYPE retentiond_scan_duration_seconds histogram
retentiond_scan_duration_seconds_bucket{le="1"} 1
retentiond_scan_duration_seconds_bucket{le="10"} 2
retentiond_scan_duration_seconds_bucket{le="+Inf"} 3
retentiond_scan_duration_seconds_sum 55.5
retentiond_scan_duration_seconds_count 3
`
	if diff := cmp.Diff(want, rec.Body.String()); diff != "" {
		t.Errorf("exposition (-want +got):\n%s", diff)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
}
