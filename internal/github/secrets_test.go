package github

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
)

// TestTokenNeverLeaks runs every call against a hostile server that fails in
// every way it can while echoing the Authorization header it received into
// messages, links and redirect targets, and checks that no error text and no
// log line contains the token.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const token = "ghp_LEAKCANARY_9f8e7d6c5b4a39281706"
	var sawToken atomic.Bool

	blob := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte("short " + r.URL.RawQuery))
	}))
	elsewhere := blob.srv.URL

	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if strings.Contains(auth, token) {
			sawToken.Store(true)
		}
		secret := strings.TrimPrefix(auth, "Bearer ")
		echo := func(status int) {
			rate(w, 5000, 10, t0.Add(time.Hour))
			writeJSON(w, status, map[string]string{"message": "echo " + auth, "documentation_url": "https://docs.github.com/" + secret})
		}
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if len(parts) < 3 {
			echo(http.StatusNotFound)
			return
		}
		switch name := parts[2]; name {
		case "unauthorized":
			echo(http.StatusUnauthorized)
		case "missing":
			echo(http.StatusNotFound)
		case "forbidden":
			echo(http.StatusForbidden)
		case "expired":
			echo(http.StatusGone)
		case "flaky":
			echo(http.StatusInternalServerError)
		case "secondary":
			w.Header().Set("Retry-After", "1")
			rate(w, 5000, 10, t0.Add(time.Hour))
			writeJSON(w, http.StatusForbidden, map[string]string{
				"message":           "You have exceeded a secondary rate limit " + auth,
				"documentation_url": "https://docs.github.com/rest#about-secondary-rate-limits",
			})
		case "primary":
			rate(w, 5000, 0, t0.Add(3*time.Hour))
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "API rate limit exceeded " + auth})
		case "garbled":
			_, _ = w.Write([]byte(`{"total_count": 1, "artifacts": [{"name": "` + auth))
		case "abort":
			abort(w, r)
		case "leaky-link":
			w.Header().Set("ETag", `W/"`+secret+`"`)
			w.Header().Set("Link", fmt.Sprintf(`<%s/%s/page?token=%s>; rel="next"`, elsewhere, secret, secret))
			writeJSON(w, http.StatusOK, map[string]any{"total_count": 0, "artifacts": []any{}})
		case "path-link":
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/repos/o/flaky/%s>; rel="next"`, r.Host, secret))
			writeJSON(w, http.StatusOK, map[string]any{"total_count": 0, "artifacts": []any{}})
		case "bad-link":
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/%%zz%s>; rel="next"`, r.Host, secret))
			writeJSON(w, http.StatusOK, map[string]any{"total_count": 0, "artifacts": []any{}})
		case "redirect-away":
			http.Redirect(w, r, elsewhere+"/"+secret+"?t="+secret, http.StatusTemporaryRedirect)
		case "redirect-loop":
			http.Redirect(w, r, "/repos/o/redirect-loop/"+secret, http.StatusMovedPermanently)
		case "download":
			http.Redirect(w, r, elsewhere+"/"+secret+".zip?sig="+secret, http.StatusFound)
		case "bad-location":
			w.Header().Set("Location", "http://[::1%"+secret)
			w.WriteHeader(http.StatusFound)
		default:
			echo(http.StatusNotFound)
		}
	}), func(c *Config) { c.Token = token; c.MaxWait = time.Hour })

	repos := []string{"unauthorized", "missing", "forbidden", "expired", "flaky", "secondary", "primary", "garbled",
		"abort", "leaky-link", "path-link", "bad-link", "redirect-away", "redirect-loop", "download", "bad-location"}
	var errs []error
	ctx := t.Context()
	noop := func([]artifact.Artifact) error { return nil }
	for _, name := range repos {
		repo := artifact.Repository("o/" + name)
		_, err := h.c.ListArtifacts(ctx, repo, noop)
		errs = append(errs, err)
		_, err = h.c.ListRunArtifacts(ctx, repo, 1, noop)
		errs = append(errs, err)
		_, err = h.c.GetArtifact(ctx, repo, 1)
		errs = append(errs, err)
		errs = append(errs, h.c.DeleteArtifact(ctx, repo, 1))
		_, err = h.c.DownloadArtifact(ctx, repo, 1, &bytes.Buffer{})
		errs = append(errs, err)
		p, err := h.c.ListArtifactsPage(ctx, repo, 2, `W/"`+token+`"`)
		errs = append(errs, err)
		if strings.Contains(fmt.Sprintf("%+v", p), token) {
			t.Errorf("page of %s holds the token: %+v", repo, p)
		}
	}

	if !sawToken.Load() {
		t.Fatal("the server never received the token, so the test proves nothing")
	}
	failures := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		failures++
		if strings.Contains(err.Error(), token) || strings.Contains(fmt.Sprintf("%+v", err), token) {
			t.Errorf("error contains the token: %v", err)
		}
	}
	if failures < len(repos)*4 {
		t.Errorf("only %d of %d calls failed; the hostile server is not hostile enough", failures, len(errs))
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "waiting before retrying") {
		t.Errorf("no waits were logged, so the log check proves nothing:\n%s", logs)
	}
	if strings.Contains(logs, token) {
		t.Errorf("logs contain the token:\n%s", logs)
	}
	if !strings.Contains(logs+fmt.Sprint(errs), "REDACTED") {
		t.Error("nothing was redacted, so the echo never reached an error or a log")
	}
}

