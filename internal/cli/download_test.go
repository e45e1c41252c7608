package cli_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/testbed"
)

// downloadWorld is a simulator with one artifact whose archive is content.
// download needs no database.
type downloadWorld struct {
	sim     *githubsim.Server
	clock   *clock.Fake
	env     map[string]string
	id      string
	content []byte
	sha     string
}

func newDownloadWorld(t *testing.T) *downloadWorld {
	t.Helper()
	w := &downloadWorld{clock: clock.NewFake(testbed.Epoch), content: bytes.Repeat([]byte("PK zip "), 5000)}
	w.sim = githubsim.New(githubsim.Options{Token: testbed.Token, Clock: w.clock})
	srv := httptest.NewServer(w.sim)
	t.Cleanup(srv.Close)
	id := w.sim.AddArtifact(artifact.Artifact{Repository: "octo/api", Name: "build output", SizeInBytes: int64(len(w.content)), CreatedAt: testbed.Epoch.Add(-time.Hour)})
	w.sim.SetContent("octo/api", id, w.content)
	sum := sha256.Sum256(w.content)
	w.id, w.sha = strconv.FormatInt(id, 10), hex.EncodeToString(sum[:])
	w.env = map[string]string{"GITHUB_TOKEN": testbed.Token, "GITHUB_API_URL": srv.URL, "LOG_FORMAT": "json"}
	return w
}

func (w *downloadWorld) invoke(args ...string) cliOutcome { return invoke(w.env, w.clock, args...) }

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestDownloadCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args func(dir, id string) []string
		file string // expected file in dir
	}{
		{"to a file", func(dir, id string) []string {
			return []string{"download", "octo/api", id, "-o", filepath.Join(dir, "out.zip")}
		}, "out.zip"},
		{"flag first", func(dir, id string) []string {
			return []string{"download", "-o", filepath.Join(dir, "x.zip"), "Octo/API", id}
		}, "x.zip"},
		{"into a directory", func(dir, id string) []string { return []string{"download", "octo/api", id, "-o", dir} }, "-build output.zip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newDownloadWorld(t)
			dir := t.TempDir()
			r := w.invoke(tc.args(dir, w.id)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
			}
			file := tc.file
			if strings.HasPrefix(file, "-") {
				file = w.id + file
			}
			got, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatalf("%v; files: %v", err, dirFiles(t, dir))
			}
			if !bytes.Equal(got, w.content) {
				t.Errorf("downloaded %d bytes that differ from the archive", len(got))
			}
			if files := dirFiles(t, dir); len(files) != 1 {
				t.Errorf("files %v, want only %s", files, file)
			}
			for _, want := range []string{filepath.Join(dir, file), strconv.Itoa(len(w.content)) + " bytes", w.sha, "matches GitHub's sha256:"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			if n := w.sim.Requests()[githubsim.BlobWithAuthorization]; n != 0 {
				t.Errorf("the token went to the blob host %d times", n)
			}
			if strings.Contains(r.stdout+r.stderr, testbed.Token) {
				t.Error("the token was printed")
			}
		})
	}
}

// TestDownloadCommandDefaultsToTheCurrentDirectory changes directory, so it
// cannot run in parallel.
func TestDownloadCommandDefaultsToTheCurrentDirectory(t *testing.T) {
	w := newDownloadWorld(t)
	dir := t.TempDir()
	t.Chdir(dir)
	r := w.invoke("download", "octo/api", w.id)
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	want := w.id + "-build output.zip"
	if got, err := os.ReadFile(filepath.Join(dir, want)); err != nil || !bytes.Equal(got, w.content) {
		t.Errorf("%s: %v (files %v)", want, err, dirFiles(t, dir))
	}
	if fi, err := os.Stat(filepath.Join(dir, want)); err == nil && fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
}

func TestDownloadCommandToStdout(t *testing.T) {
	t.Parallel()
	w := newDownloadWorld(t)
	r := w.invoke("download", "octo/api", w.id, "-o", "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	if r.stdout != string(w.content) {
		t.Errorf("stdout holds %d bytes that differ from the archive", len(r.stdout))
	}
	if !strings.Contains(r.stderr, w.sha) {
		t.Errorf("stderr lacks the sha256:\n%s", r.stderr)
	}
}

func TestDownloadCommandFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(w *downloadWorld) []string // returns extra args after the id
		args  []string                        // replaces the whole command line when set
		code  int
		want  string
	}{
		{name: "digest mismatch", code: 1, want: "digest mismatch", setup: func(w *downloadWorld) []string {
			id, _ := strconv.ParseInt(w.id, 10, 64)
			w.sim.SetDigest("octo/api", id, "sha256:"+strings.Repeat("ee", 32))
			return nil
		}},
		{name: "digest mismatch to stdout", code: 1, want: "not the one GitHub describes", setup: func(w *downloadWorld) []string {
			id, _ := strconv.ParseInt(w.id, 10, 64)
			w.sim.SetDigest("octo/api", id, "sha256:"+strings.Repeat("ee", 32))
			return []string{"-o", "-"}
		}},
		{name: "expired", code: 1, want: "has expired", setup: func(w *downloadWorld) []string {
			id, _ := strconv.ParseInt(w.id, 10, 64)
			w.sim.SetExpired("octo/api", id, true)
			return nil
		}},
		{name: "blob host down", code: 1, want: "503", setup: func(w *downloadWorld) []string {
			w.sim.InjectFault(githubsim.Fault{Route: githubsim.RouteBlob, Status: 503})
			return nil
		}},
		{name: "no such artifact", code: 1, want: "does not exist", args: []string{"download", "octo/api", "42"}},
		{name: "missing id", code: 2, want: "usage: retentiond download", args: []string{"download", "octo/api"}},
		{name: "bad id", code: 2, want: "not an artifact id", args: []string{"download", "octo/api", "x1"}},
		{name: "bad repository", code: 2, want: "owner/name", args: []string{"download", "octo", "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newDownloadWorld(t)
			dir := t.TempDir()
			args := tc.args
			if args == nil {
				args = append([]string{"download", "octo/api", w.id, "-o", filepath.Join(dir, "out.zip")}, tc.setup(w)...)
			}
			r := w.invoke(args...)
			if r.code != tc.code || r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("exit %d, err %v; want exit %d saying %q", r.code, r.err, tc.code, tc.want)
			}
			if files := dirFiles(t, dir); len(files) != 0 {
				t.Errorf("files left behind: %v", files)
			}
		})
	}
}

func TestDownloadCommandHelp(t *testing.T) {
	t.Parallel()
	r := invoke(nil, nil, "help", "download")
	for _, want := range []string{"Usage: retentiond download OWNER/REPO ARTIFACT_ID [-o FILE]", "Example:", "GITHUB_TOKEN"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("help download (exit %d) lacks %q", r.code, want)
		}
	}
}
