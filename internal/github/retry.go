package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/clock"
)

// Backoff shapes. Transient failures (5xx, network, a garbled body) back off
// from a second; secondary rate limits without Retry-After from a minute, as
// GitHub's guidance asks.
const (
	transientBase  = time.Second
	transientCap   = 30 * time.Second
	secondaryBase  = time.Minute
	resetMargin    = time.Second // GitHub's reset second is inclusive; don't arrive early
	maxPrimaryWait = 3           // resets waited for in one request before giving up
	maxRedirects   = 5
	// maxBody bounds an API response body, which the retrier reads whole. A
	// page of 100 artifacts is about 60 KB.
	maxBody = 32 << 20
)

// retrier is the http.RoundTripper that turns one request of a go-github
// call into as many HTTP attempts as it takes: it waits out primary and
// secondary rate limits on the injected clock, retries 5xx, 202, dropped
// connections and garbled bodies with backoff, and follows same-host
// 301/307/308 redirects. Every wait is bounded (MaxWait, MaxRetries) and ends
// early when the request's context is done.
//
// It reads each body whole before deciding, which is what lets a connection
// dropped mid-body, or a truncated JSON body, be retried at all: go-github
// reads the body only after RoundTrip has returned.
//
// What it hands back is a final answer for go-github to interpret: a success,
// a 304, a 302 (the archive's), or a client error that retrying cannot fix.
// When it gives up, it returns an error and records it in the call.
type retrier struct {
	redactor
	// route finds the rate-limit budget a request spends (nil: none, for
	// the GitHub App's own requests).
	route  func(*http.Request) (*budgetState, error)
	next   http.RoundTripper
	clock  clock.Clock
	log    *slog.Logger
	scheme string // the API's scheme and host: where redirects may go
	host   string
	// timeout bounds one attempt, body included; 0 is none.
	timeout    time.Duration
	maxWait    time.Duration
	maxRetries int
	// jitter spreads a backoff so that clients failing together do not retry
	// together; tests replace it to assert exact waits.
	jitter func(time.Duration) time.Duration
}

// budget counts what one request has used of each kind of retry.
type budget struct {
	transient int
	secondary int
	primary   int
	redirects int
}

// wait is a decision to sleep and try again.
type wait struct {
	d      time.Duration
	reason string
	level  slog.Level
	cause  error
}

// RoundTrip implements http.RoundTripper.
func (t *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	cl, ok := req.Context().Value(callKey{}).(*call)
	if !ok {
		// The transports below read the budget from the call.
		cl = &call{}
		req = req.WithContext(withCall(req.Context(), cl))
	}
	resp, err := t.routed(req, cl)
	if err != nil {
		cl.err = err
	}
	return resp, err
}

// routed finds the request's budget, once: a redirect keeps the budget (and
// the credentials) of the request it answers.
func (t *retrier) routed(req *http.Request, cl *call) (*http.Response, error) {
	if t.route != nil {
		b, err := t.route(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, t.pathOf(req.URL), err)
		}
		cl.budget = b
	}
	return t.roundTrip(req, cl)
}

