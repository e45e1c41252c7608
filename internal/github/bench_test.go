package github

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/githubsim"
)

// fullPage is a 100-artifact list body as GitHub sends it: the one page of
// a repository of 100 artifacts (total_count has to agree with the missing
// next link, or the listing fails as incomplete).
func fullPage(b *testing.B) []byte {
	b.Helper()
	arts := make([]*gh.Artifact, perPage)
	for i := range arts {
		arts[i] = ghArtifact(int64(10_000 - i))
	}
	body, err := json.Marshal(gh.ArtifactList{TotalCount: new(int64(perPage)), Artifacts: arts})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkDecodePage measures turning one page's body into the page fn
// receives: go-github's decode plus the conversion.
func BenchmarkDecodePage(b *testing.B) {
	body := fullPage(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var list gh.ArtifactList
		if err := json.Unmarshal(body, &list); err != nil {
			b.Fatal(err)
		}
		page := make([]artifact.Artifact, 0, len(list.Artifacts))
		for _, a := range list.Artifacts {
			page = append(page, toArtifact("o/r", a))
		}
		if len(page) != perPage {
			b.Fatalf("decoded %d artifacts", len(page))
		}
	}
}

// BenchmarkListArtifactsPage measures the whole list path for one page over
// loopback HTTP: request, limiter, rate bookkeeping, decode, conversion, fn.
func BenchmarkListArtifactsPage(b *testing.B) {
	body := fullPage(b)
	h := newHarness(b, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rate(w, 5000, 4999, t0)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	}))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.c.ListArtifacts(b.Context(), "o/r", func(page []artifact.Artifact) error {
			if len(page) != perPage {
				b.Fatalf("page of %d", len(page))
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuth measures one 100-artifact page from the simulator with a
// token and as a GitHub App (the owner's budget looked up, its installation
// token reused): the difference is what App authentication costs per request.
func BenchmarkAuth(b *testing.B) {
	for _, mode := range []string{"token", "app"} {
		b.Run(mode, func(b *testing.B) {
			fake := clock.NewFake(t0)
			sim := githubsim.New(githubsim.Options{Token: testToken, Clock: fake, RateLimit: 1 << 30})
			sim.RegisterApp(testAppID, &testAppKey().PublicKey)
			inst := sim.AddInstallation(testAppID, "acme")
			repo := sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: perPage, Now: t0})[0]
			srv := httptest.NewServer(sim)
			b.Cleanup(srv.Close)
			cfg := Config{BaseURL: srv.URL, Token: testToken, Clock: fake, HTTPClient: srv.Client(), Logger: slog.New(slog.DiscardHandler)}
			if mode == "app" {
				cfg.Token, cfg.App = "", &AppConfig{ID: testAppID, PrivateKey: testAppKey()}
			}
			c, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if n++; n%4000 == 0 { // an installation's budget is 5,000 an hour
					sim.SetInstallationRateLimit(inst, 5000, t0.Add(time.Hour))
				}
				if _, err := c.ListArtifactsPage(b.Context(), repo, 1, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
