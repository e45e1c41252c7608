// Package ui serves retentiond's read-only review page: the latest runs,
// one run's decisions grouped, filtered and paginated, one artifact's
// decision history, and storage by repository as a chart. It renders HTML on
// the server with html/template (every value is escaped for its context:
// artifact and branch names are attacker-controlled), needs no JavaScript,
// loads nothing from elsewhere, and never changes anything: it answers only
// GET and HEAD.
package ui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/store"
)

// Store is what the page reads; *store.Store implements it.
type Store interface {
	RecentRuns(ctx context.Context, before int64, limit int) ([]store.RunWithSavings, error)
	Run(ctx context.Context, id int64) (store.Run, error)
	ReviewBreakdown(ctx context.Context, runID int64) (store.RunBreakdown, error)
	ReviewDecisions(ctx context.Context, p store.DecisionPage) ([]store.AuditEntry, error)
	ArtifactHistory(ctx context.Context, artifactID int64) ([]store.DecisionSpan, error)
	Artifact(ctx context.Context, id int64) (store.StoredArtifact, error)
	StorageByRepository(ctx context.Context, now time.Time, limit int) ([]store.ReviewStorage, error)
}

// Options configure Handler.
type Options struct {
	Store  Store
	Clock  clock.Clock
	Logger *slog.Logger
	// Access is who may see the page; the zero value lets everyone in.
	Access Access
	// PageSize is the number of runs or decisions per page (default 50).
	PageSize int
}

// ContentSecurityPolicy is sent with every response. Nothing but the
// page's own stylesheet may load: no script at all, no frame, no form
// posting elsewhere. The chart is inline SVG, which needs no source.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

type server struct {
	opts       Options
	pages      map[string]*template.Template
	breakdowns breakdowns
}

// Patterns are the routes to mount Handler on in the daemon's mux. They are
// GET patterns, so the mux answers any other method with 405 itself, and the
// daemon's own paths (/healthz, /readyz, /metrics, /webhook) keep their
// behaviour.
var Patterns = []string{"GET /{$}", "GET /runs/", "GET /artifacts/", "GET /storage", "GET /static/"}

// Handler returns the review page's handler: /, /runs/{id}, /artifacts/{id},
// /storage and /static/style.css, a 404 page elsewhere, and a 405 for any
// method but GET and HEAD.
func Handler(o Options) http.Handler {
	if o.PageSize <= 0 {
		o.PageSize = 50
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	s := &server{opts: o, pages: parsePages()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.runsPage)
	mux.HandleFunc("GET /runs/{id}", s.runPage)
	mux.HandleFunc("GET /artifacts/{id}", s.artifactPage)
	mux.HandleFunc("GET /storage", s.storagePage)
	mux.HandleFunc("GET /static/style.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(styleCSS)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "There is no such page.")
	})
	return securityHeaders(readOnly(o.Access.guard(o.Logger, mux)))
}

// securityHeaders sets the headers every response carries, errors and 401s
// included.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		// Decisions may name private repositories: keep them out of
		// shared caches.
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// readOnly refuses every method but GET and HEAD before anything else runs,
// whatever the path: the page has no route that changes anything.
func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the review page is read-only: only GET and HEAD", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// render executes page with data into a buffer first, so a template error
// becomes a clean 500 rather than half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.opts.Logger.ErrorContext(r.Context(), "rendering the review page", slog.String("page", page), slog.Any("error", err))
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorView struct {
	Title   string
	Status  int
	Message string
}

// fail shows an error page; msg is shown to the reader, so it never
// carries an internal error's text.
func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", errorView{Title: http.StatusText(status), Status: status, Message: msg})
}

// storeFailed logs a database error and shows a 500 (or a 404 for a run or
// artifact that does not exist).
func (s *server) storeFailed(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "There is no such "+what+".")
		return
	}
	if errors.Is(r.Context().Err(), context.Canceled) {
		return // the reader went away
	}
	s.opts.Logger.ErrorContext(r.Context(), "reading the review page's data", slog.String("reading", what), slog.Any("error", err))
	s.fail(w, r, http.StatusInternalServerError, "Could not read the "+what+" from the database; the log says why.")
}