func (t *retrier) roundTrip(req *http.Request, cl *call) (*http.Response, error) {
	ctx := req.Context()
	u := req.URL
	var b budget
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, t.pathOf(u), err)
		}
		if w, err := t.budgetWait(cl, req.Method, u, &b); err != nil {
			return nil, err
		} else if w != nil {
			if err := t.sleep(ctx, cl, req.Method, u, *w); err != nil {
				return nil, err
			}
			continue
		}
		resp, body, err := t.attempt(req, u)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, fmt.Errorf("%s %s: %w", req.Method, t.pathOf(u), ctxErr)
			}
			var ae *authError
			if errors.As(err, &ae) {
				return nil, fmt.Errorf("%s %s: %w", req.Method, t.pathOf(u), t.scrubError(err))
			}
			w, err := t.transient(&b, req.Method, u, "network error", t.scrubError(err))
			if err != nil {
				return nil, err
			}
			if err := t.sleep(ctx, cl, req.Method, u, *w); err != nil {
				return nil, err
			}
			continue
		}

		switch code := resp.StatusCode; {
		case code == http.StatusMovedPermanently || code == http.StatusTemporaryRedirect || code == http.StatusPermanentRedirect:
			// A renamed repository answers 301 to its /repositories/{id} URL.
			loc, err := resp.Location()
			if err != nil {
				break // no usable Location: go-github reports the 3xx itself
			}
			resp.Body.Close()
			if b.redirects++; b.redirects > maxRedirects {
				return nil, fmt.Errorf("%s %s: more than %d redirects", req.Method, t.pathOf(u), maxRedirects)
			}
			if loc.Scheme != t.scheme || loc.Host != t.host {
				return nil, fmt.Errorf("%s %s: refusing redirect to another host %s", req.Method, t.pathOf(u), t.scrub(loc.Host))
			}
			u = loc
			continue
		case code/100 == 2 && code != http.StatusAccepted:
			if garbled(resp, body) {
				resp.Body.Close()
				w, err := t.transient(&b, req.Method, u, "malformed response", errGarbled)
				if err != nil {
					return nil, err
				}
				if err := t.sleep(ctx, cl, req.Method, u, *w); err != nil {
					return nil, err
				}
				continue
			}
			return resp, nil
		}

		// CheckResponse reads the error body and leaves a copy in its place,
		// so that go-github can read it again from the response handed back.
		orig := resp.Body
		ghErr := gh.CheckResponse(resp)
		if resp.Body != orig {
			orig.Close()
		}
		w, err := t.assess(req.Method, u, resp, ghErr, &b)
		switch {
		case err != nil:
			resp.Body.Close()
			return nil, err
		case w == nil:
			cl.final = ghErr
			return resp, nil
		}
		resp.Body.Close()
		if err := t.sleep(ctx, cl, req.Method, u, *w); err != nil {
			return nil, err
		}
	}
}

// attempt sends req to u once and reads the whole body, within the attempt's
// timeout. The response's Body is then the returned buffer.
func (t *retrier) attempt(req *http.Request, u *url.URL) (*http.Response, []byte, error) {
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if t.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
	}
	defer cancel()
	// A shallow copy will do: nothing below writes to the headers without
	// cloning the request first (bearer does), and URL is replaced, not edited.
	r := req.WithContext(ctx)
	if u != req.URL {
		r.URL, r.Host = u, ""
	}
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, nil, errors.New("request body cannot be sent again")
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, nil, err
		}
		r.Body = body
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, nil, err
	}
	if resp.Request == nil {
		// go-github's errors print the request.
		resp.Request = r
	}
	body, err := readBody(resp)
	resp.Body.Close() // frees the limiter's slot and the connection
	if err != nil {
		return nil, nil, err
	}
	resp.Body = body
	return resp, body.bytes(), nil
}

// assess decides what a failed attempt means: nil to hand the response back
// as the answer, a wait before the next try, or the error to return.
func (t *retrier) assess(method string, u *url.URL, resp *http.Response, ghErr error, b *budget) (*wait, error) {
	apiErr, isAPI := t.apiErrorOf(ghErr)
	if !isAPI {
		// CheckResponse's errors all carry the response; keep going on ours.
		apiErr, isAPI = t.apiError(resp, "", ""), true
	}

	var rl *gh.RateLimitError
	if errors.As(ghErr, &rl) {
		return t.primaryWait(apiErr, rl.Rate.Reset.Time, resp, b)
	}
	if isSecondary(ghErr, apiErr, resp) {
		return t.secondaryWait(apiErr, resp, b)
	}

	var accepted *gh.AcceptedError
	switch {
	case errors.As(ghErr, &accepted):
		return t.transient(b, method, u, "accepted, not ready", fmt.Errorf("202 Accepted: %w", ghErr))
	case apiErr.Status >= 500:
		return t.transient(b, method, u, "server error", apiErr)
	}
	return nil, nil
}

// transient schedules the next try after a server or network failure, or
// gives up once the retries are spent.
func (t *retrier) transient(b *budget, method string, u *url.URL, reason string, cause error) (*wait, error) {
	if b.transient >= t.maxRetries {
		if _, ok := cause.(*APIError); ok { // it names the request already
			return nil, fmt.Errorf("%w (giving up after %d tries)", cause, b.transient+1)
		}
		return nil, fmt.Errorf("%s %s: giving up after %d tries: %w", method, t.pathOf(u), b.transient+1, cause)
	}
	d := min(transientBase<<b.transient, transientCap)
	b.transient++
	return &wait{d: t.jitter(d), reason: reason, level: slog.LevelWarn, cause: cause}, nil
}

