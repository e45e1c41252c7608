package github

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v92/github"
)

// Sentinel errors, matched with errors.Is against anything the client returns.
var (
	// ErrNotFound: the repository or artifact does not exist, or the token
	// cannot see it (GitHub answers 404 for both). Deleting an artifact that
	// is already gone also returns it.
	ErrNotFound = errors.New("not found")
	// ErrExpired: the artifact's archive has expired (410 Gone).
	ErrExpired = errors.New("artifact expired")
	// ErrUnauthorized: GitHub rejected the token (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRateLimited: a primary rate limit resets later than Config.MaxWait
	// allows waiting, or a secondary rate limit persisted through the
	// retries. The error text says when the limit resets.
	ErrRateLimited = errors.New("rate limited")
)

// APIError is an unsuccessful response from GitHub.
type APIError struct {
	Method string
	// URL is the request URL without credentials.
	URL    string
	Status int
	// Message and DocumentationURL come from GitHub's error body, if it had one.
	Message          string
	DocumentationURL string
}

// Error reads like "GET /repos/o/r/actions/artifacts: 404 Not Found", with
// GitHub's message appended when it says more than the status line.
func (e *APIError) Error() string {
	path := e.URL
	if u, err := url.Parse(e.URL); err == nil && u.Path != "" {
		path = u.Path
	}
	status := http.StatusText(e.Status)
	s := fmt.Sprintf("%s %s: %d %s", e.Method, path, e.Status, status)
	if e.Message != "" && !strings.EqualFold(e.Message, status) {
		s += ": " + e.Message
	}
	return s
}

// Is maps statuses to the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrExpired:
		return e.Status == http.StatusGone
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	}
	return false
}

// failure is the error a client method returns for a failed typed call:
// the retrier's reason for giving up when it gave up, else the *APIError for
// GitHub's answer, else go-github's error (a body that did not decode).
func (c *Client) failure(cl *call, err error) error {
	if cl.err != nil {
		return cl.err
	}
	if e, ok := c.apiErrorOf(err); ok {
		return e
	}
	if e, ok := c.apiErrorOf(cl.final); ok {
		return e
	}
	return err
}

// redactor removes one token from text that came from elsewhere (a server's
// error message, a URL), so that not even a hostile or confused server
// echoing it back can put it into an error or a log.
type redactor struct {
	token string
	// extra holds the credentials learned since: a rotated token file's,
	// installation tokens and JWTs.
	extra *secretSet
}

// apiError describes resp as an *APIError, with the token scrubbed from
// anything the server sent back.
func (r redactor) apiError(resp *http.Response, message, docURL string) *APIError {
	e := &APIError{
		Status:           resp.StatusCode,
		Message:          r.scrub(message),
		DocumentationURL: r.scrub(docURL),
	}
	if req := resp.Request; req != nil {
		e.Method = req.Method
		e.URL = r.scrub(safeURL(req.URL))
	}
	return e
}

// apiErrorOf extracts the *APIError from the error types go-github returns
// for a non-2xx response; ok is false for other errors, nil included.
func (r redactor) apiErrorOf(err error) (*APIError, bool) {
	if err == nil {
		return nil, false
	}
	var (
		er    *gh.ErrorResponse
		rl    *gh.RateLimitError
		abuse *gh.AbuseRateLimitError
		redir *gh.RedirectionError
	)
	switch {
	case errors.As(err, &rl) && rl.Response != nil:
		return r.apiError(rl.Response, rl.Message, ""), true
	case errors.As(err, &abuse) && abuse.Response != nil:
		return r.apiError(abuse.Response, abuse.Message, ""), true
	case errors.As(err, &er) && er.Response != nil:
		return r.apiError(er.Response, er.Message, er.DocumentationURL), true
	case errors.As(err, &redir) && redir.Response != nil:
		return r.apiError(redir.Response, "", ""), true
	}
	return nil, false
}

// scrub replaces the token in s with REDACTED.
func (r redactor) scrub(s string) string {
	if r.token != "" {
		s = strings.ReplaceAll(s, r.token, "REDACTED")
	}
	return r.extra.scrub(s)
}

// scrubError is scrub for whole errors: those from elsewhere, such as a
// *url.Error quoting a server's Location, and, as a backstop, everything the
// exported methods return.
func (r redactor) scrubError(err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); (r.token == "" || !strings.Contains(msg, r.token)) && !r.extra.in(msg) {
		return err
	}
	return &scrubbedError{msg: r.scrub(err.Error()), err: err}
}

// scrubbedError keeps the chain for errors.Is while replacing the text.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// safeURL prints u without user info.
func safeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	v.User = nil
	return v.String()
}

// blobURL prints a download location as scheme, host and path only: its
// query is a short-lived signature that has no business in logs.
func blobURL(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return v.String()
}
