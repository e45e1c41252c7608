package githubsim

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

// downloadLink asks for the archive of id and returns the redirect target.
func downloadLink(t *testing.T, s *Server, id int64, header ...string) string {
	t.Helper()
	r := serve(t, s, "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d/zip", id), header...)
	if r.status != http.StatusFound {
		t.Fatalf("download: status %d, want 302; body %s", r.status, r.body)
	}
	if len(r.body) != 0 {
		t.Errorf("302 body = %q, want empty", r.body)
	}
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "http://example.com/_blob/") {
		t.Fatalf("Location = %q, want a blob link on the same host", loc)
	}
	return loc
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestDownloadServesZipMatchingDigest(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{Token: "s3cret"})
	id := s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "build-linux", Digest: AutoDigest, CreatedAt: testNow})
	loc := downloadLink(t, s, id, "Authorization", "Bearer s3cret")

	// The blob wants no token.
	r := serve(t, s, "GET", loc)
	if r.status != http.StatusOK {
		t.Fatalf("blob: status %d; body %s", r.status, r.body)
	}
	if got := r.header.Get("Content-Type"); got != "application/zip" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := r.header.Get("Content-Length"); got != fmt.Sprint(len(r.body)) {
		t.Errorf("Content-Length = %s, body is %d bytes", got, len(r.body))
	}
	if r.header.Get("X-RateLimit-Limit") != "" {
		t.Error("blob response carries GitHub rate-limit headers")
	}
	listed := s.Artifacts("octo/app")[0].Digest
	if got := sha256Digest(r.body); got != listed {
		t.Errorf("sha256 of the zip = %s, listed digest %s", got, listed)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatalf("reading zip: %v", err)
	}
	f, err := zr.File[0].Open()
	if err != nil {
		t.Fatalf("opening zip entry: %v", err)
	}
	text, _ := io.ReadAll(f)
	if want := fmt.Sprintf("id: %d\n", id); !strings.Contains(string(text), want) {
		t.Errorf("zip content %q lacks %q", text, want)
	}
	// Served twice, the same bytes.
	if again := serve(t, s, "GET", loc); !bytes.Equal(again.body, r.body) {
		t.Error("second download differs")
	}
	if got := s.Requests()[BlobWithAuthorization]; got != 0 {
		t.Errorf("blob requests with authorization = %d, want 0", got)
	}
	serve(t, s, "GET", loc, "Authorization", "Bearer s3cret")
	if got := s.Requests()[BlobWithAuthorization]; got != 1 {
		t.Errorf("blob requests with authorization = %d, want 1 after sending one", got)
	}
}

func TestDownloadLinkExpires(t *testing.T) {
	t.Parallel()
	s, clk := newSim(t, Options{})
	id := seed(s, "octo/app", 1)[0]
	loc := downloadLink(t, s, id)
	clk.Advance(59 * time.Second)
	if r := serve(t, s, "GET", loc); r.status != http.StatusOK {
		t.Fatalf("after 59s: status %d", r.status)
	}
	clk.Advance(time.Second)
	r := serve(t, s, "GET", loc)
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "<Code>AuthenticationFailed</Code>") {
		t.Errorf("after 60s: status %d, body %s; want 403 AuthenticationFailed", r.status, r.body)
	}
	// A fresh link works again.
	if r := serve(t, s, "GET", downloadLink(t, s, id)); r.status != http.StatusOK {
		t.Errorf("fresh link: status %d", r.status)
	}
}

func TestDownloadLinkTampering(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	ids := seed(s, "octo/app", 2)
	loc, err := url.Parse(downloadLink(t, s, ids[0]))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	tests := []struct {
		name string
		edit func(u *url.URL)
	}{
		{"longer expiry", func(u *url.URL) {
			v := u.Query()
			v.Set("se", "99999999999")
			u.RawQuery = v.Encode()
		}},
		{"other artifact", func(u *url.URL) {
			u.Path = strings.Replace(u.Path, fmt.Sprint(ids[0]), fmt.Sprint(ids[1]), 1)
		}},
		{"no signature", func(u *url.URL) { u.RawQuery = "se=" + q.Get("se") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := *loc
			tt.edit(&u)
			if r := serve(t, s, "GET", u.String()); r.status != http.StatusForbidden {
				t.Errorf("status %d, want 403", r.status)
			}
		})
	}
}

func TestDownloadDeletedAndExpired(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	ids := seed(s, "octo/app", 2)
	loc := downloadLink(t, s, ids[0])
	s.RemoveArtifact("octo/app", ids[0])
	if r := serve(t, s, "GET", loc); r.status != http.StatusNotFound {
		t.Errorf("blob of a deleted artifact: status %d, want 404", r.status)
	}
	s.SetExpired("octo/app", ids[1], true)
	r := serve(t, s, "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d/zip", ids[1]))
	if r.status != http.StatusGone {
		t.Fatalf("expired: status %d, want 410", r.status)
	}
	want := errorBody{Message: "Artifact has expired", DocumentationURL: docArtifacts + "#download-an-artifact", Status: "410"}
	if diff := cmp.Diff(want, decodeError(t, r)); diff != "" {
		t.Errorf("410 body (-want +got):\n%s", diff)
	}
}

func TestSetContentAndDigest(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	id := seed(s, "octo/app", 1)[0]
	if got := s.Artifacts("octo/app")[0].Digest; got != "" {
		t.Errorf("digest of an artifact added without one = %q, want empty (null)", got)
	}
	content := []byte("PK\x05\x06" + strings.Repeat("\x00", 18))
	if !s.SetContent("octo/app", id, content) {
		t.Fatal("SetContent reported a missing artifact")
	}
	r := serve(t, s, "GET", downloadLink(t, s, id))
	if !bytes.Equal(r.body, content) {
		t.Errorf("blob = %q, want the set content", r.body)
	}
	l := decodeList(t, serve(t, s, "GET", "/repos/octo/app/actions/artifacts"))
	if got := *l.Artifacts[0].Digest; got != sha256Digest(content) {
		t.Errorf("listed digest = %s, want %s", got, sha256Digest(content))
	}
	s.SetDigest("octo/app", id, "sha256:0000")
	if got := s.Artifacts("octo/app")[0].Digest; got != "sha256:0000" {
		t.Errorf("digest after SetDigest = %s", got)
	}
	if s.SetContent("octo/app", id+1, nil) || s.SetDigest("octo/app", id+1, "") {
		t.Error("setters reported success for a missing artifact")
	}
}

func TestDefaultZipIsDeterministic(t *testing.T) {
	t.Parallel()
	a := artifact.Artifact{ID: 5, Repository: "octo/app", Name: "x"}
	if !bytes.Equal(defaultZip(&a), defaultZip(&a)) {
		t.Error("default zip differs between calls")
	}
	b := a
	b.ID = 6
	if bytes.Equal(defaultZip(&a), defaultZip(&b)) {
		t.Error("two artifacts share a default zip")
	}
}
