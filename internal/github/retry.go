package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
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
)

// request is one logical API call; send may make several HTTP requests for it.
type request struct {
	method string
	// url is relative to the base URL ("repos/o/r/actions/artifacts") or an
	// absolute URL on the API host (a Link header's next page).
	url  string
	repo artifact.Repository // for logs
	// found makes a 302 the expected answer (archive downloads): send returns
	// it instead of treating it as a redirect to follow.
	found bool
	// requests, when set, counts the HTTP requests made.
	requests *int
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

// getJSON sends r and decodes a 200 body into a fresh T on each attempt, so a
// half-decoded garbled body never leaks into the retry's result.
func getJSON[T any](ctx context.Context, c *Client, r request) (*T, *gh.Response, error) {
	var out *T
	resp, err := c.send(ctx, r, func() any { out = new(T); return out })
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// send performs r through go-github, waiting and retrying as the response
// asks. target, if not nil, returns where to decode the body of a success.
func (c *Client) send(ctx context.Context, r request, target func() any) (*gh.Response, error) {
	var b budget
	for {
		req, err := c.gh.NewRequest(ctx, r.method, r.url, nil, setHeaders)
		if err != nil {
			return nil, fmt.Errorf("building %s %s: %w", r.method, r.url, err)
		}
		var v any
		if target != nil {
			v = target()
		}
		if r.requests != nil {
			*r.requests++
		}
		resp, err := c.gh.Do(req, v)
		if err == nil {
			return resp, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return resp, fmt.Errorf("%s %s: %w", r.method, c.pathOf(req.URL), ctxErr)
		}
		if loc, ok := redirect(req.URL, err, r.found); ok {
			if r.found {
				return resp, nil
			}
			if b.redirects++; b.redirects > maxRedirects {
				return resp, fmt.Errorf("%s %s: more than %d redirects", r.method, c.pathOf(req.URL), maxRedirects)
			}
			if !c.sameHost(loc) {
				return resp, fmt.Errorf("%s %s: refusing redirect to another host %s", r.method, c.pathOf(req.URL), loc.Host)
			}
			r.url = loc.String()
			continue
		}
		w, err := c.assess(req, resp, err, &b)
		if err != nil {
			return resp, err
		}
		c.log.LogAttrs(ctx, w.level, "waiting before retrying GitHub request",
			slog.String("repository", r.repo.String()),
			slog.String("method", r.method),
			slog.String("path", c.pathOf(req.URL)),
			slog.Duration("wait", w.d),
			slog.String("reason", w.reason),
			slog.String("error", c.scrub(w.cause.Error())),
		)
		if err := c.clock.Sleep(ctx, w.d); err != nil {
			return resp, fmt.Errorf("%s %s: waiting %s (%s): %w", r.method, c.pathOf(req.URL), w.d, w.reason, err)
		}
	}
}

// redirect reports where a 3xx response to the request for u points, and
// whether to go there: a 302 is the answer itself when found is set.
// go-github surfaces 3xx as *gh.RedirectionError because the API client does
// not follow redirects.
func redirect(u *url.URL, err error, found bool) (*url.URL, bool) {
	var re *gh.RedirectionError
	if !errors.As(err, &re) || re.Location == nil {
		return nil, false
	}
	switch re.StatusCode {
	case http.StatusFound:
		return u.ResolveReference(re.Location), true
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// A renamed repository answers 301 to its /repositories/{id} URL.
		return u.ResolveReference(re.Location), !found
	}
	return nil, false
}

// sameHost reports whether u is on the API host, where the token may go.
func (c *Client) sameHost(u *url.URL) bool {
	return u.Scheme == c.base.Scheme && u.Host == c.base.Host
}

// assess decides what a failed attempt means: a wait before the next try, or
// the error to return.
func (c *Client) assess(req *http.Request, resp *gh.Response, err error, b *budget) (wait, error) {
	apiErr, isAPI := c.apiErrorOf(err)

	var rl *gh.RateLimitError
	if errors.As(err, &rl) {
		return c.primaryWait(apiErr, rl.Rate.Reset.Time, b)
	}
	if isAPI && isSecondary(err, apiErr, resp) {
		return c.secondaryWait(apiErr, resp, b)
	}

	if isAPI && apiErr.Status < 500 {
		return wait{}, apiErr
	}

	// 5xx, 202 ("try later"), network failures and bodies that did not decode.
	var (
		cause    error
		reason   string
		accepted *gh.AcceptedError
	)
	switch {
	case isAPI:
		cause, reason = apiErr, "server error"
	case errors.As(err, &accepted):
		cause, reason = fmt.Errorf("%s %s: 202 Accepted: %w", req.Method, c.pathOf(req.URL), err), "accepted, not ready"
	case isDecodeError(err):
		cause, reason = err, "malformed response"
	default:
		cause, reason = c.scrubError(err), "network error"
	}
	if b.transient >= c.maxRetries {
		if isAPI {
			return wait{}, fmt.Errorf("%w (giving up after %d tries)", cause, b.transient+1)
		}
		return wait{}, fmt.Errorf("%s %s: giving up after %d tries: %w", req.Method, c.pathOf(req.URL), b.transient+1, cause)
	}
	d := transientBase << b.transient
	if d > transientCap {
		d = transientCap
	}
	b.transient++
	return wait{d: c.jitter(d), reason: reason, level: slog.LevelWarn, cause: cause}, nil
}

// primaryWait waits for the primary limit's reset if that is soon enough.
func (c *Client) primaryWait(apiErr *APIError, reset time.Time, b *budget) (wait, error) {
	now := c.clock.Now()
	if reset.IsZero() {
		// No reset header: nothing to wait for precisely, so treat it like a
		// secondary limit and back off.
		return c.secondaryWait(apiErr, nil, b)
	}
	until := reset.Sub(now)
	if until > c.maxWait {
		return wait{}, fmt.Errorf("%w: primary rate limit exhausted until %s (in %s), longer than the max wait of %s: %w",
			apiErr, reset.UTC().Format(time.RFC3339), until.Round(time.Second), c.maxWait, ErrRateLimited)
	}
	if b.primary >= maxPrimaryWait {
		return wait{}, fmt.Errorf("%w: primary rate limit still exhausted after %d resets (next reset %s): %w",
			apiErr, b.primary, reset.UTC().Format(time.RFC3339), ErrRateLimited)
	}
	b.primary++
	d := max(until, 0) + resetMargin
	return wait{d: d, reason: "primary rate limit", level: slog.LevelInfo, cause: apiErr}, nil
}

// secondaryWait honours Retry-After, else backs off from a minute, doubling.
// resp may be nil.
func (c *Client) secondaryWait(apiErr *APIError, resp *gh.Response, b *budget) (wait, error) {
	if b.secondary >= c.maxRetries {
		return wait{}, fmt.Errorf("%w: secondary rate limit persisted through %d tries: %w", apiErr, b.secondary+1, ErrRateLimited)
	}
	d := secondaryBase << b.secondary
	reason := "secondary rate limit"
	if resp != nil && resp.Response != nil {
		// go-github's RetryAfter falls back to x-ratelimit-reset measured on
		// the wall clock; read the header itself so waits stay on c.clock.
		if secs, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("Retry-After")), 10, 64); err == nil && secs >= 0 {
			d = time.Duration(secs) * time.Second
			reason = "secondary rate limit, retry-after"
		}
	}
	if d > c.maxWait {
		return wait{}, fmt.Errorf("%w: secondary rate limit asks to wait %s, longer than the max wait of %s (until %s): %w",
			apiErr, d, c.maxWait, c.clock.Now().Add(d).UTC().Format(time.RFC3339), ErrRateLimited)
	}
	b.secondary++
	return wait{d: d, reason: reason, level: slog.LevelWarn, cause: apiErr}, nil
}

// isSecondary recognises a secondary rate limit: go-github's classification
// by documentation URL, a 429 of any kind, or a 403 that says so or carries
// Retry-After.
func isSecondary(err error, apiErr *APIError, resp *gh.Response) bool {
	var abuse *gh.AbuseRateLimitError
	if errors.As(err, &abuse) {
		return true
	}
	switch apiErr.Status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusForbidden:
		if strings.Contains(strings.ToLower(apiErr.Message), "secondary rate limit") {
			return true
		}
		return resp != nil && resp.Response != nil && resp.Header.Get("Retry-After") != ""
	}
	return false
}

// isDecodeError reports whether err came from decoding a response body.
func isDecodeError(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syn) || errors.As(err, &typ)
}

// pathOf is the path of u, which is what errors and logs show of a request.
// A path can come from a server's Link or Location header, so it is scrubbed.
func (c *Client) pathOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return c.scrub(u.Path)
}
