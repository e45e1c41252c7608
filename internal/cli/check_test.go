package cli_test

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/migrations"
)

// checkLines runs check and returns its exit code and its lines by check
// name ("✓ database ..." is under "database"; repeated names get #2, #3).
func checkLines(t *testing.T, env map[string]string, clk interface {
	Now() time.Time
	Sleep(context.Context, time.Duration) error
}, args ...string) (int, map[string]string, string) {
	t.Helper()
	r := runWith(t, env, clk, append([]string{"check"}, args...)...)
	lines := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "✓" && f[0] != "✗") {
			continue
		}
		name := f[1]
		for i := 2; lines[name] != ""; i++ {
			name = fmt.Sprintf("%s#%d", f[1], i)
		}
		lines[name] = line
	}
	return r.code, lines, r.stdout
}

func with(env map[string]string, kv ...string) map[string]string {
	out := maps.Clone(env)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// Every check passes against the simulator and a migrated database: exit 0,
// one ✓ line per check.
func TestCheckAllPass(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	code, lines, out := checkLines(t, with(w.env, "WEBHOOK_SECRET", "s3cret"), w.Clock, "--webhook")
	if code != 0 {
		t.Fatalf("check: exit %d\n%s", code, out)
	}
	for name, want := range map[string]string{
		"database":     "answers",
		"schema":       "at migration " + latestMigration(t) + ", this binary's",
		"privileges":   "read: enough for audit, plan",
		"privileges#2": "write: enough for run, serve, apply, scan",
		"policy":       "2 rules, 2 repositories",
		"token":        "accepted by " + w.Server.URL,
		"rate":         "requests left, resets",
		"octo/api":     "lists 10 artifacts; can delete (write access)",
		"octo/web":     "lists 10 artifacts; can delete (write access)",
		"archive":      "no rule archives",
		"webhook":      "WEBHOOK_SECRET is set",
	} {
		if !strings.HasPrefix(lines[name], "✓") || !strings.Contains(lines[name], want) {
			t.Errorf("%s: %q, want ✓ and %q\n%s", name, lines[name], want, out)
		}
	}
	if !strings.Contains(out, "All 11 checks passed.") {
		t.Errorf("no closing line:\n%s", out)
	}
	if strings.Contains(out, testbed.Token) {
		t.Error("check printed the token")
	}
	// The token check is free: GET /rate_limit spends no budget.
	if n := w.Sim.Requests()["GET "+githubsim.RouteRateLimit]; n != 1 {
		t.Errorf("%d GET /rate_limit, want 1", n)
	}
}

// Each ✗, with the fix it names; any ✗ makes the exit status 1.
func TestCheckFailures(t *testing.T) {
	t.Parallel()
	archivePolicy := `version: 1
repositories: [octo/api]
rules:
  - rule: big
    action: delete
    size_greater_than: 1KB
    archive: true
`
	badPolicy := "version: 1\nrepositories: [octo/api]\nrules:\n  - rule: x\n    action: destroy\n"
	tests := []struct {
		name  string
		sim   githubsim.Options
		setup func(t *testing.T, w *world) map[string]string
		args  []string
		check string // the line that fails
		want  []string
		also  []string // other checks that fail with it
	}{
		{name: "no database", setup: func(_ *testing.T, w *world) map[string]string { return with(w.env, "DATABASE_URL", "") },
			check: "database", want: []string{"DATABASE_URL is not set", "set it, e.g. postgres://"}},
		{name: "database down", setup: func(_ *testing.T, w *world) map[string]string {
			return with(w.env, "DATABASE_URL", "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
		}, check: "database", want: []string{"check DATABASE_URL's host, port"}},
		{name: "bad token", setup: func(_ *testing.T, w *world) map[string]string { return with(w.env, "GITHUB_TOKEN", "ghp_wrong") },
			check: "token", want: []string{"rejects the token (401 Bad credentials)", "create a new one"}},
		{name: "API unreachable", setup: func(_ *testing.T, w *world) map[string]string {
			return with(w.env, "GITHUB_API_URL", "http://127.0.0.1:1")
		}, check: "token", want: []string{"did not answer", "check GITHUB_API_URL"}},
		{name: "no token", setup: func(_ *testing.T, w *world) map[string]string { return with(w.env, "GITHUB_TOKEN", "") },
			check: "token", want: []string{"GITHUB_TOKEN is not set", "GITHUB_TOKEN_FILE"}},
		{name: "budget spent", setup: func(_ *testing.T, w *world) map[string]string {
			w.Sim.SetRateLimit(0, w.Clock.Now().Add(20*time.Minute))
			return w.env
		}, check: "rate", want: []string{"0 of 5000 requests left until 12:20 UTC", "wait for the reset"}},
		{name: "unknown repository", setup: func(t *testing.T, w *world) map[string]string {
			return with(w.env, "POLICY_FILE", writePolicy(t, strings.Replace(policyYAML, "octo/web", "octo/gone", 1)))
		}, check: "octo/gone", want: []string{"not found, or the token cannot see it", "give the token access"}},
		{name: "read-only token, deleting", sim: githubsim.Options{ReadOnly: true},
			setup: func(_ *testing.T, w *world) map[string]string { return with(w.env, "DRY_RUN", "false") },
			check: "octo/api", want: []string{"lists 10 artifacts; read-only, and DRY_RUN=false", "grant write access"}, also: []string{"octo/web"}},
		{name: "invalid policy", setup: func(t *testing.T, w *world) map[string]string {
			return with(w.env, "POLICY_FILE", writePolicy(t, badPolicy))
		}, check: "policy", want: []string{"destroy", "retentiond policy check FILE"}},
		{name: "archive rule without ARCHIVE_DIR", setup: func(t *testing.T, w *world) map[string]string {
			return with(w.env, "POLICY_FILE", writePolicy(t, archivePolicy), "DRY_RUN", "false")
		}, check: "archive", want: []string{"ARCHIVE_DIR is unset and rule big archives", "set ARCHIVE_DIR"}},
		{name: "ARCHIVE_DIR not writable", setup: func(t *testing.T, w *world) map[string]string {
			file := filepath.Join(t.TempDir(), "a-file")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return with(w.env, "POLICY_FILE", writePolicy(t, archivePolicy), "DRY_RUN", "false", "ARCHIVE_DIR", filepath.Join(file, "sub"))
		}, check: "archive", want: []string{"is not writable", "mount a volume"}},
		{name: "webhook expected", setup: func(_ *testing.T, w *world) map[string]string { return w.env },
			args: []string{"--webhook"}, check: "webhook", want: []string{"WEBHOOK_SECRET is not set", "set WEBHOOK_SECRET"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorldWith(t, tc.sim)
			code, lines, out := checkLines(t, tc.setup(t, w), w.Clock, tc.args...)
			if code != 1 {
				t.Errorf("exit %d, want 1\n%s", code, out)
			}
			line := lines[tc.check]
			if !strings.HasPrefix(line, "✗") {
				t.Fatalf("%s: %q, want ✗\n%s", tc.check, line, out)
			}
			for _, want := range tc.want {
				if !strings.Contains(line, want) {
					t.Errorf("%s: %q lacks %q", tc.check, line, want)
				}
			}
			for name, l := range lines {
				if name != tc.check && strings.HasPrefix(l, "✗") && !slices.Contains(tc.also, name) {
					t.Errorf("another check failed too: %s", l)
				}
			}
		})
	}
}

// What only warns: a read-only token and a missing ARCHIVE_DIR are enough
// for a dry-run, and check says so with a ✓.
func TestCheckDryRunNeedsLess(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, githubsim.Options{ReadOnly: true})
	pol := writePolicy(t, "version: 1\nrepositories: [octo/api]\nrules:\n  - rule: big\n    action: delete\n    size_greater_than: 1KB\n    archive: true\n")
	code, lines, out := checkLines(t, with(w.env, "POLICY_FILE", pol), w.Clock)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for name, want := range map[string]string{
		"octo/api": "read-only: enough for DRY_RUN=true",
		"archive":  "ARCHIVE_DIR is unset: enough for DRY_RUN=true",
	} {
		if !strings.HasPrefix(lines[name], "✓") || !strings.Contains(lines[name], want) {
			t.Errorf("%s: %q, want ✓ and %q", name, lines[name], want)
		}
	}
}

// The database checks against real roles: a reviewer role that may only
// SELECT passes the read check and fails the write one, naming what is
// missing; an empty database that the role may not CREATE in fails the
// schema check, while one it may create in passes (run and serve migrate).
func TestCheckDatabasePrivileges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	role := fmt.Sprintf("retentiond_check_%d", time.Now().UnixNano())
	admin := func(dbURL, sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	admin(pgtest.AdminURL(), "CREATE ROLE "+role+" LOGIN")
	empty := pgtest.NewEmptyDatabase(t)
	t.Cleanup(func() {
		admin(w.DBURL, "DROP OWNED BY "+role)
		admin(empty, "DROP OWNED BY "+role)
		admin(pgtest.AdminURL(), "DROP ROLE "+role)
	})
	admin(w.DBURL, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO "+role)
	asRole := func(dbURL string) string {
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User(role)
		return u.String()
	}

	code, lines, out := checkLines(t, with(w.env, "DATABASE_URL", asRole(w.DBURL)), w.Clock)
	if code != 1 || !strings.HasPrefix(lines["privileges"], "✓") || !strings.Contains(lines["privileges"], "read: enough for audit, plan") {
		t.Errorf("reviewer role: exit %d, read check %q\n%s", code, lines["privileges"], out)
	}
	if l := lines["privileges#2"]; !strings.HasPrefix(l, "✗") || !strings.Contains(l, "write: run, serve, apply, scan need INSERT on ") || !strings.Contains(l, "GRANT SELECT, INSERT, UPDATE") {
		t.Errorf("reviewer role: write check %q", l)
	}

	admin(empty, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
	_, lines, out = checkLines(t, with(w.env, "DATABASE_URL", asRole(empty)), w.Clock)
	if l := lines["schema"]; !strings.HasPrefix(l, "✗") || !strings.Contains(l, fmt.Sprintf("0 of %d migrations applied, and this role may not CREATE", migrationCount(t))) || !strings.Contains(l, "retentiond migrate") {
		t.Errorf("empty database, no CREATE: schema %q\n%s", l, out)
	}
	_, lines, out = checkLines(t, with(w.env, "DATABASE_URL", empty), w.Clock)
	if l := lines["schema"]; !strings.HasPrefix(l, "✓") || !strings.Contains(l, "run, serve and migrate bring it to "+latestMigration(t)) {
		t.Errorf("empty database, owner: schema %q\n%s", l, out)
	}
}

// check --liveness asks HTTP_ADDR for /healthz: 0 when it answers 200, 1
// when nothing listens or it answers otherwise.
func TestCheckLiveness(t *testing.T) {
	t.Parallel()
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	defer healthy.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer sick.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	port := healthy.Listener.Addr().String()[strings.LastIndex(healthy.Listener.Addr().String(), ":"):]
	for _, c := range []struct {
		addr string
		want int
	}{
		{strings.TrimPrefix(healthy.URL, "http://"), 0},
		{port, 0}, // ":PORT", as HTTP_ADDR usually is: loopback is asked
		{strings.TrimPrefix(sick.URL, "http://"), 1},
		{strings.TrimPrefix(closed.URL, "http://"), 1},
	} {
		// Nothing but HTTP_ADDR is needed: no database, token or policy.
		if r := runWith(t, map[string]string{"HTTP_ADDR": c.addr}, nil, "check", "--liveness"); r.code != c.want {
			t.Errorf("HTTP_ADDR=%s: exit %d, want %d: %v", c.addr, r.code, c.want, r.err)
		}
	}
}

func writePolicy(t *testing.T, src string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "policies.yaml")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// newWorldWith is newWorld over a simulator configured by opts.
func newWorldWith(t *testing.T, opts githubsim.Options) *world {
	t.Helper()
	b := testbed.New(t, testbed.Options{Sim: opts})
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		b.Add(repo, 10, nil)
	}
	return &world{Bed: b, env: map[string]string{
		"DATABASE_URL":    b.DBURL,
		"GITHUB_TOKEN":    testbed.Token,
		"GITHUB_API_URL":  b.Server.URL,
		"POLICY_FILE":     writePolicy(t, policyYAML),
		"LOG_FORMAT":      "json",
		"DELETE_INTERVAL": "0s",
	}}
}

// migrationCount is the number of embedded migrations.
func migrationCount(t *testing.T) int {
	t.Helper()
	entries, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// latestMigration is the version of the newest embedded migration, "0004".
func latestMigration(t *testing.T) string {
	t.Helper()
	entries, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(entries) == 0 {
		t.Fatalf("embedded migrations: %v %v", entries, err)
	}
	slices.Sort(entries)
	return entries[len(entries)-1][:4]
}

// With repository patterns, check lists each pattern's owner and checks one
// repository the patterns select; a failing listing is a ✗ with the fix.
func TestCheckListsPatternOwners(t *testing.T) {
	t.Parallel()
	w := patternWorld(t)
	code, lines, out := checkLines(t, w.env, w.Clock)
	if l := lines["octo/*"]; code != 0 || !strings.HasPrefix(l, "✓") || !strings.Contains(l, "lists 4 repositories; the patterns select 3 (1 of them archived)") {
		t.Errorf("exit %d, owner line %q\n%s", code, l, out)
	}
	w.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteOrgRepos, Status: http.StatusForbidden, Times: 1})
	code, lines, out = checkLines(t, w.env, w.Clock)
	if l := lines["octo/*"]; code != 1 || !strings.HasPrefix(l, "✗") || !strings.Contains(l, "listing its repositories failed") {
		t.Errorf("with a failing listing: exit %d, owner line %q\n%s", code, l, out)
	}
}
