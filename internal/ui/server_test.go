package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/ui"
)

// dbCount runs a count query against the site's database.
func dbCount(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

var decisionRow = regexp.MustCompile(`<tr class="action-(keep|delete)">`)

func TestPagesEscapeHostileNamesAndSendHeaders(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	escapedName := `&lt;script&gt;alert(1)&lt;/script&gt;`
	escapedBranch := `&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`
	pages := []struct {
		path         string
		wantEscaped  []string
		wantContains []string
	}{
		{"/", nil, []string{"run 2", "run 1", "succeeded", "octo/api", `<svg class="chart"`}},
		{"/runs/2", []string{escapedName, escapedBranch}, []string{"By rule", "old-reports", "stale", "keep-latest"}},
		{"/runs/2?rule=stale&action=delete", []string{escapedName, escapedBranch}, []string{"matching the filter"}},
		{fmt.Sprintf("/artifacts/%d", s.HostileID), []string{escapedName, escapedBranch}, []string{"Decision history", "run 1", "run 2"}},
		{"/storage", nil, []string{"octo/api", "octo/web", "<rect"}},
	}
	for _, p := range pages {
		r := s.get(t, p.path)
		if r.code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", p.path, r.code, r.body)
			continue
		}
		for k, want := range map[string]string{
			"Content-Security-Policy": ui.ContentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Content-Type":            "text/html; charset=utf-8",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", p.path, k, got, want)
			}
		}
		for _, raw := range []string{hostileName, hostileBranch, "<script", "<img", "onerror=alert(1)>", "style="} {
			if strings.Contains(r.body, raw) {
				t.Errorf("GET %s: the page contains %q unescaped", p.path, raw)
			}
		}
		for _, want := range append(p.wantEscaped, p.wantContains...) {
			if !strings.Contains(r.body, want) {
				t.Errorf("GET %s: the page lacks %q", p.path, want)
			}
		}
	}
	if !strings.Contains(ui.ContentSecurityPolicy, "default-src 'none'") || strings.Contains(ui.ContentSecurityPolicy, "unsafe") {
		t.Errorf("CSP %q is not strict", ui.ContentSecurityPolicy)
	}
	css := s.get(t, "/static/style.css")
	if css.code != 200 || css.header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css.body, "svg.chart") {
		t.Errorf("GET /static/style.css: %d %q", css.code, css.header.Get("Content-Type"))
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	runs := dbCount(t, s.Store, `SELECT count(*) FROM runs`)
	rows := dbCount(t, s.Store, `SELECT count(*) FROM audit_log`)
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		for _, path := range []string{"/", "/runs/1", "/runs/1?rule=stale", "/artifacts/1", "/storage", "/static/style.css"} {
			r := s.do(t, method, path, nil)
			if r.code != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d, Allow %q; want 405, GET, HEAD", method, path, r.code, r.header.Get("Allow"))
			}
		}
	}
	if r := s.do(t, http.MethodHead, "/", nil); r.code != http.StatusOK || r.body != "" {
		t.Errorf("HEAD /: %d, %d bytes", r.code, len(r.body))
	}
	if got := dbCount(t, s.Store, `SELECT count(*) FROM runs`); got != runs {
		t.Errorf("runs: %d after the requests, %d before", got, runs)
	}
	if got := dbCount(t, s.Store, `SELECT count(*) FROM audit_log`); got != rows {
		t.Errorf("audit_log: %d rows after the requests, %d before", got, rows)
	}
	// The daemon's own routes are unchanged by the page at /; without
	// WEBHOOK_SECRET there is no /webhook, for any method.
	if r := s.do(t, http.MethodPost, "/webhook", nil); r.code != http.StatusNotFound {
		t.Errorf("POST /webhook without WEBHOOK_SECRET: %d, want 404", r.code)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200} {
		if r := s.get(t, path); r.code != want {
			t.Errorf("GET %s: %d, want %d", path, r.code, want)
		}
	}
}

