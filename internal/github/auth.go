package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/retentiond/retentiond/internal/clock"
)

// Credentials. A request spends one rate-limit budget and carries the
// credentials of that budget: the one token (GITHUB_TOKEN, or the file
// GITHUB_TOKEN_FILE names, re-read when it changes), or with GitHub App
// authentication the installation token of the owner the request is for.

// budgetState is one rate-limit budget: its name for metrics and logs, where
// its credentials come from, and its rate limit as the latest response
// reported it.
type budgetState struct {
	name string
	src  tokenSource

	mu   sync.Mutex
	rate RateState
}

func (b *budgetState) rateState() RateState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate
}

// observe keeps the x-ratelimit-* state of the latest response that had it.
// Responses without the headers (some proxies, the blob host) or about
// another resource than core leave the state alone rather than erase it.
func (b *budgetState) observe(h http.Header) {
	if res := h.Get("X-Ratelimit-Resource"); res != "" && res != "core" {
		return
	}
	st, ok := parseRate(h)
	if !ok {
		return
	}
	b.set(st)
}

func (b *budgetState) set(st RateState) {
	b.mu.Lock()
	b.rate = st
	b.mu.Unlock()
}

// tokenSource gives the bearer token of a budget.
type tokenSource interface {
	// token returns the token to send now, fetching or re-reading it if
	// it is due.
	token(ctx context.Context) (string, error)
	// refused is told that GitHub answered tok with 401. It reports
	// whether a fresh token may now be had, worth one more try.
	refused(ctx context.Context, tok string) bool
}

// staticToken is GITHUB_TOKEN: one token for the life of the process.
type staticToken string

func (s staticToken) token(context.Context) (string, error) { return string(s), nil }
func (s staticToken) refused(context.Context, string) bool  { return false }

// tokenFileCheckEvery is how often a token file is checked for a change: a
// stat, which is cheap, and a read only when its size or time changed.
const tokenFileCheckEvery = 5 * time.Second

// fileToken is GITHUB_TOKEN_FILE. A mounted secret (Kubernetes, Docker) is
// replaced in place when it is rotated, as installation tokens must be every
// hour, so a long-running serve re-reads it when it changes.
type fileToken struct {
	path    string
	clock   clock.Clock
	log     *slog.Logger
	secrets *secretSet

	mu      sync.Mutex
	tok     string
	checked time.Time // on the clock
	modTime time.Time
	size    int64
	failed  bool // the last read failed: logged once, until one succeeds
}

func newFileToken(path, initial string, c clock.Clock, log *slog.Logger, secrets *secretSet) *fileToken {
	f := &fileToken{path: path, tok: initial, clock: c, log: log, secrets: secrets, checked: c.Now()}
	if fi, err := os.Stat(path); err == nil {
		f.modTime, f.size = fi.ModTime(), fi.Size()
	}
	if initial == "" {
		f.reloadLocked(true)
	}
	return f
}

func (f *fileToken) token(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := f.clock.Now(); now.Sub(f.checked) >= tokenFileCheckEvery || now.Before(f.checked) {
		f.checked = now
		f.reloadLocked(false)
	}
	if f.tok == "" {
		return "", fmt.Errorf("GITHUB_TOKEN_FILE %s holds no token", f.path)
	}
	return f.tok, nil
}

// refused re-reads the file at once, whatever its time says: the secret may
// have been rotated a moment ago, and a 401 is rare enough to afford it.
func (f *fileToken) refused(_ context.Context, tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checked = f.clock.Now()
	f.reloadLocked(true)
	return f.tok != "" && f.tok != tok
}

// reloadLocked reads the file if it changed (or if force), and takes its
// token when it holds one. A file that cannot be read or is empty keeps the
// token that was there: a rotation caught half-way must not stop a run.
func (f *fileToken) reloadLocked(force bool) {
	fi, err := os.Stat(f.path)
	if err == nil && !force && fi.ModTime().Equal(f.modTime) && fi.Size() == f.size {
		return
	}
	var b []byte
	if err == nil {
		b, err = os.ReadFile(f.path)
	}
	tok := strings.TrimSpace(string(b))
	if err == nil && tok == "" {
		err = errors.New("the file is empty")
	}
	if err == nil && strings.ContainsAny(tok, "\r\n") {
		err = errors.New("the token is not a single line")
	}
	if err != nil {
		if !f.failed {
			f.log.Warn("re-reading GITHUB_TOKEN_FILE failed; keeping the token read before",
				slog.String("path", f.path), slog.String("error", err.Error()))
		}
		f.failed = true
		return
	}
	f.failed = false
	f.modTime, f.size = fi.ModTime(), fi.Size()
	if tok != f.tok {
		f.secrets.add(tok)
		if f.tok != "" {
			f.log.Info("GITHUB_TOKEN_FILE changed; using the new token from now on", slog.String("path", f.path))
		}
		f.tok = tok
	}
}

