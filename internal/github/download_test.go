package github

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// archive is a stand-in for a zip, large enough to take several reads.
var archive = bytes.Repeat([]byte("PK\x03\x04 retentiond test archive "), 4096)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// downloadFixture is an API server that redirects the archive of artifact 1
// of o/r to a separate blob server, as GitHub does.
type downloadFixture struct {
	api, blob *harness
	apiReqs   *script
	blobReqs  *script
}

func newDownloadFixture(t *testing.T, apiSteps []http.HandlerFunc, blobSteps ...http.HandlerFunc) *downloadFixture {
	t.Helper()
	f := &downloadFixture{blobReqs: newScript(blobSteps...)}
	f.blob = newHarness(t, f.blobReqs)
	if apiSteps == nil {
		apiSteps = []http.HandlerFunc{f.redirect}
	}
	f.apiReqs = newScript(apiSteps...)
	f.api = newHarness(t, f.apiReqs)
	return f
}

// redirect answers the API request with a 302 to a signed-looking blob URL.
func (f *downloadFixture) redirect(w http.ResponseWriter, r *http.Request) {
	rate(w, 5000, 4999, t0.Add(time.Hour))
	http.Redirect(w, r, f.blob.srv.URL+"/artifacts/1.zip?sig=s3cr3t-signature&se=2026", http.StatusFound)
}

func serveArchive(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}
}

func TestDownloadArtifact(t *testing.T) {
	t.Parallel()
	f := newDownloadFixture(t, nil, serveArchive(archive))
	var buf bytes.Buffer
	res, err := f.api.c.DownloadArtifact(t.Context(), "o/r", 1, &buf)
	if err != nil {
		t.Fatalf("DownloadArtifact: %v", err)
	}
	if diff := cmp.Diff(DownloadResult{Bytes: int64(len(archive)), SHA256: sha(archive)}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if !bytes.Equal(buf.Bytes(), archive) {
		t.Errorf("wrote %d bytes that differ from the archive", buf.Len())
	}
	apiReq := f.apiReqs.requests()[0]
	if got, want := apiReq.URL.Path, "/repos/o/r/actions/artifacts/1/zip"; got != want {
		t.Errorf("API request path = %s, want %s", got, want)
	}
	if got := apiReq.Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("API request Authorization = %q, want the bearer token", got)
	}
	blobReq := f.blobReqs.requests()[0]
	if got := blobReq.Header.Get("Authorization"); got != "" {
		t.Errorf("blob request carried Authorization %q", got)
	}
	if got := blobReq.URL.Query().Get("sig"); got != "s3cr3t-signature" {
		t.Errorf("blob request lost its signature: %s", blobReq.URL)
	}
	if got := f.api.c.Requests(); got != 1 {
		t.Errorf("Requests() = %d, want 1 (blob fetches cost no rate limit)", got)
	}
}

// TestDownloadArtifactNoAuthAfterBlobRedirect: the blob host may redirect
// again; the token still stays home.
func TestDownloadArtifactNoAuthAfterBlobRedirect(t *testing.T) {
	t.Parallel()
	f := newDownloadFixture(t, nil, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/final.zip", http.StatusTemporaryRedirect)
	}, serveArchive([]byte("zip")))
	var buf bytes.Buffer
	if _, err := f.api.c.DownloadArtifact(t.Context(), "o/r", 1, &buf); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.blobReqs.requests() {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("blob request %s carried Authorization %q", r.URL.Path, a)
		}
	}
}

