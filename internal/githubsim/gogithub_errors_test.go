package githubsim_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
)

func TestGoGitHubGetAndDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	id := f.sim.AddArtifact(artifact.Artifact{
		Repository: "octo/app", Name: "coverage-report", SizeInBytes: 1234,
		CreatedAt: start, UpdatedAt: start, ExpiresAt: start.Add(time.Hour),
	})
	c := f.client(t, token)
	a, _, err := c.Actions.GetArtifact(t.Context(), "octo", "app", id)
	if err != nil {
		t.Fatalf("GetArtifact: %v", err)
	}
	want := &github.Artifact{
		ID: new(id), NodeID: new(a.GetNodeID()), Name: new("coverage-report"), SizeInBytes: new(int64(1234)),
		URL:                new(fmt.Sprintf("%s/repos/octo/app/actions/artifacts/%d", f.ts.URL, id)),
		ArchiveDownloadURL: new(fmt.Sprintf("%s/repos/octo/app/actions/artifacts/%d/zip", f.ts.URL, id)),
		Expired:            new(false),
		CreatedAt:          &github.Timestamp{Time: start}, UpdatedAt: &github.Timestamp{Time: start},
		ExpiresAt: &github.Timestamp{Time: start.Add(time.Hour)},
	}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("artifact (-want +got):\n%s", diff)
	}

	resp, err := c.Actions.DeleteArtifact(t.Context(), "octo", "app", id)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DeleteArtifact: %v (status %v)", err, resp)
	}
	_, err = c.Actions.DeleteArtifact(t.Context(), "octo", "app", id)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusNotFound || er.Message != "Not Found" {
		t.Errorf("second DeleteArtifact: %v, want *github.ErrorResponse 404", err)
	}
	_, _, err = c.Actions.GetArtifact(t.Context(), "octo", "app", id)
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusNotFound {
		t.Errorf("GetArtifact after delete: %v, want 404", err)
	}
}

func TestGoGitHubDownload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	ids := f.add("octo/app", 2, fixed("build-linux"), 1)
	f.sim.SetExpired("octo/app", ids[1], true)
	for _, mode := range []struct {
		name  string
		extra []github.ClientOptionsFunc
	}{
		{"default", nil},
		{"rate-limited redirects", []github.ClientOptionsFunc{github.WithRateLimitRedirectionalEndpoints()}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			c := f.client(t, token, mode.extra...)
			u, resp, err := c.Actions.DownloadArtifact(t.Context(), "octo", "app", ids[0], 1)
			if err != nil {
				t.Fatalf("DownloadArtifact: %v", err)
			}
			if resp.StatusCode != http.StatusFound {
				t.Errorf("status %d, want 302", resp.StatusCode)
			}
			a, _, err := c.Actions.GetArtifact(t.Context(), "octo", "app", ids[0])
			if err != nil {
				t.Fatal(err)
			}
			body, status := fetch(t, u.String())
			if status != http.StatusOK {
				t.Fatalf("blob: status %d", status)
			}
			sum := sha256.Sum256(body)
			if got := "sha256:" + hex.EncodeToString(sum[:]); got != a.GetDigest() {
				t.Errorf("downloaded sha256 %s, digest %s", got, a.GetDigest())
			}

			_, resp, err = c.Actions.DownloadArtifact(t.Context(), "octo", "app", ids[1], 1)
			if err == nil || resp == nil || resp.StatusCode != http.StatusGone {
				t.Errorf("expired artifact: %v (%v), want 410", err, resp)
			}
		})
	}
	if got := f.sim.Requests()[githubsim.BlobWithAuthorization]; got != 0 {
		t.Errorf("the token reached the blob host %d times", got)
	}

	c := f.client(t, token)
	u, _, err := c.Actions.DownloadArtifact(t.Context(), "octo", "app", ids[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(61 * time.Second)
	if _, status := fetch(t, u.String()); status != http.StatusForbidden {
		t.Errorf("link after 61s: status %d, want 403", status)
	}
}

// fetch GETs a URL with a plain client, as a careful caller fetches blobs.
func fetch(t *testing.T, u string) ([]byte, int) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", u, err)
	}
	return body, resp.StatusCode
}

func TestGoGitHubRateLimitError(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{RateLimit: 2})
	f.add("octo/app", 1, fixed("x"), 0)
	c := f.client(t, token)
	for range 2 {
		if _, _, err := c.Actions.ListArtifacts(t.Context(), "octo", "app", nil); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := c.Actions.ListArtifacts(t.Context(), "octo", "app", nil)
	var rle *github.RateLimitError
	if !errors.As(err, &rle) {
		t.Fatalf("err = %v (%T), want *github.RateLimitError", err, err)
	}
	if rle.Rate.Limit != 2 || rle.Rate.Remaining != 0 || !rle.Rate.Reset.Time.Equal(start.Add(time.Hour)) || rle.Rate.Resource != "core" {
		t.Errorf("rate = %+v", rle.Rate)
	}
}