// primaryWait waits for the primary limit's reset if that is soon enough.
func (t *retrier) primaryWait(apiErr *APIError, reset time.Time, resp *http.Response, b *budget) (*wait, error) {
	now := t.clock.Now()
	if reset.IsZero() {
		// No reset header: nothing to wait for precisely, so treat it like a
		// secondary limit and back off.
		return t.secondaryWait(apiErr, resp, b)
	}
	until := reset.Sub(now)
	if until > t.maxWait {
		return nil, fmt.Errorf("%w: primary rate limit exhausted until %s (in %s), longer than the max wait of %s: %w",
			apiErr, reset.UTC().Format(time.RFC3339), until.Round(time.Second), t.maxWait, ErrRateLimited)
	}
	if b.primary >= maxPrimaryWait {
		return nil, fmt.Errorf("%w: primary rate limit still exhausted after %d resets (next reset %s): %w",
			apiErr, b.primary, reset.UTC().Format(time.RFC3339), ErrRateLimited)
	}
	b.primary++
	d := max(until, 0) + resetMargin
	return &wait{d: d, reason: "primary rate limit", level: slog.LevelInfo, cause: apiErr}, nil
}

// errBudgetExhausted is the cause logged for a wait on an exhausted budget.
var errBudgetExhausted = errors.New("the budget's primary rate limit is exhausted")

// budgetWait holds a request back while its budget is known to be
// exhausted, until the reset, instead of sending it to be refused: GitHub
// warns that requests made while rate limited can get an integration
// banned. Only this budget's requests wait; another installation's go on.
// A reset further off than MaxWait fails the request at once.
//
// A conditional request is sent all the same: a 304 costs nothing and is
// served with the budget spent.
func (t *retrier) budgetWait(cl *call, method string, u *url.URL, b *budget) (*wait, error) {
	if cl.budget == nil || cl.ifNoneMatch != "" {
		return nil, nil
	}
	st := cl.budget.rateState()
	now := t.clock.Now()
	if !st.Known || st.Remaining > 0 || st.Reset.IsZero() || !now.Before(st.Reset) {
		return nil, nil
	}
	until := st.Reset.Sub(now)
	if until > t.maxWait {
		return nil, fmt.Errorf("%s %s: primary rate limit of budget %s exhausted until %s (in %s), longer than the max wait of %s: %w",
			method, t.pathOf(u), cl.budget.name, st.Reset.UTC().Format(time.RFC3339), until.Round(time.Second), t.maxWait, ErrRateLimited)
	}
	if b.primary >= maxPrimaryWait {
		return nil, fmt.Errorf("%s %s: primary rate limit of budget %s still exhausted after %d resets (next reset %s): %w",
			method, t.pathOf(u), cl.budget.name, b.primary, st.Reset.UTC().Format(time.RFC3339), ErrRateLimited)
	}
	b.primary++
	return &wait{d: until + resetMargin, reason: "primary rate limit exhausted", level: slog.LevelInfo, cause: errBudgetExhausted}, nil
}

// secondaryWait honours Retry-After, else backs off from a minute, doubling.
func (t *retrier) secondaryWait(apiErr *APIError, resp *http.Response, b *budget) (*wait, error) {
	if b.secondary >= t.maxRetries {
		return nil, fmt.Errorf("%w: secondary rate limit persisted through %d tries: %w", apiErr, b.secondary+1, ErrRateLimited)
	}
	d := secondaryBase << b.secondary
	reason := "secondary rate limit"
	// go-github's RetryAfter falls back to x-ratelimit-reset measured on the
	// wall clock; read the header itself so waits stay on the clock.
	if secs, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("Retry-After")), 10, 64); err == nil && secs >= 0 {
		d = time.Duration(secs) * time.Second
		reason = "secondary rate limit, retry-after"
	}
	if d > t.maxWait {
		return nil, fmt.Errorf("%w: secondary rate limit asks to wait %s, longer than the max wait of %s (until %s): %w",
			apiErr, d, t.maxWait, t.clock.Now().Add(d).UTC().Format(time.RFC3339), ErrRateLimited)
	}
	b.secondary++
	return &wait{d: d, reason: reason, level: slog.LevelWarn, cause: apiErr}, nil
}

