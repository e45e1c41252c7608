// Package githubsim is an in-memory simulator of the GitHub Actions artifacts
// REST API. It serves the endpoints retentiond uses (list, list per workflow
// run, get, delete, download) with GitHub's pagination, Link headers, rate-limit
// headers, ETags and error bodies, so the scanner, the client and the janitor
// can be tested and benchmarked without the network, and `retentiond demo` can
// run against a realistic fake organisation.
//
// A Server is an http.Handler: put it behind httptest.NewServer (or any
// http.Server) and point a client's base URL at it. Links and artifact URLs are
// built from the request's Host, so they are absolute and follow the listener.
// Paths may carry the GitHub Enterprise prefix /api/v3, which links then keep.
package githubsim

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/retentiond/retentiond/internal/clock"
)

// Options configures a Server. The zero value is a permissive server: no
// token required, write access, the wall clock and a 5,000 request budget.
type Options struct {
	// Token, when non-empty, must be sent as "Authorization: Bearer <token>"
	// or "Authorization: token <token>"; anything else gets 401 Bad credentials.
	Token string
	// ReadOnly makes DELETE answer 403, as GitHub does for a token without
	// write permission on Actions.
	ReadOnly bool
	// ForbiddenMessage is the 403 message of a ReadOnly DELETE. The default is
	// "Resource not accessible by personal access token"; an App installation
	// would get "Resource not accessible by integration".
	ForbiddenMessage string
	// Clock drives the rate-limit window, its reset time, secondary-limit
	// windows and download-link expiry. The default is clock.Real.
	Clock clock.Clock
	// RateLimit is the primary budget per hour. The default is 5,000.
	RateLimit int
	// RateLimitStatus is the status of a primary-limit refusal: 403 (the
	// default) or 429; GitHub uses both.
	RateLimitStatus int
	// SecondaryLimits turns on GitHub's automatic secondary limits: at most
	// MaxConcurrent requests in flight and SecondaryPointsPerMinute points per
	// minute per endpoint, where GET costs 1 and DELETE costs 5.
	SecondaryLimits bool
	// SecondaryPointsPerMinute defaults to 900.
	SecondaryPointsPerMinute int
	// MaxConcurrent defaults to 100.
	MaxConcurrent int
	// Logger receives one debug record per request. The default discards.
	Logger *slog.Logger
	// Latency delays every response by this much real time, plus a random
	// extra of up to LatencyJitter, to benchmark wall time as over a network
	// (see latency.go). Zero, the default, adds none. The delay is real even
	// with a fake Clock: it stands for the network, not for GitHub's clock.
	Latency       time.Duration
	LatencyJitter time.Duration
	// WithoutETags serves no ETag and ignores If-None-Match, for testing
	// that scans stay correct and cheap without them: GitHub's docs promise
	// ETags for most endpoints but do not name the artifacts list.
	WithoutETags bool
}

// Route names, as used by Fault.Route, OnRequest hooks and the keys of
// Requests ("GET list", "DELETE delete", ...).
const (
	RouteList     = "list"     // GET .../actions/artifacts
	RouteListRun  = "list_run" // GET .../actions/runs/{run_id}/artifacts
	RouteGet      = "get"      // GET .../actions/artifacts/{id}
	RouteDelete   = "delete"   // DELETE .../actions/artifacts/{id}
	RouteDownload = "download" // GET .../actions/artifacts/{id}/{archive_format}
	RouteBlob     = "blob"     // GET on the download link's target
	RouteUnknown  = "unknown"  // anything else: 404
)

// BlobWithAuthorization is the Requests key counting blob downloads that
// carried an Authorization header. A client must not send its token to the
// blob host, so tests assert this count stays zero.
const BlobWithAuthorization = "GET blob+authorization"

