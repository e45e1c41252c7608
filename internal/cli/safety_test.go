package cli_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/retentiond/retentiond/internal/githubsim"
)

// with returns w's environment with the given variables set (an empty value
// unsets).
func (w *world) with(kv ...string) map[string]string {
	env := maps.Clone(w.env)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(env, kv[i])
			continue
		}
		env[kv[i]] = kv[i+1]
	}
	return env
}

// TestCapIsNormalOperation: a run that stops at the cap succeeded; exit 1
// would make a Job retry it and spend a fresh cap each time.
func TestCapIsNormalOperation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.with("MAX_DELETIONS_PER_RUN", "1")
	r := runWith(t, env, w.Clock, "run")
	if r.code != 0 || !strings.Contains(r.stdout, "succeeded") || !strings.Contains(r.stdout, "deletion cap reached (MAX_DELETIONS_PER_RUN=1)") {
		t.Fatalf("dry-run at the cap: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	r = runWith(t, env, w.Clock, "run", "--dry-run=false")
	if r.code != 0 || !strings.Contains(r.stdout, "deletion cap reached") {
		t.Fatalf("real run at the cap: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	if d := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]; d != 1 {
		t.Errorf("%d DELETEs, want 1", d)
	}
	// The daily cap holds across runs: with one deletion in the last 24
	// hours and MAX_DELETIONS_PER_DAY=1, the next run deletes nothing.
	r = runWith(t, w.with("MAX_DELETIONS_PER_RUN", "1", "MAX_DELETIONS_PER_DAY", "1"), w.Clock, "run", "--dry-run=false")
	if r.code != 0 || !strings.Contains(r.stdout, "MAX_DELETIONS_PER_DAY=1") {
		t.Fatalf("run at the daily cap: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	if d := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]; d != 1 {
		t.Errorf("%d DELETEs after the daily cap was reached, want still 1", d)
	}
}

const archivePolicy = `version: 1
repositories: [octo/api, octo/web]
safety:
  min_age: 2h
rules:
  - rule: old-builds
    action: delete
    older_than: 5h
    archive: true
`

// TestArchiveRulesNeedAWritableArchiveDir: an archive is written before its
// artifact is deleted, so a run that may delete refuses to start unless it
// has somewhere lasting to write it.
func TestArchiveRulesNeedAWritableArchiveDir(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	dir := t.TempDir()
	pol := filepath.Join(dir, "archive.yaml")
	notDir := filepath.Join(dir, "file")
	for name, body := range map[string]string{pol: archivePolicy, notDir: "x"} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"run without ARCHIVE_DIR", w.with("POLICY_FILE", pol), []string{"run", "--dry-run=false"}, "ARCHIVE_DIR: is required: rule old-builds archives before deleting"},
		{"serve without ARCHIVE_DIR", w.with("POLICY_FILE", pol, "DRY_RUN", "false", "HTTP_ADDR", "127.0.0.1:0"), []string{"serve"}, "ARCHIVE_DIR: is required"},
		{"apply without ARCHIVE_DIR", w.with("POLICY_FILE", pol), []string{"apply", "--run", "1"}, "ARCHIVE_DIR: is required"},
		{"ARCHIVE_DIR is a file", w.with("POLICY_FILE", pol, "ARCHIVE_DIR", notDir), []string{"run", "--dry-run=false"}, "ARCHIVE_DIR: " + notDir + " is not a writable directory"},
	}
	for _, tt := range tests {
		r := runWith(t, tt.env, w.Clock, tt.args...)
		if r.code != 2 || r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%s: exit %d, err %v; want 2 and %q", tt.name, r.code, r.err, tt.want)
		}
	}
	if n := w.Sim.TotalRequests(); n != 0 {
		t.Errorf("refused runs sent %d requests", n)
	}

	// A dry-run archives nothing: it warns and goes on.
	r := runWith(t, w.with("POLICY_FILE", pol), w.Clock, "run")
	if r.code != 0 || !strings.Contains(r.stderr, "a real run would refuse to start") {
		t.Errorf("dry-run without ARCHIVE_DIR: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	// With a directory, deletions archive into it.
	archives := filepath.Join(dir, "archive")
	r = runWith(t, w.with("POLICY_FILE", pol, "ARCHIVE_DIR", archives), w.Clock, "run", "--dry-run=false")
	if r.code != 0 {
		t.Fatalf("run with ARCHIVE_DIR: exit %d %v\n%s", r.code, r.err, r.stdout)
	}
	if got, _ := filepath.Glob(filepath.Join(archives, "octo", "*", "*.zip")); len(got) == 0 {
		t.Error("no archives written")
	}
}

// TestSettingsAreCheckedAtStart: a bad value is one message naming its
// variable, exit 2, before anything else happens.
func TestSettingsAreCheckedAtStart(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"listen address", w.with("HTTP_ADDR", "8080"), []string{"serve"}, `HTTP_ADDR: "8080" is not host:port`},
		{"database URL", w.with("DATABASE_URL", "postgres://app:pw-zz9@db:port/x"), []string{"audit"}, "DATABASE_URL: not a PostgreSQL connection string"},
		{"API URL", w.with("GITHUB_API_URL", "https://"), []string{"scan"}, `GITHUB_API_URL: "https://" has no host`},
		{"size unit", w.with("ARCHIVE_MAX_BYTES", "10gb"), []string{"run"}, `ARCHIVE_MAX_BYTES: "10gb" is not a size`},
		{"missing policy for policy check", nil, []string{"policy", "check", "testdata/missing.yaml"}, "testdata/missing.yaml"},
	}
	for _, tt := range tests {
		r := runWith(t, tt.env, w.Clock, tt.args...)
		if r.code != 2 || r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%s: exit %d, err %v; want 2 and %q", tt.name, r.code, r.err, tt.want)
		}
		if strings.Contains(r.stderr, "serving") || strings.Contains(r.err.Error()+r.stderr, "pw-zz9") {
			t.Errorf("%s: stderr %q", tt.name, r.stderr)
		}
	}
	// The policy's units are accepted.
	if r := runWith(t, w.with("APPLY_MAX_AGE", "7d", "ARCHIVE_MAX_BYTES", "10GiB"), w.Clock, "run"); r.code != 0 {
		t.Errorf("APPLY_MAX_AGE=7d ARCHIVE_MAX_BYTES=10GiB: exit %d %v", r.code, r.err)
	}
	// A refusal says why, and nothing else.
	r := runWith(t, w.env, w.Clock, "apply", "--run", "42")
	if r.code != 1 || strings.Contains(r.err.Error(), "not everything succeeded") || !strings.Contains(r.err.Error(), "run 42 does not exist") {
		t.Errorf("apply refusal: exit %d, %v", r.code, r.err)
	}
}
