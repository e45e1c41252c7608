package archive_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/githubsim"
)

const token = "ghp_archiveTESTtoken0123456789abcdefghij"

var epoch = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// env is a simulator behind an optional truncating front, and a client.
type env struct {
	clock  *clock.Fake
	sim    *githubsim.Server
	client *github.Client
	// cut, when positive, makes blob responses stop after cut bytes.
	cut int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clock: clock.NewFake(epoch)}
	e.sim = githubsim.New(githubsim.Options{Token: token, Clock: e.clock})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.cut > 0 && strings.Contains(r.URL.Path, "/_blob/") {
			truncate(w, r, e.sim, e.cut)
			return
		}
		e.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	var err error
	e.client, err = github.New(github.Config{BaseURL: srv.URL, Token: token, Clock: e.clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// truncate serves the blob with its full Content-Length but only cut bytes
// of body, then drops the connection, as a network failure mid-transfer would.
func truncate(w http.ResponseWriter, r *http.Request, h http.Handler, cut int) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	body := rec.Body.Bytes()
	_, _ = w.Write(body[:min(cut, len(body))])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func (e *env) add(t *testing.T, name string, content []byte) artifact.Artifact {
	t.Helper()
	a := artifact.Artifact{Repository: "octo/api", Name: name, SizeInBytes: int64(len(content)), CreatedAt: epoch.Add(-48 * time.Hour)}
	a.ID = e.sim.AddArtifact(a)
	if !e.sim.SetContent("octo/api", a.ID, content) {
		t.Fatal("SetContent: no such artifact")
	}
	sum := sha256.Sum256(content)
	a.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return a
}

// files lists every file under dir, temporary ones included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestArchiveSavesAVerifiedFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	content := bytes.Repeat([]byte("zip bytes "), 10000) // several reads
	a := e.add(t, "build-output", content)
	dir := t.TempDir()
	ar := &archive.Archiver{Dir: dir, MaxBytes: 1 << 20}
	res, err := ar.Archive(t.Context(), e.client, a)
	if err != nil {
		t.Fatal(err)
	}
	want := archive.Result{
		Path:   filepath.Join(dir, "octo", "api", archive.FileName(a.ID, "build-output")),
		Bytes:  int64(len(content)),
		SHA256: strings.TrimPrefix(a.Digest, "sha256:"),
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	got, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("file holds %d bytes that differ from the archive", len(got))
	}
	if diff := cmp.Diff([]string{"octo/api/" + archive.FileName(a.ID, "build-output")}, files(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if fi, _ := os.Stat(res.Path); fi.Mode().Perm() != archive.FileMode {
		t.Errorf("file mode %v, want %v", fi.Mode().Perm(), archive.FileMode)
	}
	if fi, _ := os.Stat(filepath.Dir(res.Path)); fi.Mode().Perm()&^archive.DirMode != 0 {
		t.Errorf("directory mode %v, want at most %v", fi.Mode().Perm(), archive.DirMode)
	}
	if ar.Used() != int64(len(content)) {
		t.Errorf("Used() = %d, want %d", ar.Used(), len(content))
	}
	if n := e.sim.Requests()[githubsim.BlobWithAuthorization]; n != 0 {
		t.Errorf("the token was sent to the blob host %d times", n)
	}
}

func TestArchiveFailuresLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("0123456789"), 5000)
	tests := []struct {
		name  string
		setup func(e *env, a *artifact.Artifact)
		want  error
	}{
		{
			name: "truncated",
			setup: func(e *env, a *artifact.Artifact) {
				e.cut = len(content) / 2
			},
		},
		{
			name: "digest mismatch",
			setup: func(e *env, a *artifact.Artifact) {
				a.Digest = "sha256:" + strings.Repeat("ab", 32)
			},
			want: archive.ErrDigestMismatch,
		},
		{
			name: "unverifiable digest",
			setup: func(e *env, a *artifact.Artifact) {
				a.Digest = "md5:abc"
			},
			want: archive.ErrDigestMismatch,
		},
		{
			name: "expired",
			setup: func(e *env, a *artifact.Artifact) {
				e.sim.SetExpired(a.Repository, a.ID, true)
			},
			want: github.ErrExpired,
		},
		{
			name: "gone",
			setup: func(e *env, a *artifact.Artifact) {
				e.sim.RemoveArtifact(a.Repository, a.ID)
			},
			want: github.ErrNotFound,
		},
		{
			name: "blob host keeps failing",
			setup: func(e *env, a *artifact.Artifact) {
				e.sim.InjectFault(githubsim.Fault{Route: githubsim.RouteBlob, Abort: true})
			},
		},
		{
			name: "larger than announced and than the budget",
			setup: func(e *env, a *artifact.Artifact) {
				a.SizeInBytes = 10 // the budget below is 1000
			},
			want: archive.ErrBudget,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.add(t, "build", content)
			tc.setup(e, &a)
			dir := t.TempDir()
			ar := &archive.Archiver{Dir: dir, MaxBytes: 1000}
			if tc.want != archive.ErrBudget {
				ar.MaxBytes = 1 << 20
			}
			_, err := ar.Archive(t.Context(), e.client, a)
			if err == nil {
				t.Fatal("Archive succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if got := files(t, dir); len(got) != 0 {
				t.Errorf("files left behind: %v", got)
			}
		})
	}
}

func TestArchiveBudgetIsCheckedBeforeDownloading(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.add(t, "first", bytes.Repeat([]byte("a"), 600))
	second := e.add(t, "second", bytes.Repeat([]byte("b"), 600))
	third := e.add(t, "third", bytes.Repeat([]byte("c"), 300))
	ar := &archive.Archiver{Dir: t.TempDir(), MaxBytes: 1000}
	if _, err := ar.Archive(t.Context(), e.client, first); err != nil {
		t.Fatal(err)
	}
	if _, err := ar.Archive(t.Context(), e.client, second); !errors.Is(err, archive.ErrBudget) {
		t.Fatalf("second archive: err = %v, want ErrBudget", err)
	}
	if n := e.sim.Requests()["GET "+githubsim.RouteDownload]; n != 1 {
		t.Errorf("%d download requests, want 1: an archive over budget must not be downloaded", n)
	}
	// A smaller one still fits.
	if _, err := ar.Archive(t.Context(), e.client, third); err != nil {
		t.Fatal(err)
	}
	if ar.Used() != 900 {
		t.Errorf("Used() = %d, want 900", ar.Used())
	}
}

func TestArchiveGivesUpOnAStalledDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.add(t, "build", []byte("zip"))
	// The blob host answers nothing for far longer than the stall timeout.
	e.sim.InjectFault(githubsim.DelayFault(githubsim.RouteBlob, time.Hour))
	dir := t.TempDir()
	ar := &archive.Archiver{Dir: dir, MaxBytes: 1000, StallTimeout: 50 * time.Millisecond}
	_, err := ar.Archive(t.Context(), e.client, a)
	if !errors.Is(err, archive.ErrStalled) {
		t.Fatalf("err = %v, want ErrStalled", err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Errorf("files left behind: %v", got)
	}
}

func TestSaveReplacesTheDestination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.add(t, "build", []byte("new content"))
	dir := t.TempDir()
	dst := filepath.Join(dir, "out.zip")
	if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := archive.Save(t.Context(), e.client, a, dst)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "new content" || res.Bytes != int64(len("new content")) {
		t.Errorf("file %q, result %+v", got, res)
	}
	if diff := cmp.Diff([]string{"out.zip"}, files(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestPathRefusesRepositoriesThatEscapeTheDirectory(t *testing.T) {
	t.Parallel()
	ar := &archive.Archiver{Dir: "/archive"}
	for _, repo := range []string{"../etc", "./x", "octo/..", `a\b/c`} {
		if p, err := ar.Path(artifact.Artifact{Repository: artifact.Repository(repo), ID: 1, Name: "x"}); err == nil {
			t.Errorf("Path(%q) = %s, want an error", repo, p)
		}
	}
	p, err := ar.Path(artifact.Artifact{Repository: "octo/api", ID: 7, Name: "../../etc/passwd"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "/archive/octo/api/7-____etc_passwd.zip"; p != want {
		t.Errorf("Path = %s, want %s", p, want)
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		name, in, want string
	}{
		{"plain", "build-output", "42-build-output.zip"},
		{"dots kept", "v1.2.3", "42-v1.2.3.zip"},
		{"slash", "a/b", "42-a_b.zip"},
		{"backslash", `a\b`, "42-a_b.zip"},
		{"parent", "..", "42-_.zip"},
		{"parent in path", "../../x", "42-____x.zip"},
		{"three dots", "...", "42-_.zip"},
		{"trailing dot", "v1.", "42-v1.zip"},
		{"control", "a\x00b\nc", "42-a_b_c.zip"},
		{"forbidden elsewhere", `a:b*c?d"e<f>g|h`, "42-a_b_c_d_e_f_g_h.zip"},
		{"invalid utf-8", "a\xffb", "42-a_b.zip"},
		{"empty", "", "42-artifact.zip"},
		{"long", long, "42-" + strings.Repeat("é", 90) + ".zip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := archive.FileName(42, tc.in)
			if got != tc.want {
				t.Errorf("FileName(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if strings.ContainsAny(got, `/\`) || strings.Contains(got, "..") {
				t.Errorf("FileName(%q) = %q is not one safe path element", tc.in, got)
			}
		})
	}
}

func TestVerifyDigest(t *testing.T) {
	t.Parallel()
	hexSum := strings.Repeat("0f", 32)
	tests := []struct {
		name, digest string
		ok           bool
	}{
		{"none given", "", true},
		{"match", "sha256:" + hexSum, true},
		{"match, upper case", "SHA256:" + strings.ToUpper(hexSum), true},
		{"mismatch", "sha256:" + strings.Repeat("f0", 32), false},
		{"other algorithm", "sha1:" + hexSum[:40], false},
		{"no algorithm", hexSum, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := archive.VerifyDigest(tc.digest, hexSum)
			if (err == nil) != tc.ok {
				t.Errorf("VerifyDigest(%q) = %v, want ok=%v", tc.digest, err, tc.ok)
			}
		})
	}
}