func TestUIOff(t *testing.T) {
	t.Parallel()
	s := newSite(t, map[string]string{"UI": "false"})
	if r := s.get(t, "/"); r.code != http.StatusNotFound || strings.Contains(r.body, "retentiond") {
		t.Errorf("GET / with UI=false: %d %q", r.code, r.body)
	}
	if r := s.get(t, "/healthz"); r.code != 200 {
		t.Errorf("GET /healthz with UI=false: %d", r.code)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	for path, want := range map[string]int{
		"/runs/1?action=zap":        400,
		"/runs/1?outcome=gone":      400,
		"/runs/1?after=-4":          400,
		"/runs/1?after=x":           400,
		"/runs/1?repository=nope":   400,
		"/?before=yesterday":        400,
		"/runs/abc":                 404,
		"/runs/0":                   404,
		"/runs/999":                 404,
		"/artifacts/987654321":      404,
		"/runs/":                    404,
		"/runs/1/more":              404,
		"/static/other.css":         404,
		"/runs/1?rule=no-such-rule": 200,
	} {
		r := s.get(t, path)
		if r.code != want {
			t.Errorf("GET %s: %d, want %d\n%s", path, r.code, want, r.body)
		}
		if r.header.Get("Content-Security-Policy") != ui.ContentSecurityPolicy {
			t.Errorf("GET %s: no CSP on the %d", path, r.code)
		}
	}
	// A parameter is shown back escaped.
	if r := s.get(t, "/runs/1?action=%3Cscript%3E"); strings.Contains(r.body, "<script>") {
		t.Errorf("a bad parameter is echoed unescaped:\n%s", r.body)
	}
}

// Following "next page" visits every decision that matches the filter once,
// in order, whatever the page size.
func TestPagination(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	h := ui.Handler(ui.Options{Store: s.Store, Clock: s.Clock, PageSize: 7})
	for _, filter := range []struct {
		query string
		where string
	}{
		{"", "true"},
		{"?action=delete", "action = 'delete'"},
		{"?repository=octo%2Fapi&rule=stale", "repository = 'octo/api' AND rule = 'stale'"},
		{"?outcome=kept", "outcome = 'kept'"},
	} {
		want := dbCount(t, s.Store, `SELECT count(*) FROM decisions WHERE run_id = 2 AND `+filter.where)
		if want == 0 {
			t.Fatalf("filter %q matches nothing: the fixture changed", filter.query)
		}
		next, seen, pages := "/runs/2"+filter.query, 0, 0
		for next != "" {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, next, nil))
			if rec.Code != 200 {
				t.Fatalf("GET %s: %d", next, rec.Code)
			}
			body := rec.Body.String()
			n := len(decisionRow.FindAllString(body, -1))
			if n == 0 || n > 7 {
				t.Fatalf("GET %s: %d rows on a page of 7", next, n)
			}
			seen += n
			pages++
			next = ""
			if m := regexp.MustCompile(`<a rel="next" href="([^"]+)">next page`).FindStringSubmatch(body); m != nil {
				next = strings.ReplaceAll(m[1], "&amp;", "&")
			}
		}
		if seen != want || pages != (want+6)/7 {
			t.Errorf("filter %q: %d decisions on %d pages, want %d on %d", filter.query, seen, pages, want, (want+6)/7)
		}
	}
}

func TestAccessControl(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "htpasswd")
	token := "tok-0123456789abcdef-secret"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(users, []byte("# reviewers\nalice:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSite(t, map[string]string{"UI_BASIC_AUTH_FILE": users, "UI_TOKEN_FILE": tokenFile})
	basic := func(u, p string) http.Header {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.SetBasicAuth(u, p)
		return r.Header
	}
	for _, c := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"nothing", nil, 401},
		{"right password", basic("alice", "correct horse"), 200},
		{"wrong password", basic("alice", "wrong horse"), 401},
		{"unknown user", basic("mallory", "correct horse"), 401},
		{"right token", http.Header{"Authorization": {"Bearer " + token}}, 200},
		{"token prefix", http.Header{"Authorization": {"Bearer " + token[:10]}}, 401},
		{"wrong token", http.Header{"Authorization": {"Bearer tok-0123456789abcdef-secreT"}}, 401},
		{"token as password", basic("alice", token), 401},
	} {
		for _, path := range []string{"/", "/runs/1", "/static/style.css", "/artifacts/x"} {
			r := s.do(t, http.MethodGet, path, c.header)
			want := c.want
			if want == 200 && path == "/artifacts/x" {
				want = 404
			}
			if r.code != want {
				t.Errorf("%s: GET %s: %d, want %d", c.name, path, r.code, want)
			}
			if r.code == 401 {
				if got := r.header.Values("WWW-Authenticate"); len(got) != 2 || !strings.HasPrefix(got[0], "Basic ") {
					t.Errorf("%s: WWW-Authenticate %q", c.name, got)
				}
				if r.header.Get("Content-Security-Policy") == "" {
					t.Errorf("%s: the 401 has no CSP", c.name)
				}
			}
		}
	}
	// Probes and the daemon's routes need no credentials.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := s.get(t, path); r.code != 200 {
			t.Errorf("GET %s without credentials: %d", path, r.code)
		}
	}
	logs := s.Logs.String()
	for _, secret := range []string{"correct horse", "wrong horse", token, string(hash), "mallory"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
	if !strings.Contains(logs, "review page: access refused") {
		t.Errorf("refusals are not logged")
	}
}

// The runs page shows each run's savings in GitHub's billing unit, as the
// run recorded them.
func TestRunsPageShowsSavings(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	r := s.get(t, "/")
	for _, id := range []int64{1, 2} {
		run, err := s.Store.Run(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := s.Store.RunSavings(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%.1f GB-h", rs.Saved.GBHours)
		if run.DryRun {
			want = fmt.Sprintf("would save %.1f GB-h", rs.WouldSave.GBHours)
		}
		if !strings.Contains(r.body, want) {
			t.Errorf("run %d: the runs page lacks %q", id, want)
		}
	}
}
