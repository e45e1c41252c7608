package githubsim

import (
	"net/http"
	"slices"
)

// OnRequest registers fn to run at the start of every request, before
// anything else is decided, with the route name. It runs on the request's
// goroutine without locks held, so it may seed, remove artifacts or inject
// faults, e.g. to delete an artifact between two pages of a scan.
func (s *Server) OnRequest(fn func(route string, r *http.Request)) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	var hooks []func(string, *http.Request)
	if old := s.hooks.Load(); old != nil {
		hooks = slices.Clone(*old)
	}
	hooks = append(hooks, fn)
	s.hooks.Store(&hooks)
}

// countKey identifies a counter without building a string per request.
type countKey struct{ method, route string }

func (s *Server) count(method, routeName string, blobAuth bool) {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	s.counts[countKey{method, routeName}]++
	if blobAuth {
		s.counts[countKey{method, routeName + "+authorization"}]++
	}
	s.total++
}

// Requests returns how many requests each "METHOD route" got since the start
// or the last ResetCounts, e.g. "GET list", "DELETE delete", "GET blob", plus
// BlobWithAuthorization for blob requests that carried a token.
func (s *Server) Requests() map[string]int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, n := range s.counts {
		out[k.method+" "+k.route] = n
	}
	return out
}

// TotalRequests returns the number of requests since the start or the last ResetCounts.
func (s *Server) TotalRequests() int {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	return s.total
}

// ResetCounts zeroes the request counters.
func (s *Server) ResetCounts() {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	clear(s.counts)
	s.total = 0
}