func TestGoGitHubAbuseRateLimitError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      func() githubsim.Fault
		secondary  bool
		wantRetry  *time.Duration
		wantStatus int
	}{
		{
			name:       "with Retry-After",
			fault:      func() githubsim.Fault { return githubsim.SecondaryLimitFault(githubsim.RouteDelete, 30*time.Second) },
			wantRetry:  new(30 * time.Second),
			wantStatus: 403,
		},
		{
			name: "without Retry-After as 429",
			fault: func() githubsim.Fault {
				f := githubsim.SecondaryLimitFault(githubsim.RouteDelete, 0)
				f.Status, f.NoRateHeaders = http.StatusTooManyRequests, true
				return f
			},
			wantStatus: 429,
		},
		{
			name:       "automatic points limit",
			secondary:  true,
			wantRetry:  new(60 * time.Second),
			wantStatus: 403,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, githubsim.Options{SecondaryLimits: tt.secondary, SecondaryPointsPerMinute: 5})
			ids := f.add("octo/app", 2, fixed("x"), 0)
			c := f.client(t, token)
			if tt.fault != nil {
				f.sim.InjectFault(tt.fault())
			} else if _, err := c.Actions.DeleteArtifact(t.Context(), "octo", "app", ids[1]); err != nil {
				t.Fatalf("first delete spends the minute's points: %v", err)
			}
			_, err := c.Actions.DeleteArtifact(t.Context(), "octo", "app", ids[0])
			var are *github.AbuseRateLimitError
			if !errors.As(err, &are) {
				t.Fatalf("err = %v (%T), want *github.AbuseRateLimitError", err, err)
			}
			if diff := cmp.Diff(tt.wantRetry, are.RetryAfter); diff != "" {
				t.Errorf("RetryAfter (-want +got):\n%s", diff)
			}
			if are.Response.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", are.Response.StatusCode, tt.wantStatus)
			}
			if !f.sim.Exists("octo/app", ids[0]) {
				t.Error("a refused delete removed the artifact")
			}
		})
	}
}

func TestGoGitHubBadToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	_, _, err := f.client(t, "wrong").Actions.ListArtifacts(t.Context(), "octo", "app", nil)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusUnauthorized || er.Message != "Bad credentials" {
		t.Errorf("err = %v, want 401 Bad credentials", err)
	}
}

func TestGoGitHubConditionalRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	f.add("octo/app", 3, fixed("x"), 0)
	c := f.client(t, token)
	_, resp, err := c.Actions.ListArtifacts(t.Context(), "octo", "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	etag, remaining := resp.Header.Get("ETag"), resp.Rate.Remaining
	req, err := c.NewRequest(t.Context(), "GET", "repos/octo/app/actions/artifacts", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("If-None-Match", etag)
	resp, err = c.Do(req, nil)
	// go-github has no cache: a 304 surfaces as an ErrorResponse.
	if resp == nil || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional list: %v, want 304", err)
	}
	if resp.Rate.Remaining != remaining {
		t.Errorf("remaining after 304 = %d, want %d (free)", resp.Rate.Remaining, remaining)
	}
}

func TestGoGitHubFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, githubsim.Options{})
	f.add("octo/app", 1, fixed("x"), 0)
	c := f.client(t, token)

	f.sim.InjectFault(githubsim.MalformedFault(githubsim.RouteList))
	_, resp, err := c.Actions.ListArtifacts(t.Context(), "octo", "app", nil)
	if err == nil || resp == nil || resp.StatusCode != 200 {
		t.Errorf("malformed body: err %v, resp %v; want a decode error on a 200", err, resp)
	}

	// Every time, not once: net/http retries an idempotent request whose
	// reused connection closed before any response byte.
	abort := githubsim.AbortFault(githubsim.RouteList)
	abort.Times = 0
	f.sim.InjectFault(abort)
	if _, _, err := c.Actions.ListArtifacts(t.Context(), "octo", "app", nil); err == nil {
		t.Error("aborted connection: no error")
	}
	f.sim.ClearFaults()

	f.sim.InjectFault(githubsim.StatusFault(githubsim.RouteList, http.StatusBadGateway))
	_, _, err = c.Actions.ListArtifacts(t.Context(), "octo", "app", nil)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusBadGateway {
		t.Errorf("502 fault: %v", err)
	}

	// A held request ends when the client gives up.
	f.sim.InjectFault(githubsim.DelayFault(githubsim.RouteGet, time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	f.sim.OnRequest(func(route string, _ *http.Request) {
		if route == githubsim.RouteGet {
			cancel()
		}
	})
	if _, _, err := c.Actions.GetArtifact(ctx, "octo", "app", 1); !errors.Is(err, context.Canceled) {
		t.Errorf("delayed get: %v, want context.Canceled", err)
	}

	if _, _, err := c.Actions.ListArtifacts(t.Context(), "octo", "app", nil); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}