// isSecondary recognises a secondary rate limit: go-github's classification
// by documentation URL, a 429 of any kind, or a 403 that says so or carries
// Retry-After.
func isSecondary(ghErr error, apiErr *APIError, resp *http.Response) bool {
	var abuse *gh.AbuseRateLimitError
	if errors.As(ghErr, &abuse) {
		return true
	}
	switch apiErr.Status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusForbidden:
		if strings.Contains(strings.ToLower(apiErr.Message), "secondary rate limit") {
			return true
		}
		return resp.Header.Get("Retry-After") != ""
	}
	return false
}

// sleep logs w and waits it out, or returns why it could not.
func (t *retrier) sleep(ctx context.Context, cl *call, method string, u *url.URL, w wait) error {
	budget := ""
	if cl.budget != nil {
		budget = cl.budget.name
	}
	t.log.LogAttrs(ctx, w.level, "waiting before retrying GitHub request",
		slog.String("repository", cl.repo.String()),
		slog.String("budget", budget),
		slog.String("method", method),
		slog.String("path", t.pathOf(u)),
		slog.Duration("wait", w.d),
		slog.String("reason", w.reason),
		slog.String("error", t.scrub(w.cause.Error())),
	)
	if err := t.clock.Sleep(ctx, w.d); err != nil {
		return fmt.Errorf("%s %s: waiting %s (%s): %w", method, t.pathOf(u), w.d, w.reason, err)
	}
	return nil
}

// errGarbled describes a success whose JSON body is visibly broken.
var errGarbled = errors.New("JSON body cut short or garbled")

// garbled reports whether a successful response says it is JSON and visibly
// is not: empty, or not ending with the bracket it begins with, which is what
// a truncated body looks like. Validating every page in full would cost
// about half as much again as go-github's decode of it; a body broken in a way
// this misses fails the call with go-github's decoding error instead.
func garbled(resp *http.Response, body []byte) bool {
	if resp.StatusCode == http.StatusNoContent || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return false
	}
	b := bytes.TrimSpace(body)
	if len(b) < 2 {
		return true
	}
	switch b[0] {
	case '{':
		return b[len(b)-1] != '}'
	case '[':
		return b[len(b)-1] != ']'
	}
	return true
}

// bufPool recycles the buffers bodies are read into: a scan reads thousands
// of pages of about the same size.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled keeps an unusually large body's buffer out of the pool.
const maxPooled = 1 << 20

// bufferedBody is a response body read whole into a pooled buffer, which
// goes back to the pool on Close. go-github copies what it decodes, so
// nothing refers to the buffer afterwards.
type bufferedBody struct {
	r   bytes.Reader
	buf *bytes.Buffer
}

// readBody reads resp's body whole, bounded by maxBody.
func readBody(resp *http.Response) (*bufferedBody, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n))
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1)); err != nil {
		putBuf(buf)
		return nil, fmt.Errorf("reading the response body: %w", err)
	}
	if buf.Len() > maxBody {
		putBuf(buf)
		return nil, fmt.Errorf("response body larger than %d bytes", maxBody)
	}
	b := &bufferedBody{buf: buf}
	b.r.Reset(buf.Bytes())
	return b, nil
}

func putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooled {
		bufPool.Put(buf)
	}
}

func (b *bufferedBody) bytes() []byte {
	if b.buf == nil {
		return nil
	}
	return b.buf.Bytes()
}

// Read implements io.Reader.
func (b *bufferedBody) Read(p []byte) (int, error) { return b.r.Read(p) }

// Close returns the buffer to the pool; later reads see the end.
func (b *bufferedBody) Close() error {
	if b.buf != nil {
		b.r.Reset(nil)
		putBuf(b.buf)
		b.buf = nil
	}
	return nil
}

// pathOf is the path of u, which is what errors and logs show of a request.
// A path can come from a server's Location header, so it is scrubbed.
func (r redactor) pathOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return r.scrub(u.Path)
}