func TestDownloadArtifactFailures(t *testing.T) {
	t.Parallel()
	truncated := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(archive)))
		_, _ = w.Write(archive[:len(archive)/2])
	}
	tests := []struct {
		name       string
		api        []http.HandlerFunc // nil: redirect to the blob server
		blob       []http.HandlerFunc
		sentinel   error
		wantText   string
		wantSleeps []time.Duration
		wantBlob   int // blob requests
	}{
		{
			name:     "expired",
			api:      []http.HandlerFunc{fail(http.StatusGone, "Artifact has expired", "")},
			sentinel: ErrExpired,
			wantText: "downloading artifact 1 of o/r: GET /repos/o/r/actions/artifacts/1/zip: 410 Gone: Artifact has expired",
		},
		{
			name:     "unknown artifact",
			api:      []http.HandlerFunc{fail(http.StatusNotFound, "Not Found", "")},
			sentinel: ErrNotFound,
		},
		{
			name:     "truncated body",
			blob:     []http.HandlerFunc{truncated},
			wantText: "after " + strconv.Itoa(len(archive)/2) + " bytes: unexpected EOF",
			wantBlob: 1,
		},
		{
			name:     "API answers 200 instead of a redirect",
			api:      []http.HandlerFunc{serveArchive(archive)},
			wantText: "want a 302 to the archive, got 200 OK",
		},
		{
			name:     "blob server refuses for good",
			blob:     []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }},
			wantText: "/artifacts/1.zip: 404 Not Found",
			wantBlob: 1,
		},
		{
			name:       "blob server errors exhausted",
			blob:       []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }},
			wantText:   "503 Service Unavailable",
			wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			wantBlob:   4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.blob == nil {
				tc.blob = []http.HandlerFunc{serveArchive(archive)}
			}
			f := newDownloadFixture(t, tc.api, tc.blob...)
			var buf bytes.Buffer
			_, err := f.api.c.DownloadArtifact(t.Context(), "o/r", 1, &buf)
			if err == nil {
				t.Fatal("DownloadArtifact succeeded, want an error")
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.wantText)
			}
			if strings.Contains(err.Error(), "s3cr3t-signature") {
				t.Errorf("error shows the blob URL's signature: %v", err)
			}
			if diff := cmp.Diff(tc.wantSleeps, f.api.clock.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if got := f.blobReqs.count(); got != tc.wantBlob {
				t.Errorf("blob requests = %d, want %d", got, tc.wantBlob)
			}
		})
	}
}

// TestDownloadArtifactRetriesWithFreshURL: a blob failure before any byte
// was written asks the API for a new location, since the old one may expire.
func TestDownloadArtifactRetriesWithFreshURL(t *testing.T) {
	t.Parallel()
	f := newDownloadFixture(t, nil, abort, serveArchive(archive))
	var buf bytes.Buffer
	res, err := f.api.c.DownloadArtifact(t.Context(), "o/r", 1, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != sha(archive) || buf.Len() != len(archive) {
		t.Errorf("result %+v after %d bytes", res, buf.Len())
	}
	if f.apiReqs.count() != 2 || f.blobReqs.count() != 2 {
		t.Errorf("API requests %d, blob requests %d; want 2 each", f.apiReqs.count(), f.blobReqs.count())
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, f.api.clock.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

// TestDownloadArtifactSecondaryLimit: the API step shares the rate-limit waits.
func TestDownloadArtifactSecondaryLimit(t *testing.T) {
	t.Parallel()
	var f *downloadFixture
	f = newDownloadFixture(t, []http.HandlerFunc{secondaryLimited("5"), func(w http.ResponseWriter, r *http.Request) { f.redirect(w, r) }}, serveArchive([]byte("zip")))
	var buf bytes.Buffer
	if _, err := f.api.c.DownloadArtifact(t.Context(), "o/r", 1, &buf); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Second}, f.api.clock.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

// failingWriter fails after accepting n bytes.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

// TestDownloadArtifactWriterError: a write error is returned and not retried.
func TestDownloadArtifactWriterError(t *testing.T) {
	t.Parallel()
	f := newDownloadFixture(t, nil, serveArchive(archive))
	res, err := f.api.c.DownloadArtifact(t.Context(), "o/r", 1, &failingWriter{n: 100})
	if !errors.Is(err, errDiskFull) {
		t.Errorf("err = %v, want %v", err, errDiskFull)
	}
	if res.SHA256 != "" || f.blobReqs.count() != 1 {
		t.Errorf("result %+v after %d blob requests", res, f.blobReqs.count())
	}
}
