package githubsim

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// delay waits the configured latency, in real time, before a request is
// served. It reports false if the request's context ended first. Tests of
// behaviour leave latency off; it exists for wall-time benchmarks, where
// what a scan costs is mostly round trips.
func (s *Server) delay(r *http.Request) bool {
	d := time.Duration(s.latency.Load())
	if j := time.Duration(s.jitter.Load()); j > 0 {
		d += rand.N(j + 1)
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// SetLatency changes the injected latency (Options.Latency and
// LatencyJitter) for the requests that arrive from now on.
func (s *Server) SetLatency(latency, jitter time.Duration) {
	s.latency.Store(int64(max(latency, 0)))
	s.jitter.Store(int64(max(jitter, 0)))
}
