package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/testbed"
)

// TestBudgetMetrics: with a GitHub App, the rate-limit series carry one
// budget label per installation (its id), each with that installation's
// numbers, and nothing else.
func TestBudgetMetrics(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	sim := githubsim.New(githubsim.Options{Token: "unused-main-token", Clock: clk})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sim.RegisterApp(5, &key.PublicKey)
	acme, globex := sim.AddInstallation(5, "acme"), sim.AddInstallation(5, "globex")
	sim.SetInstallationRateLimit(globex, 42, clk.Now().Add(30*time.Minute))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	gh, err := github.New(github.Config{BaseURL: srv.URL, App: &github.AppConfig{ID: 5, PrivateKey: key}, Clock: clk, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for _, owner := range []string{"acme", "globex"} {
		if _, err := gh.Budget(t.Context(), owner); err != nil {
			t.Fatal(err)
		}
	}
	_, h := newMetrics(gh, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	m := testbed.Parse(t, string(body))
	for id, want := range map[int64]float64{acme: 5000, globex: 42} {
		name := strconv.FormatInt(id, 10)
		if got := m.Value(t, "retentiond_github_rate_limit_remaining", "budget", name); got != want {
			t.Errorf("remaining{budget=%s} = %g, want %g", name, got, want)
		}
		if got := m.Value(t, "retentiond_github_rate_limit_limit", "budget", name); got != 5000 {
			t.Errorf("limit{budget=%s} = %g, want 5000", name, got)
		}
	}
	if got, want := m.Value(t, "retentiond_github_rate_limit_reset_timestamp_seconds", "budget", strconv.FormatInt(globex, 10)), float64(clk.Now().Add(30*time.Minute).Unix()); got != want {
		t.Errorf("reset{globex} = %g, want %g", got, want)
	}
	if n := len(m["retentiond_github_rate_limit_remaining"].GetMetric()); n != 2 {
		t.Errorf("%d remaining series, want one per installation", n)
	}
	if strings.Contains(string(body), "ghs_") {
		t.Error("/metrics holds an installation token")
	}
}
