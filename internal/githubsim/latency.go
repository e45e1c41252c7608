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
	d := s.latency
	if s.jitter > 0 {
		d += rand.N(s.jitter + 1)
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
