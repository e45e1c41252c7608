package githubsim

import (
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching requests misbehave. A request matches when Method,
// Route and Repository all match (empty matches anything). The fault fires on
// the Nth matching request (1-based; 0 means 1) and the Times-1 after it
// (Times 0 means every matching request from the Nth on).
//
// When it fires it first waits Delay (wall-clock time, given up as soon as
// the request's context is done, in which case nothing is written), then
// does the first that applies: Abort drops the connection; Malformed answers
// 200 with a truncated JSON body (Body if set); Status answers that status
// with Body (default: a GitHub error body) and Header. A fault with only a
// Delay then lets the request be served normally.
//
// Faults run after authentication and before rate limiting, and cost nothing
// from the primary budget, since they stand for trouble in front of the API.
// Their responses still carry the x-ratelimit-* headers unless NoRateHeaders
// is set (blob responses never do). Note that go-github reads x-ratelimit-reset
// as a secondary limit's retry-after when Retry-After is absent, so a test
// wanting AbuseRateLimitError.RetryAfter == nil sets NoRateHeaders.
type Fault struct {
	Method     string // "GET", "DELETE"; empty for any
	Route      string // RouteList, RouteDelete, ...; empty for any
	Repository string // owner/name, case-insensitive; empty for any
	Nth        int
	Times      int

	Delay         time.Duration
	Abort         bool
	Malformed     bool
	Status        int
	Body          string
	Header        http.Header
	NoRateHeaders bool
}

// truncatedBody is the default body of a Malformed fault.
const truncatedBody = `{"total_count":2,"artifacts":[{"id":1,"node_id":"MDg6QXJ0aWZhY3Qx","name":"bui`

type faultState struct {
	f    Fault
	seen int
}

// SecondaryLimitFault returns a fault on route answering 403 with GitHub's
// secondary-limit body, which go-github turns into *github.AbuseRateLimitError.
// A positive retryAfter is sent as Retry-After in whole seconds; zero sends
// none. Set Status to 429 on the result for the other form GitHub uses.
func SecondaryLimitFault(route string, retryAfter time.Duration) Fault {
	f := Fault{Route: route, Times: 1, Status: http.StatusForbidden}
	b := []byte(`{"message":`)
	b = appendString(b, secondaryMessage)
	b = append(b, `,"documentation_url":`...)
	b = appendString(b, docSecondaryLimit)
	f.Body = string(append(b, '}'))
	if retryAfter > 0 {
		secs := (retryAfter + time.Second - 1) / time.Second
		f.Header = http.Header{"Retry-After": {strconv.FormatInt(int64(secs), 10)}}
	}
	return f
}

// StatusFault returns a fault on route answering status once with a GitHub
// error body, for example 502 or 500.
func StatusFault(route string, status int) Fault {
	return Fault{Route: route, Times: 1, Status: status}
}

// DelayFault returns a fault on route that holds every matching request for d
// before serving it, or until the client gives up.
func DelayFault(route string, d time.Duration) Fault {
	return Fault{Route: route, Delay: d}
}

// MalformedFault returns a fault on route answering 200 with truncated JSON once.
func MalformedFault(route string) Fault {
	return Fault{Route: route, Times: 1, Malformed: true}
}

// AbortFault returns a fault on route that drops the connection once, so the
// client sees an unexpected EOF or a reset.
func AbortFault(route string) Fault {
	return Fault{Route: route, Times: 1, Abort: true}
}

// InjectFault adds f; faults are tried in the order added and the first that
// fires wins, while every matching fault counts the request.
func (s *Server) InjectFault(f Fault) {
	f.Method = strings.ToUpper(f.Method)
	if f.Repository != "" {
		f.Repository = mustParseRepository(f.Repository, "InjectFault")
	}
	f.Nth = max(f.Nth, 1)
	f.Header = f.Header.Clone()
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &faultState{f: f})
	s.faultCount.Store(int32(len(s.faults)))
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
	s.faultCount.Store(0)
}

// requestRepo names the repository of a request, lower-cased, or "".
func (s *Server) requestRepo(rt route) string {
	switch {
	case rt.name == RouteBlob:
		idPart, _, _ := strings.Cut(rt.blobPath, "/")
		id, _ := parseID(idPart)
		s.mu.RLock()
		defer s.mu.RUnlock()
		if r := s.reposByID[id]; r != nil {
			return r.key
		}
		return ""
	case rt.byID():
		s.mu.RLock()
		defer s.mu.RUnlock()
		if r := s.reposByID[rt.repoID]; r != nil {
			return r.key
		}
		return ""
	}
	key, err := parseRepository(rt.owner + "/" + rt.repo)
	if err != nil {
		return ""
	}
	return key
}

// firingFault counts the request against every matching fault and returns
// the first that fires.
func (s *Server) firingFault(method string, rt route) *Fault {
	repo := s.requestRepo(rt)
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	var fired *Fault
	for _, fs := range s.faults {
		f := &fs.f
		if (f.Method != "" && f.Method != method) || (f.Route != "" && f.Route != rt.name) ||
			(f.Repository != "" && f.Repository != repo) {
			continue
		}
		fs.seen++
		if fired == nil && fs.seen >= f.Nth && (f.Times == 0 || fs.seen < f.Nth+f.Times) {
			copied := *f
			fired = &copied
		}
	}
	return fired
}

// applyFault runs a firing fault, if any, and reports whether the request
// should still be served normally.
func (s *Server) applyFault(c *call) bool {
	f := s.firingFault(c.r.Method, c.rt)
	if f == nil {
		return true
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-c.r.Context().Done():
			return false
		case <-t.C:
		}
	}
	if f.Abort {
		// net/http recognises this panic and closes the connection quietly.
		panic(http.ErrAbortHandler)
	}
	if !f.Malformed && f.Status == 0 {
		return true
	}
	h := c.w.Header()
	if !f.NoRateHeaders && c.rt.name != RouteBlob {
		setRateHeaders(h, s.peekRate())
	}
	for k, vs := range f.Header {
		h[textproto.CanonicalMIMEHeaderKey(k)] = slices.Clone(vs)
	}
	// A Content-Type in f.Header wins, so a fault can serve an HTML error page.
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", jsonContentType)
	}
	switch {
	case f.Malformed:
		body := f.Body
		if body == "" {
			body = truncatedBody
		}
		writeBody(c.w, http.StatusOK, body)
	case f.Body != "":
		writeBody(c.w, f.Status, f.Body)
	default:
		writeError(c.w, f.Status, http.StatusText(f.Status), docRoot, false)
	}
	return false
}

func writeBody(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
