package github

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	type settings struct {
		Base, UserAgent  string
		MaxWait, Timeout time.Duration
		Retries, Slots   int
	}
	got := settings{c.base.String(), c.userAgent, c.retry.maxWait, c.retry.timeout, c.retry.maxRetries, cap(c.limiter.slots)}
	want := settings{"https://api.github.com/", "retentiond", 15 * time.Minute, time.Minute, 3, 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"relative base URL":    {BaseURL: "api.github.com"},
		"ftp base URL":         {BaseURL: "ftp://ghe.example.com/api/v3"},
		"credentials in URL":   {BaseURL: "https://user:pass@ghe.example.com/api/v3"},
		"query in URL":         {BaseURL: "https://ghe.example.com/api/v3?x=1"},
		"negative max wait":    {MaxWait: -time.Second},
		"negative concurrency": {Concurrency: -1},
		"too many retries":     {MaxRetries: 100},
		"negative retries":     {MaxRetries: -1},
		"token with a newline": {Token: "abc\nX-Evil: 1"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(cfg); err == nil {
				t.Errorf("New(%s) succeeded, want an error", cfg)
			} else if strings.Contains(err.Error(), "pass") {
				t.Errorf("error %q shows the URL's password", err)
			}
		})
	}
}

// TestRequestShape checks the URL and headers of an API request, against a
// GitHub Enterprise-style base path that must be kept as given.
func TestRequestShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		basePath string
		token    string
		wantPath string
		wantAuth string
	}{
		{name: "github.com", basePath: "", token: testToken, wantPath: "/repos/o/r/actions/artifacts/3", wantAuth: "Bearer " + testToken},
		{name: "enterprise server", basePath: "/api/v3", token: testToken, wantPath: "/api/v3/repos/o/r/actions/artifacts/3", wantAuth: "Bearer " + testToken},
		{name: "enterprise with trailing slash", basePath: "/api/v3/", token: testToken, wantPath: "/api/v3/repos/o/r/actions/artifacts/3", wantAuth: "Bearer " + testToken},
		{name: "unauthenticated", basePath: "", token: "", wantPath: "/repos/o/r/actions/artifacts/3", wantAuth: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newScript(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, ghArtifact(3)) })
			h := newHarness(t, s, func(c *Config) {
				c.BaseURL += tc.basePath
				c.Token = tc.token
				c.UserAgent = "retentiond-test/1"
			})
			if _, err := h.c.GetArtifact(t.Context(), "o/r", 3); err != nil {
				t.Fatal(err)
			}
			r := s.requests()[0]
			got := map[string]string{
				"path":          r.URL.Path,
				"Accept":        r.Header.Get("Accept"),
				"API version":   r.Header.Get("X-GitHub-Api-Version"),
				"User-Agent":    r.Header.Get("User-Agent"),
				"Authorization": r.Header.Get("Authorization"),
			}
			want := map[string]string{
				"path":          tc.wantPath,
				"Accept":        "application/vnd.github+json",
				"API version":   "2022-11-28",
				"User-Agent":    "retentiond-test/1",
				"Authorization": tc.wantAuth,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRedirects: a renamed repository's 301 on the API host is followed; a
// redirect to another host is not, so the token stays home.
func TestRedirects(t *testing.T) {
	t.Parallel()
	t.Run("same host", func(t *testing.T) {
		t.Parallel()
		s := newScript(
			func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/repositories/42/actions/artifacts?per_page=100", http.StatusMovedPermanently)
			},
			okList(ghArtifact(1)),
		)
		h := newHarness(t, s)
		var got collect
		stats, err := h.c.ListArtifacts(t.Context(), "old/name", got.fn)
		if err != nil {
			t.Fatal(err)
		}
		reqs := s.requests()
		if len(reqs) != 2 || reqs[1].URL.Path != "/repositories/42/actions/artifacts" || reqs[1].Header.Get("Authorization") == "" {
			t.Errorf("requests: %v", reqs)
		}
		if stats.Requests != 2 || len(got.ids) != 1 {
			t.Errorf("stats %+v, ids %v", stats, got.ids)
		}
	})
	t.Run("other host", func(t *testing.T) {
		t.Parallel()
		elsewhere := newScript(okList())
		other := newHarness(t, elsewhere)
		h := newHarness(t, newScript(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.srv.URL+"/steal", http.StatusTemporaryRedirect)
		}))
		_, err := h.c.GetArtifact(t.Context(), "o/r", 1)
		if err == nil || !strings.Contains(err.Error(), "refusing redirect to another host") {
			t.Errorf("err = %v, want a refused redirect", err)
		}
		if elsewhere.count() != 0 {
			t.Errorf("other host got %d requests", elsewhere.count())
		}
	})
	t.Run("loop", func(t *testing.T) {
		t.Parallel()
		s := newScript(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusMovedPermanently)
		})
		h := newHarness(t, s)
		_, err := h.c.GetArtifact(t.Context(), "o/r", 1)
		if err == nil || !strings.Contains(err.Error(), "more than 5 redirects") || s.count() != 6 {
			t.Errorf("err = %v after %d requests", err, s.count())
		}
	})
}

func TestConfigHidesToken(t *testing.T) {
	t.Parallel()
	cfg := Config{BaseURL: "https://api.github.com", Token: testToken, Concurrency: 2}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", slog.Any("github", cfg))
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logs.String()} {
		if strings.Contains(s, testToken) {
			t.Errorf("token printed: %s", s)
		}
		if !strings.Contains(s, "REDACTED") {
			t.Errorf("no REDACTED marker: %s", s)
		}
	}
}
