package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/cli"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
)

// applyPolicyYAML deletes builds older than 3h, and logs older than 3h after
// archiving them.
const applyPolicyYAML = `version: 1
repositories: [octo/api]
safety:
  min_age: 1h
rules:
  - rule: old-builds
    action: delete
    name: build
    older_than: 3h
  - rule: old-logs
    action: delete
    name: logs
    older_than: 3h
    archive: true
`

// cliOutcome is what one command invocation did.
type cliOutcome struct {
	stdout, stderr string
	code           int
	err            error
}

func invoke(env map[string]string, clk clock.Clock, args ...string) cliOutcome {
	var out, errb bytes.Buffer
	err := cli.Run(context.Background(), args, cli.Env{Stdout: &out, Stderr: &errb, Lookup: envconfig.MapLookuper(env), Clock: clk})
	return cliOutcome{stdout: out.String(), stderr: errb.String(), code: cli.ExitCode(err), err: err}
}

// applyWorld is a simulator with 8 artifacts in octo/api, an hour apart and
// alternately named build and logs, a database, and the environment for them.
type applyWorld struct {
	*testbed.Bed
	env        map[string]string
	archiveDir string
}

func newApplyWorld(t *testing.T) *applyWorld {
	t.Helper()
	b := testbed.New(t, testbed.Options{})
	b.Add("octo/api", 8, func(i int, a *artifact.Artifact) {
		if i%2 == 1 {
			a.Name = "logs"
		}
	})
	file := filepath.Join(t.TempDir(), "policies.yaml")
	if err := os.WriteFile(file, []byte(applyPolicyYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &applyWorld{Bed: b, archiveDir: t.TempDir()}
	w.env = map[string]string{
		"DATABASE_URL":    b.DBURL,
		"GITHUB_TOKEN":    testbed.Token,
		"GITHUB_API_URL":  b.Server.URL,
		"POLICY_FILE":     file,
		"ARCHIVE_DIR":     w.archiveDir,
		"LOG_FORMAT":      "json",
		"DELETE_INTERVAL": "1s",
	}
	return w
}

func (w *applyWorld) invoke(args ...string) cliOutcome { return invoke(w.env, w.Clock, args...) }

// review runs a dry-run through the CLI and returns its id.
func (w *applyWorld) review(t *testing.T) int64 {
	t.Helper()
	if r := w.invoke("run"); r.code != 0 {
		t.Fatalf("run: exit %d: %v\n%s%s", r.code, r.err, r.stdout, r.stderr)
	}
	runs, err := w.Store.Runs(context.Background(), 1)
	if err != nil || len(runs) != 1 || !runs[0].DryRun {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	return runs[0].ID
}

func TestApplyCommandDeletesWhatWasReviewed(t *testing.T) {
	t.Parallel()
	w := newApplyWorld(t)
	ctx := context.Background()
	id := w.review(t)
	reviewed, err := w.Store.AuditEntries(ctx, store.AuditFilter{RunID: id, Outcome: store.OutcomeDryRun})
	if err != nil {
		t.Fatal(err)
	}
	if len(reviewed) != 5 { // ages 4h to 8h
		t.Fatalf("%d reviewed decisions, want 5", len(reviewed))
	}
	// New artifacts after the review are not the review's business.
	w.Clock.Advance(3 * time.Hour)
	w.Add("octo/api", 2, nil)

	r := w.invoke("apply", "--run", strconv.FormatInt(id, 10))
	if r.code != 0 {
		t.Fatalf("apply: exit %d: %v\n%s%s", r.code, r.err, r.stdout, r.stderr)
	}
	for _, want := range []string{"Applied dry-run " + strconv.FormatInt(id, 10) + ": 5 reviewed decisions", "(apply, DELETING): succeeded", "deleted        5"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, e := range reviewed {
		if w.Sim.Exists("octo/api", e.ArtifactID) {
			t.Errorf("reviewed artifact %d was not deleted", e.ArtifactID)
		}
	}
	if n := len(w.Sim.Artifacts("octo/api")); n != 5 {
		t.Errorf("%d artifacts left, want 5 (3 young ones and 2 new ones)", n)
	}
	// The logs aged 4h, 6h and 8h were archived first.
	archives, _ := filepath.Glob(filepath.Join(w.archiveDir, "octo", "api", "*-logs.zip"))
	if len(archives) != 3 {
		t.Errorf("archives %v, want 3", archives)
	}
	if n := w.Sim.Requests()[githubsim.BlobWithAuthorization]; n != 0 {
		t.Errorf("the token went to the blob host %d times", n)
	}

	// A second apply finds nothing left to do.
	r = w.invoke("apply", "--run", strconv.FormatInt(id, 10))
	if r.code != 1 || !strings.Contains(r.err.Error(), "nothing left to apply") {
		t.Errorf("second apply: exit %d, %v", r.code, r.err)
	}
}

func TestApplyCommandReportsWhatWasNotDone(t *testing.T) {
	t.Parallel()
	w := newApplyWorld(t)
	id := w.review(t)
	entries, _ := w.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: id, Outcome: store.OutcomeDryRun, Rule: "old-builds"})
	a := w.Sim.Artifacts("octo/api")
	var changedID int64
	for _, x := range a {
		if x.ID == entries[0].ArtifactID {
			x.SizeInBytes++
			w.Sim.AddArtifact(x)
			changedID = x.ID
		}
	}
	r := w.invoke("apply", "--run", strconv.FormatInt(id, 10), "--only-rule", "old-builds")
	if r.code != 1 {
		t.Fatalf("apply: exit %d: %v\n%s", r.code, r.err, r.stdout)
	}
	for _, want := range []string{"(apply, DELETING): partial", "Not deleted (1)", "changed: changed since the review", strconv.FormatInt(changedID, 10)} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !w.Sim.Exists("octo/api", changedID) {
		t.Error("the changed artifact was deleted")
	}
	// Only builds: every log is still there.
	logs := 0
	for _, x := range w.Sim.Artifacts("octo/api") {
		if x.Name == "logs" {
			logs++
		}
	}
	if logs != 4 {
		t.Errorf("%d logs left, want all 4", logs)
	}
}

func TestApplyCommandRefusals(t *testing.T) {
	t.Parallel()
	w := newApplyWorld(t)
	id := strconv.FormatInt(w.review(t), 10)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{name: "no run", args: []string{"apply"}, code: 2, want: "needs --run ID"},
		{name: "stray argument", args: []string{"apply", "--run", id, "now"}, code: 2, want: "takes no arguments"},
		{name: "bad repository", args: []string{"apply", "--run", id, "--only-repository", "nope"}, code: 2, want: "--only-repository"},
		{name: "bad APPLY_MAX_AGE", args: []string{"apply", "--run", id}, env: map[string]string{"APPLY_MAX_AGE": "-1h"}, code: 2, want: "APPLY_MAX_AGE"},
		{name: "unknown run", args: []string{"apply", "--run", "999"}, code: 1, want: "run 999 does not exist"},
		{name: "older than APPLY_MAX_AGE", args: []string{"apply", "--run", id}, env: map[string]string{"APPLY_MAX_AGE": "30m"}, code: 1,
			want: "older than APPLY_MAX_AGE 30m"},
		{name: "nothing of that rule", args: []string{"apply", "--run", id, "--only-rule", "nope"}, code: 1, want: "no dry_run delete decisions of rule nope"},
	}
	// Time for the review to be older than 30m, not than the default 7d.
	w.Clock.Advance(time.Hour)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range w.env {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			r := invoke(env, w.Clock, tc.args...)
			if r.code != tc.code || r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("exit %d, err %v; want exit %d saying %q", r.code, r.err, tc.code, tc.want)
			}
		})
	}
	if n := len(w.Sim.Artifacts("octo/api")); n != 8 {
		t.Errorf("refused applies deleted %d artifacts", 8-n)
	}
}

func TestApplyCommandHelp(t *testing.T) {
	t.Parallel()
	r := invoke(nil, nil, "apply", "--help")
	for _, want := range []string{"Usage: retentiond apply --run ID", "Example:", "--only-rule", "--only-repository", "APPLY_MAX_AGE", "ARCHIVE_DIR"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("apply --help (exit %d) lacks %q", r.code, want)
		}
	}
}