// TestAppSecretsNeverLeak is TestTokenNeverLeaks for GitHub App
// authentication: the server echoes whatever Authorization it receives (the
// JWTs and the installation tokens) into error messages, retried failures
// and links, and no error, log line, budget name or printed configuration
// may hold a JWT, an installation token or the private key.
func TestAppSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		seen  []string
		fails = map[string]int{}
	)
	hostile := func(sim http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			secret := strings.TrimPrefix(auth, "Bearer ")
			mu.Lock()
			seen = append(seen, secret)
			fails[r.URL.Path]++
			n := fails[r.URL.Path]
			mu.Unlock()
			echo := func(status int) {
				rate(w, 5000, 10, t0.Add(time.Hour))
				writeJSON(w, status, map[string]string{"message": "echo " + auth, "documentation_url": "https://docs.github.com/" + secret})
			}
			switch {
			case strings.HasSuffix(r.URL.Path, "/access_tokens") && n == 1:
				echo(http.StatusBadGateway) // the token request is retried, and logged
			case strings.Contains(r.URL.Path, "/echo-missing/"):
				echo(http.StatusNotFound)
			case strings.Contains(r.URL.Path, "/echo-flaky/"):
				echo(http.StatusInternalServerError)
			case strings.Contains(r.URL.Path, "/echo-unauthorized/"):
				echo(http.StatusUnauthorized)
			case strings.Contains(r.URL.Path, "/echo-link/"):
				w.Header().Set("Link", fmt.Sprintf(`<http://%s/%%zz%s>; rel="next"`, r.Host, secret))
				writeJSON(w, http.StatusOK, map[string]any{"total_count": 1, "artifacts": []any{}})
			default:
				sim.ServeHTTP(w, r)
			}
		})
	}
	f := newAppFixture(t, hostile)
	repo := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 150, Now: t0})[0]

	ctx := t.Context()
	noop := func([]artifact.Artifact) error { return nil }
	var errs []error
	for _, name := range []string{"acme/echo-missing", "acme/echo-flaky", "acme/echo-unauthorized", "globex/echo-link", "initech/none", string(repo)} {
		r := artifact.Repository(name)
		_, err := f.c.ListArtifacts(ctx, r, noop)
		errs = append(errs, err)
		_, err = f.c.GetArtifact(ctx, r, 1)
		errs = append(errs, err)
		errs = append(errs, f.c.DeleteArtifact(ctx, r, 1))
		_, err = f.c.Budget(ctx, r.Owner())
		errs = append(errs, err)
		_, err = f.c.ListInstallationRepositories(ctx, r.Owner())
		errs = append(errs, err)
	}

	mu.Lock()
	var secrets []string
	for _, s := range seen {
		if strings.HasPrefix(s, "ghs_") || strings.Count(s, ".") == 2 {
			secrets = append(secrets, s)
		}
	}
	mu.Unlock()
	var jwts, tokens int
	for _, s := range secrets {
		if strings.HasPrefix(s, "ghs_") {
			tokens++
		} else {
			jwts++
		}
	}
	if jwts == 0 || tokens == 0 {
		t.Fatalf("the server saw %d JWTs and %d installation tokens, so the test proves nothing", jwts, tokens)
	}
	key := testAppKey()
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	keyLines := strings.Split(strings.TrimSpace(keyPEM), "\n")
	secrets = append(secrets, key.D.String(), key.Primes[0].String(), keyLines[1], keyLines[len(keyLines)/2])

	var text strings.Builder
	failures := 0
	for _, err := range errs {
		if err != nil {
			failures++
			fmt.Fprintf(&text, "%v\n%+v\n", err, err)
		}
	}
	if failures < 15 {
		t.Errorf("only %d calls failed; the hostile server is not hostile enough", failures)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "waiting before retrying") {
		t.Errorf("no waits were logged, so the log check proves nothing:\n%s", logs)
	}
	text.WriteString(logs)
	cfg := Config{App: &AppConfig{ID: testAppID, PrivateKey: key}}
	fmt.Fprintf(&text, "%v %+v %#v %s\n", cfg, cfg, cfg, *cfg.App)
	var logged syncBuffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", slog.Any("github", cfg), slog.Any("app", *cfg.App))
	text.WriteString(logged.String())
	for _, b := range f.c.Budgets() {
		if _, err := strconv.ParseInt(b.Name, 10, 64); err != nil {
			t.Errorf("budget name %q is not an installation id", b.Name)
		}
		text.WriteString(b.Name + "\n")
	}
	all := text.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("a secret (%.12s…) appears in errors, logs, budgets or the printed configuration", s)
		}
	}
	if !strings.Contains(all, "REDACTED") {
		t.Error("nothing was redacted, so the echo never reached an error or a log")
	}
}
