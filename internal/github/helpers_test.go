package github

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
)

// t0 is where every fake clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testToken = "ghp_TESTtoken0123456789abcdefghijklmnopq"

// harness is a Client pointed at an httptest server, on a fake clock, with
// its logs captured.
type harness struct {
	srv   *httptest.Server
	clock *clock.Fake
	c     *Client
	logs  *syncBuffer
}

// newHarness starts h and builds a client for it. mod may adjust the Config.
func newHarness(t testing.TB, h http.Handler, mod ...func(*Config)) *harness {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	fake := clock.NewFake(t0)
	logs := &syncBuffer{}
	cfg := Config{
		BaseURL:    srv.URL,
		Token:      testToken,
		Clock:      fake,
		HTTPClient: srv.Client(),
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.retry.jitter = func(d time.Duration) time.Duration { return d }
	return &harness{srv: srv, clock: fake, c: c, logs: logs}
}

// syncBuffer is a bytes.Buffer safe for a logger used from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// script answers the nth request with steps[n], repeating the last step, and
// records what it was asked.
type script struct {
	steps []http.HandlerFunc
	mu    sync.Mutex
	reqs  []*http.Request
}

func newScript(steps ...http.HandlerFunc) *script { return &script{steps: steps} }

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, r.Clone(r.Context()))
	s.mu.Unlock()
	s.steps[min(n, len(s.steps)-1)](w, r)
}

// requests returns the requests received so far.
func (s *script) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

func (s *script) count() int { return len(s.requests()) }

// rate sets GitHub's x-ratelimit-* headers.
func rate(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	w.Header().Set("X-Ratelimit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-Ratelimit-Used", strconv.Itoa(limit-remaining))
	w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	w.Header().Set("X-Ratelimit-Resource", "core")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers with a GitHub-shaped error body.
func fail(status int, message, docURL string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		rate(w, 5000, 4000, t0.Add(time.Hour))
		writeJSON(w, status, map[string]string{"message": message, "documentation_url": docURL})
	}
}

// primaryLimited answers like an exhausted primary rate limit.
func primaryLimited(status int, reset time.Time) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		rate(w, 5000, 0, reset)
		writeJSON(w, status, map[string]string{
			"message":           "API rate limit exceeded for user ID 1.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-rate-limit",
		})
	}
}

// secondaryLimited answers like a secondary rate limit; retryAfter "" omits the header.
func secondaryLimited(retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		rate(w, 5000, 4000, t0.Add(time.Hour))
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, http.StatusForbidden, map[string]string{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
	}
}

// abort drops the connection without answering.
func abort(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// okList answers with one page of the given artifacts and no Link header.
func okList(arts ...*gh.Artifact) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		rate(w, 5000, 4999, t0.Add(time.Hour))
		writeJSON(w, http.StatusOK, gh.ArtifactList{TotalCount: new(int64(len(arts))), Artifacts: arts})
	}
}

// ghArtifact is a fully populated go-github artifact with the given id.
func ghArtifact(id int64) *gh.Artifact {
	created := t0.Add(-time.Duration(id) * time.Minute)
	return &gh.Artifact{
		ID:                 new(id),
		NodeID:             new(fmt.Sprintf("MDg6QXJ0aWZhY3Q%d", id)),
		Name:               new(fmt.Sprintf("build-%d", id)),
		SizeInBytes:        new(id * 1000),
		URL:                new(fmt.Sprintf("https://api.github.com/repos/o/r/actions/artifacts/%d", id)),
		ArchiveDownloadURL: new(fmt.Sprintf("https://api.github.com/repos/o/r/actions/artifacts/%d/zip", id)),
		Expired:            new(false),
		CreatedAt:          &gh.Timestamp{Time: created},
		UpdatedAt:          &gh.Timestamp{Time: created},
		ExpiresAt:          &gh.Timestamp{Time: created.Add(90 * 24 * time.Hour)},
		Digest:             new(fmt.Sprintf("sha256:%064d", id)),
		WorkflowRun: &gh.ArtifactWorkflowRun{
			ID:               new(id + 7000),
			RepositoryID:     new(int64(42)),
			HeadRepositoryID: new(int64(42)),
			HeadBranch:       new("main"),
			HeadSHA:          new(fmt.Sprintf("%040d", id)),
		},
	}
}

// pagedRepo serves n artifacts of o/r the way GitHub pages them: ids
// descending, per_page capped at 100, page 1 at /repos/o/r/… and Link headers
// pointing at /repositories/42/….
type pagedRepo struct {
	n    int
	mu   sync.Mutex
	uris []string
}

func (p *pagedRepo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.uris = append(p.uris, r.URL.RequestURI())
	p.mu.Unlock()
	if r.URL.Path != "/repos/o/r/actions/artifacts" && r.URL.Path != "/repositories/42/actions/artifacts" {
		fail(http.StatusNotFound, "Not Found", "https://docs.github.com/rest")(w, r)
		return
	}
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := max((p.n+per-1)/per, 1)

	var arts []*gh.Artifact
	for i := (page - 1) * per; i < min(page*per, p.n); i++ {
		arts = append(arts, ghArtifact(int64(p.n-i)))
	}
	link := func(n int) string {
		return fmt.Sprintf(`<http://%s/repositories/42/actions/artifacts?per_page=%d&page=%d>`, r.Host, per, n)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1)+`; rel="prev"`)
	}
	if page < last {
		links = append(links, link(page+1)+`; rel="next"`, link(last)+`; rel="last"`)
	}
	if page > 1 {
		links = append(links, link(1)+`; rel="first"`)
	}
	if last > 1 {
		w.Header().Set("Link", joinLinks(links))
	}
	rate(w, 5000, 5000-len(p.seen()), t0.Add(time.Hour))
	writeJSON(w, http.StatusOK, gh.ArtifactList{TotalCount: new(int64(p.n)), Artifacts: arts})
}

func (p *pagedRepo) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.uris...)
}

func joinLinks(links []string) string {
	var b bytes.Buffer
	for i, l := range links {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l)
	}
	return b.String()
}

// collect is a ListArtifacts callback that records page sizes and ids.
type collect struct {
	sizes []int
	ids   []int64
}

func (c *collect) fn(page []artifact.Artifact) error {
	c.sizes = append(c.sizes, len(page))
	for _, a := range page {
		c.ids = append(c.ids, a.ID)
	}
	return nil
}

// testLogger logs everything, debug included, as text into b.
func testLogger(b *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
