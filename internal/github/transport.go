package github

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// bearer adds the token to requests for the API host and to nothing else, so
// a Link or Location pointing elsewhere can never carry it away.
type bearer struct {
	token  string
	scheme string
	host   string
	next   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	if b.token == "" || req.URL.Host != b.host || req.URL.Scheme != b.scheme {
		return b.next.RoundTrip(req)
	}
	// A RoundTripper must not modify the caller's request.
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(req)
}

// meter counts API requests and records the rate limit each response reports.
type meter struct {
	client *Client
	next   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (m *meter) RoundTrip(req *http.Request) (*http.Response, error) {
	m.client.requests.Add(1)
	resp, err := m.next.RoundTrip(req)
	if err == nil {
		m.client.observeRate(resp.Header)
	}
	return resp, err
}

// observeRate keeps the x-ratelimit-* state of the latest response that had
// it. Responses without the headers (some proxies, the blob host) leave the
// state alone rather than erase it.
func (c *Client) observeRate(h http.Header) {
	remaining, err := strconv.Atoi(h.Get("X-Ratelimit-Remaining"))
	if err != nil {
		return
	}
	st := RateState{Remaining: remaining, Known: true}
	st.Limit, _ = strconv.Atoi(h.Get("X-Ratelimit-Limit"))
	if reset, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil && reset > 0 {
		st.Reset = time.Unix(reset, 0).UTC()
	}
	c.rateMu.Lock()
	c.rate = st
	c.rateMu.Unlock()
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
