package github

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/retentiond/retentiond/internal/artifact"
)

// DownloadResult describes a downloaded archive.
type DownloadResult struct {
	Bytes int64
	// SHA256 is the hex digest of the bytes written.
	SHA256 string
}

// DownloadArtifact streams the zip archive of one artifact of repo into w,
// hashing it on the way, and never holds it whole in memory.
//
// GitHub answers the API request with a 302 to a signed blob URL that is
// valid for about a minute; the archive is fetched from it at once, without
// the token. A body shorter or longer than its Content-Length is an error.
// An expired artifact returns an error matching ErrExpired. A failure before
// the first byte reached w is retried with a fresh URL; after that it cannot
// be, since w cannot be rewound.
func (c *Client) DownloadArtifact(ctx context.Context, repo artifact.Repository, id int64, w io.Writer) (DownloadResult, error) {
	for tries := 0; ; tries++ {
		res, written, err := c.download(ctx, repo, id, w)
		if err == nil {
			return res, nil
		}
		err = c.scrubError(fmt.Errorf("downloading artifact %d of %s: %w", id, repo, err))
		var be *blobError
		if written > 0 || !errors.As(err, &be) || !be.retryable || tries >= c.retry.maxRetries || ctx.Err() != nil {
			return DownloadResult{Bytes: written}, err
		}
		d := c.retry.jitter(min(transientBase<<tries, transientCap))
		c.retry.log.LogAttrs(ctx, slog.LevelWarn, "waiting before retrying GitHub request",
			slog.String("repository", repo.String()),
			slog.Int64("artifact_id", id),
			slog.Duration("wait", d),
			slog.String("reason", "archive download failed"),
			slog.String("error", c.scrub(err.Error())),
		)
		if err := c.retry.clock.Sleep(ctx, d); err != nil {
			return DownloadResult{}, fmt.Errorf("downloading artifact %d of %s: waiting %s: %w", id, repo, d, err)
		}
	}
}

// blobError is a failure fetching from the blob host; retryable ones happened
// before any byte was written.
type blobError struct {
	err       error
	retryable bool
}

func (e *blobError) Error() string { return e.err.Error() }
func (e *blobError) Unwrap() error { return e.err }

// download makes one attempt: ask the API where the archive is, then fetch it.
func (c *Client) download(ctx context.Context, repo artifact.Repository, id int64, w io.Writer) (DownloadResult, int64, error) {
	cl := &call{repo: repo}
	// No redirects for go-github to follow: the retrier follows same-host
	// ones before go-github sees them, and refuses the rest.
	loc, resp, err := c.gh.Actions.DownloadArtifact(withCall(ctx, cl), repo.Owner(), repo.Name(), id, 0)
	if err != nil {
		if cl.err == nil && resp != nil && resp.Response != nil && resp.Request != nil {
			switch {
			case resp.StatusCode == http.StatusFound:
				// The parse error would quote the Location, signature and all.
				return DownloadResult{}, 0, fmt.Errorf("GET %s: 302 without a usable Location", c.pathOf(resp.Request.URL))
			case cl.final == nil:
				return DownloadResult{}, 0, fmt.Errorf("GET %s: want a 302 to the archive, got %s", c.pathOf(resp.Request.URL), resp.Status)
			}
		}
		return DownloadResult{}, 0, c.failure(cl, err)
	}
	if loc == nil || loc.String() == "" {
		return DownloadResult{}, 0, fmt.Errorf("GET %s: 302 without a usable Location", c.pathOf(resp.Request.URL))
	}
	// go-github returns the Location as given; resolve a relative one.
	loc = resp.Request.URL.ResolveReference(loc)
	if loc.Scheme != "https" && loc.Scheme != "http" {
		return DownloadResult{}, 0, fmt.Errorf("GET %s: archive location has scheme %q", c.pathOf(resp.Request.URL), loc.Scheme)
	}
	return c.fetchBlob(ctx, loc, w)
}

// fetchBlob streams loc into w. The blob client has no token to send, and
// Go drops Authorization on cross-host redirects anyway.
func (c *Client) fetchBlob(ctx context.Context, loc *url.URL, w io.Writer) (DownloadResult, int64, error) {
	where := c.scrub(blobURL(loc))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return DownloadResult{}, 0, fmt.Errorf("fetching archive from %s: %w", where, err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.blob.Do(req)
	if err != nil {
		// The *url.Error would print the signed query; keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return DownloadResult{}, 0, &blobError{err: fmt.Errorf("fetching archive from %s: %w", where, c.scrubError(err)), retryable: true}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return DownloadResult{}, 0, &blobError{
			err:       fmt.Errorf("fetching archive from %s: %s", where, resp.Status),
			retryable: resp.StatusCode >= 500 || resp.StatusCode == http.StatusForbidden, // 403: the signature expired before we got there
		}
	}

	h := sha256.New()
	body := io.Reader(resp.Body)
	if resp.ContentLength >= 0 {
		// One byte more than promised is enough to notice a longer body.
		body = io.LimitReader(resp.Body, resp.ContentLength+1)
	}
	n, err := io.Copy(io.MultiWriter(w, h), body)
	if err != nil {
		return DownloadResult{}, n, fmt.Errorf("fetching archive from %s: after %d bytes: %w", where, n, c.scrubError(err))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return DownloadResult{}, n, fmt.Errorf("fetching archive from %s: got %d bytes, Content-Length said %d", where, n, resp.ContentLength)
	}
	return DownloadResult{Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, n, nil
}
