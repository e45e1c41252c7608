package githubsim

import (
	"net/http"
	"strconv"
	"time"
)

// rateState is the primary budget: used requests in the window ending at reset.
type rateState struct {
	limit int
	used  int
	reset time.Time
}

// rateSnapshot is what the x-ratelimit-* headers of one response say.
type rateSnapshot struct {
	limit, remaining, used int
	reset                  int64
}

// roll starts a new hour when the current one is over; the caller holds
// s.rateMu, which guards every budget.
func (r *rateState) roll(now time.Time) {
	if !now.Before(r.reset) {
		r.used = 0
		r.reset = now.Add(time.Hour)
	}
}

func (r *rateState) snapshot() rateSnapshot {
	return rateSnapshot{
		limit:     r.limit,
		remaining: max(0, r.limit-r.used),
		used:      r.used,
		reset:     r.reset.Unix(),
	}
}

// chargeBudget spends one request of budget b (the main token's, an
// installation's or an App's), or reports false when it is exhausted.
func (s *Server) chargeBudget(b *rateState) (rateSnapshot, bool) {
	now := s.clock.Now()
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	b.roll(now)
	if b.used >= b.limit {
		return b.snapshot(), false
	}
	b.used++
	return b.snapshot(), true
}

// peekRate returns the main budget without spending, for responses that are free.
func (s *Server) peekRate() rateSnapshot { return s.peekBudget(&s.rate) }

// peekBudget returns budget b without spending.
func (s *Server) peekBudget(b *rateState) rateSnapshot {
	now := s.clock.Now()
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	b.roll(now)
	return b.snapshot()
}

// setRateHeaders writes the x-ratelimit-* headers every API response carries.
func setRateHeaders(h http.Header, r rateSnapshot) {
	h.Set("X-Ratelimit-Limit", strconv.Itoa(r.limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(r.remaining))
	h.Set("X-Ratelimit-Used", strconv.Itoa(r.used))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(r.reset, 10))
	h.Set("X-Ratelimit-Resource", "core")
}

// SetRateLimit puts the primary budget in a given state: remaining requests
// left (clamped to [0, limit]) until reset, when a full hour starts again.
func (s *Server) SetRateLimit(remaining int, reset time.Time) {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	remaining = min(max(remaining, 0), s.rate.limit)
	s.rate.used = s.rate.limit - remaining
	s.rate.reset = reset
}

// RateLimit returns the primary budget as the next response would report it.
func (s *Server) RateLimit() (limit, remaining int, reset time.Time) {
	r := s.peekRate()
	return r.limit, r.remaining, time.Unix(r.reset, 0)
}

// pointWindow counts secondary-limit points of one endpoint in one minute.
type pointWindow struct {
	start  time.Time
	points int
}

// secondaryLimited applies GitHub's automatic secondary limits to a request
// that is already in flight. Too many concurrent requests are refused without
// Retry-After (GitHub gives none, so clients must back off on their own);
// an endpoint over its points for the minute is refused with Retry-After set
// to the seconds left in the minute. Refused requests cost no points.
func (s *Server) secondaryLimited(method, routeName string) (retryAfter int, limited bool) {
	if s.inflight.Load() > int64(s.maxConc) {
		return 0, true
	}
	cost := 1
	if method == http.MethodDelete {
		cost = 5
	}
	now := s.clock.Now()
	key := method + " " + routeName
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	w := s.secWindow[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		w = &pointWindow{start: now}
		s.secWindow[key] = w
	}
	if w.points+cost > s.maxPoints {
		left := w.start.Add(time.Minute).Sub(now)
		return int((left + time.Second - 1) / time.Second), true
	}
	w.points += cost
	return 0, false
}