// authorizer adds a budget's token to requests for the API's scheme and host
// and to nothing else, so that a redirect or a URL pointing elsewhere can
// never carry it away. A 401 to a token its source can replace (an expired
// installation token, a rotated token file) is retried once with the new one.
type authorizer struct {
	client *Client
	scheme string
	host   string
	next   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (a *authorizer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != a.host || req.URL.Scheme != a.scheme {
		return a.next.RoundTrip(req)
	}
	cl := callOf(req.Context())
	b := cl.budget
	if b == nil {
		b = a.client.tokenBudget
	}
	if b == nil || b.src == nil {
		return a.next.RoundTrip(req)
	}
	tok, err := b.src.token(req.Context())
	if err != nil {
		return nil, &authError{err: err}
	}
	resp, err := a.send(req, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !canResend(req) || !b.src.refused(req.Context(), tok) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	fresh, err := b.src.token(req.Context())
	if err != nil {
		return nil, &authError{err: err}
	}
	a.client.requests.Add(1)
	cl.requests++
	a.client.retry.log.LogAttrs(req.Context(), slog.LevelInfo, "GitHub refused the token; retrying once with a fresh one",
		slog.String("budget", b.name), slog.String("method", req.Method), slog.String("path", a.client.pathOf(req.URL)))
	r := req
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r = req.Clone(req.Context())
		r.Body = body
	}
	return a.send(r, fresh)
}

func (a *authorizer) send(req *http.Request, tok string) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return a.next.RoundTrip(r)
}

// canResend reports whether req can be sent a second time.
func canResend(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// authError is a failure to obtain credentials (an installation token, a
// token file). The retrier does not retry it as a network error: the
// credential source has retried what can be retried already.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// ownerKey carries an owner in a request's context.
type ownerKey struct{}

// WithOwner returns ctx saying that requests made with it are for owner's
// repositories. With GitHub App authentication that picks the installation
// (and so the token and the rate-limit budget) of requests whose path names
// no owner, such as GET /rate_limit and GET /installation/repositories.
// A path that names one (/repos/{owner}/…, /orgs/{org}/…, /users/{user}/…)
// wins over the context.
func WithOwner(ctx context.Context, owner string) context.Context {
	return context.WithValue(ctx, ownerKey{}, owner)
}

func ownerFromContext(ctx context.Context) string {
	o, _ := ctx.Value(ownerKey{}).(string)
	return o
}

// ownerOf returns the owner a request path under the API root base names,
// or "" for paths that name none.
func ownerOf(basePath, path string) string {
	rest, ok := strings.CutPrefix(path, basePath)
	if !ok {
		return ""
	}
	seg := strings.SplitN(strings.TrimPrefix(rest, "/"), "/", 3)
	if len(seg) < 2 || seg[1] == "" {
		return ""
	}
	switch seg[0] {
	case "repos", "orgs", "users":
		return seg[1]
	}
	return ""
}

// secretSet holds the credentials learned after start (a rotated token,
// installation tokens, JWTs), so that text from elsewhere can be scrubbed of
// them too. It keeps the most recent ones: an installation token is minted
// hourly and a JWT for each token request, and one that old no longer works
// and is no longer sent.
type secretSet struct {
	mu   sync.RWMutex
	list []string
}

const maxSecrets = 256

func (s *secretSet) add(v string) {
	if s == nil || len(v) < 8 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.list {
		if have == v {
			return
		}
	}
	if len(s.list) >= maxSecrets {
		s.list = append(s.list[:0], s.list[len(s.list)-maxSecrets/2:]...)
	}
	s.list = append(s.list, v)
}

func (s *secretSet) scrub(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.list {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, "REDACTED")
		}
	}
	return text
}

func (s *secretSet) in(text string) bool {
	if s == nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.list {
		if strings.Contains(text, v) {
			return true
		}
	}
	return false
}