// Server simulates the GitHub Actions artifacts API. It is safe for
// concurrent use; seeding methods may be called while requests are served.
type Server struct {
	clock     clock.Clock
	log       *slog.Logger
	token     string
	readOnly  bool
	forbidden string
	secondary bool
	maxPoints int
	maxConc   int
	limStatus int
	blobKey   []byte
	latency   atomic.Int64 // time.Duration; see SetLatency
	jitter    atomic.Int64
	noETags   bool

	mu             sync.RWMutex
	repos          map[string]*repository // by lower-cased owner/name
	reposByID      map[int64]*repository
	owner          map[int64]*repository // artifact id → repository
	nextArtifactID int64
	nextRepoID     int64
	nextRunID      int64
	owners         map[string]*owner      // by lower-cased login
	nextOwnerID    int64                  // owners get ids in creation order
	moved          map[string]*repository // old names of renamed repositories

	rateMu    sync.Mutex
	rate      rateState
	secWindow map[string]*pointWindow

	inflight atomic.Int64

	apps appState

	faultMu    sync.Mutex
	faults     []*faultState
	faultCount atomic.Int32
	hooks      atomic.Pointer[[]func(route string, r *http.Request)]

	countMu sync.Mutex
	counts  map[countKey]int
	total   int
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	s := &Server{
		clock:     opts.Clock,
		log:       opts.Logger,
		token:     opts.Token,
		readOnly:  opts.ReadOnly,
		forbidden: opts.ForbiddenMessage,
		secondary: opts.SecondaryLimits,
		maxPoints: opts.SecondaryPointsPerMinute,
		maxConc:   opts.MaxConcurrent,
		limStatus: opts.RateLimitStatus,
		noETags:   opts.WithoutETags,

		repos:          make(map[string]*repository),
		reposByID:      make(map[int64]*repository),
		owner:          make(map[int64]*repository),
		nextArtifactID: 1_000_000_001,
		nextRepoID:     500_000_001,
		nextRunID:      9_000_000_001,

		secWindow: make(map[string]*pointWindow),
		counts:    make(map[countKey]int),
	}
	s.SetLatency(opts.Latency, opts.LatencyJitter)
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With(slog.String("component", "githubsim"))
	if s.forbidden == "" {
		s.forbidden = "Resource not accessible by personal access token"
	}
	if s.maxPoints <= 0 {
		s.maxPoints = 900
	}
	if s.maxConc <= 0 {
		s.maxConc = 100
	}
	if s.limStatus != http.StatusTooManyRequests {
		s.limStatus = http.StatusForbidden
	}
	limit := opts.RateLimit
	if limit <= 0 {
		limit = 5000
	}
	s.rate = rateState{limit: limit, reset: s.clock.Now().Add(time.Hour)}
	// The key signs download links so they can be checked without keeping
	// a table of issued links.
	s.blobKey = make([]byte, 32)
	_, _ = rand.Read(s.blobKey)
	return s
}

// call carries one request through the handlers.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	rt     route
	base   string    // scheme://host plus the /api/v3 prefix when used
	origin string    // scheme://host, where blobs live
	page   *rendered // the body of a list or get, made once (see render)
	cred   credential
}

// ServeHTTP routes a request through authentication, fault injection,
// conditional requests, rate limits and finally the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := parseRoute(r.Method, r.URL.Path)
	s.count(r.Method, rt.name, rt.name == RouteBlob && r.Header.Get("Authorization") != "")
	if rt.name != RouteBlob {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
	}
	if hooks := s.hooks.Load(); hooks != nil {
		for _, h := range *hooks {
			h(rt.name, r)
		}
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		w = sw
		start := time.Now()
		defer func() {
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
				slog.String("method", r.Method),
				slog.String("route", rt.name),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.status),
				slog.Duration("elapsed", time.Since(start)))
		}()
	}

	origin := "http://" + r.Host
	if r.TLS != nil {
		origin = "https://" + r.Host
	}
	c := &call{w: w, r: r, rt: rt, base: origin + rt.prefix, origin: origin}
	defer c.release()
	if !s.delay(r) {
		return // the client went away while the latency was injected
	}

	if rt.name == RouteBlob {
		if s.faultCount.Load() > 0 && !s.applyFault(c) {
			return
		}
		s.serveBlob(c)
		return
	}
	cred, msg := s.authenticate(r)
	if msg != "" {
		setRateHeaders(w.Header(), s.peekRate())
		writeError(w, http.StatusUnauthorized, msg, docRoot, false)
		return
	}
	c.cred = cred
	if !s.permitted(c) {
		return
	}
	if s.faultCount.Load() > 0 && !s.applyFault(c) {
		return
	}
	if rt.name == RouteRateLimit {
		s.serveRateLimit(c) // free, as GitHub's is
		return
	}
	if s.notModified(c) || s.ownerNotModified(c) {
		return
	}
	snap, ok := s.chargeBudget(s.budget(cred))
	setRateHeaders(w.Header(), snap)
	if !ok {
		writeError(w, s.limStatus, "API rate limit exceeded for user ID 1.", docPrimaryLimit, false)
		return
	}
	if s.secondary {
		if retryAfter, limited := s.secondaryLimited(r.Method, rt.name); limited {
			if retryAfter > 0 {
				w.Header().Set("Retry-After", itoa(retryAfter))
			}
			writeError(w, http.StatusForbidden, secondaryMessage, docSecondaryLimit, false)
			return
		}
	}
	if s.serveOwnerRoutes(c) {
		return
	}
	switch rt.name {
	case RouteList, RouteListRun:
		s.serveList(c)
	case RouteGet:
		s.serveGet(c)
	case RouteDelete:
		s.serveDelete(c)
	case RouteDownload:
		s.serveDownload(c)
	case RouteBranches:
		s.serveBranches(c)
	case RouteAppInstallations:
		s.serveAppInstallations(c)
	case RouteAccessTokens:
		s.serveAccessToken(c)
	case RouteInstallationRepos:
		s.serveInstallationRepos(c)
	case RouteRepo:
		s.serveRepo(c)
	default:
		writeError(w, http.StatusNotFound, "Not Found", docRoot, true)
	}
}

// statusWriter remembers the status for the debug log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
