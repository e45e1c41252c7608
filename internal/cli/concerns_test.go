package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
)

// helpVars returns the variables a command's help lists.
func helpVars(t *testing.T, cmd string) map[string]bool {
	t.Helper()
	r := runWith(t, nil, nil, "help", cmd)
	if r.code != 0 {
		t.Fatalf("help %s: exit %d", cmd, r.code)
	}
	_, env, _ := strings.Cut(r.stdout, "\nEnvironment:\n")
	vars := map[string]bool{}
	for line := range strings.Lines(env) {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
			name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			vars[name] = true
		}
	}
	return vars
}

// TestHelpListsWhatEachCommandReads: the list comes from the same concerns
// the command loads, so it cannot drift from what the command reads.
func TestHelpListsWhatEachCommandReads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cmd       string
		want, not []string
	}{
		{"run", []string{"DATABASE_URL", "DATABASE_RETRY_FOR", "GITHUB_TOKEN", "POLICY_FILE", "DRY_RUN", "MAX_DELETIONS_PER_RUN", "MAX_DELETIONS_PER_DAY", "ARCHIVE_DIR", "ARCHIVE_MAX_BYTES", "SCAN_CONCURRENCY", "LOG_LEVEL"},
			[]string{"SCHEDULE", "HTTP_ADDR", "WEBHOOK_SECRET", "APPLY_MAX_AGE"}},
		{"serve", []string{"SCHEDULE", "RUN_ON_START", "HTTP_ADDR", "WEBHOOK_SECRET", "ARCHIVE_DIR", "ARCHIVE_MAX_BYTES", "MAX_DELETIONS_PER_DAY"}, []string{"APPLY_MAX_AGE"}},
		{"check", []string{"DATABASE_URL", "GITHUB_TOKEN", "GITHUB_API_URL", "POLICY_FILE", "DRY_RUN", "ARCHIVE_DIR", "HTTP_ADDR", "WEBHOOK_SECRET"},
			[]string{"SCHEDULE", "RUN_ON_START", "APPLY_MAX_AGE"}},
		{"apply", []string{"APPLY_MAX_AGE", "SCAN_CONCURRENCY", "ARCHIVE_DIR", "MAX_DELETIONS_PER_DAY"}, []string{"SCHEDULE", "HTTP_ADDR"}},
		{"audit", []string{"DATABASE_URL", "LOG_LEVEL"}, []string{"GITHUB_TOKEN", "POLICY_FILE", "SCHEDULE", "DRY_RUN"}},
		{"plan", []string{"DATABASE_URL", "POLICY_FILE", "MAX_DELETIONS_PER_RUN", "MAX_DELETIONS_PER_DAY"}, []string{"GITHUB_TOKEN", "GITHUB_API_URL", "SCHEDULE"}},
		{"download", []string{"GITHUB_TOKEN", "GITHUB_API_URL"}, []string{"DATABASE_URL", "POLICY_FILE"}},
	}
	for _, tt := range tests {
		got := helpVars(t, tt.cmd)
		for _, v := range tt.want {
			if !got[v] {
				t.Errorf("help %s does not list %s", tt.cmd, v)
			}
		}
		for _, v := range tt.not {
			if got[v] {
				t.Errorf("help %s lists %s, which it does not read", tt.cmd, v)
			}
		}
	}
	if got := helpVars(t, "version"); len(got) != 0 {
		t.Errorf("help version lists %v", got)
	}
}

// TestCommandsReadOnlyTheirConcerns: a bad setting a command does not use
// cannot stop it.
func TestCommandsReadOnlyTheirConcerns(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if r := w.run(t, "run"); r.code != 0 {
		t.Fatalf("run: exit %d %v", r.code, r.err)
	}
	broken := w.with("SCHEDULE", "every hour", "GITHUB_TOKEN", "", "GITHUB_API_URL", "nope", "HTTP_ADDR", "8080", "APPLY_MAX_AGE", "soon")
	for _, args := range [][]string{{"audit"}, {"audit", "--run", "1"}, {"plan"}} {
		if r := runWith(t, broken, w.Clock, args...); r.code != 0 {
			t.Errorf("%v with settings it does not read broken: exit %d, %v", args, r.code, r.err)
		}
	}
	if r := runWith(t, broken, w.Clock, "serve"); r.code != 2 || !strings.Contains(r.err.Error(), "SCHEDULE") || !strings.Contains(r.err.Error(), "HTTP_ADDR") {
		t.Errorf("serve with a bad SCHEDULE and HTTP_ADDR: exit %d, %v", r.code, r.err)
	}
}

// TestReadOnlyCommandsWorkWithAReadOnlyRole: audit and plan never change
// the schema, so a reviewer's role with SELECT alone is enough; on a schema
// that is behind they say to run migrate rather than migrate it.
func TestReadOnlyCommandsWorkWithAReadOnlyRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	if r := w.run(t, "run"); r.code != 0 {
		t.Fatalf("run: exit %d %v", r.code, r.err)
	}
	role := fmt.Sprintf("retentiond_reader_%d", time.Now().UnixNano())
	admin, err := pgx.Connect(ctx, w.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := admin.Config().Database
	// The GRANTs the README gives for a reviewer.
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT CONNECT ON DATABASE " + db + " TO " + role,
		"GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		// DROP OWNED revokes the role's privileges, in this database and
		// on it, so that the role can go.
		for _, step := range []struct{ url, sql string }{
			{w.DBURL, "DROP OWNED BY " + role},
			{pgtest.AdminURL(), "DROP ROLE IF EXISTS " + role},
		} {
			c, err := pgx.Connect(ctx, step.url)
			if err != nil {
				t.Error(err)
				return
			}
			_, err = c.Exec(ctx, step.sql)
			c.Close(ctx)
			if err != nil {
				t.Errorf("%s: %v", step.sql, err)
			}
		}
	})
	readerURL := strings.Replace(w.DBURL, "postgres://postgres@", "postgres://"+role+"@", 1)
	reader := w.with("DATABASE_URL", readerURL)
	for _, args := range [][]string{{"audit"}, {"audit", "--run", "1", "--format", "csv"}, {"plan"}} {
		if r := runWith(t, reader, w.Clock, args...); r.code != 0 {
			t.Errorf("%v as a read-only role: exit %d, %v\n%s", args, r.code, r.err, r.stderr)
		}
	}
	// A command that writes is refused by the role, not by retentiond.
	if r := runWith(t, reader, w.Clock, "run"); r.code == 0 {
		t.Error("run succeeded as a read-only role")
	}

	// A database behind this binary: audit says what to do and changes nothing.
	empty := pgtest.NewEmptyDatabase(t)
	r := runWith(t, w.with("DATABASE_URL", empty), w.Clock, "audit")
	if r.code != 1 || !strings.Contains(r.err.Error(), "run 'retentiond migrate'") {
		t.Errorf("audit on an empty database: exit %d, %v", r.code, r.err)
	}
	st, err := store.Open(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("audit created %d tables (%v)", n, err)
	}
}
