package github

import (
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/retentiond/retentiond/internal/artifact"
)

// The API client's transports, outermost first:
//
//	apiHeaders → retrier → limited → meter → authorizer → Config.HTTPClient's transport
//
// go-github's typed calls take a context but no per-request options, so what
// one call tells its transports, and what they tell it back, travels in the
// request's context as a *call.

// call is one client method's typed go-github call, as its transports see it.
// Its transports run in the goroutine that made the call (http.Client.Do
// calls RoundTrip synchronously), so the fields need no lock.
type call struct {
	// repo is for the wait logs.
	repo artifact.Repository
	// budget is the rate-limit budget the call spends, and so the
	// credentials it carries; the retrier finds it from the request.
	budget *budgetState
	// ifNoneMatch is sent as If-None-Match, for a conditional request.
	ifNoneMatch string

	// requests counts the HTTP requests sent, retries and redirects included.
	requests int
	// charged counts those that GitHub charges to the primary rate limit.
	charged int
	// final is go-github's error for the response the retrier handed back,
	// when that was not a success; go-github's DownloadArtifact reports such
	// an answer only as "unexpected status code".
	final error
	// err is why the retrier gave up, when it did. go-github replaces a
	// transport's error with ctx.Err() once the context is done, and wraps it
	// in a *url.Error quoting the whole URL otherwise.
	err error
}

type callKey struct{}

// withCall returns ctx carrying cl to the transports.
func withCall(ctx context.Context, cl *call) context.Context {
	return context.WithValue(ctx, callKey{}, cl)
}

// callOf returns the call ctx carries, or a blank one nobody reads back.
func callOf(ctx context.Context) *call {
	if cl, ok := ctx.Value(callKey{}).(*call); ok {
		return cl
	}
	return &call{}
}

// apiHeaders asks for the current media type, pins the API version the
// client was written against (go-github's defaults are the older media type
// and a version that may move), and makes the request conditional when the
// call carries an ETag.
type apiHeaders struct {
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t apiHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify the caller's request.
	req = req.Clone(req.Context())
	req.Header.Set("Accept", mediaType)
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	if etag := callOf(req.Context()).ifNoneMatch; etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	return t.next.RoundTrip(req)
}

// meter counts API requests, for the client and for the call, and records
// the rate limit each response reports.
type meter struct {
	client *Client
	next   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (m *meter) RoundTrip(req *http.Request) (*http.Response, error) {
	cl := callOf(req.Context())
	m.client.requests.Add(1)
	cl.requests++
	resp, err := m.next.RoundTrip(req)
	// GitHub documents that a 304 to an authorised conditional request does
	// not count against the primary limit. Anything else is taken to count,
	// a request that got no answer included: it may well have arrived.
	if err != nil || resp.StatusCode != http.StatusNotModified || !m.client.authenticated {
		cl.charged++
	}
	b := cl.budget
	if b == nil {
		b = m.client.tokenBudget
	}
	// A 401's headers describe whatever GitHub took the request for
	// (unauthenticated, or an unknown token), not the budget it was meant for.
	if err == nil && b != nil && resp.StatusCode != http.StatusUnauthorized {
		b.observe(resp.Header)
	}
	return resp, err
}

// limiter caps the requests in flight. A slot is held from sending a request
// until its response body is closed, so a streaming download counts for as
// long as it streams, while waits between retries hold nothing.
type limiter struct {
	slots chan struct{}
	// waiting, when set by a test, is called when a request has to queue for
	// a slot, so tests can tell "blocked by the limiter" from "not sent yet"
	// without sleeping.
	waiting func()
}

func newLimiter(n int) *limiter { return &limiter{slots: make(chan struct{}, n)} }

// wrap returns next limited by l.
func (l *limiter) wrap(next http.RoundTripper) http.RoundTripper {
	return &limited{limiter: l, next: next}
}

type limited struct {
	limiter *limiter
	next    http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *limited) RoundTrip(req *http.Request) (*http.Response, error) {
	l := t.limiter
	select {
	case l.slots <- struct{}{}:
	default:
		if l.waiting != nil {
			l.waiting()
		}
		select {
		case l.slots <- struct{}{}:
		case <-req.Context().Done():
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, req.Context().Err()
		}
	}
	release := func() { <-l.slots }
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody gives the limiter's slot back when the body is closed.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

// Close closes the body and frees the slot, once.
func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
