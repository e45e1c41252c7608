package github

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/githubsim"
)

// writeToken writes tok to path with a modification time of its own, so a
// change is seen even on a file system with coarse timestamps.
func writeToken(t *testing.T, path, tok string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// TestTokenFileRotation: a rotated GITHUB_TOKEN_FILE is picked up within
// tokenFileCheckEvery on the client's clock, or at once when GitHub refuses
// the old token; a file caught empty mid-rotation keeps the old token; and
// no token reaches the logs.
func TestTokenFileRotation(t *testing.T) {
	t.Parallel()
	const (
		tokA = "ghs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		tokB = "ghs_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
		tokC = "ghs_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
	)
	path := filepath.Join(t.TempDir(), "token")
	writeToken(t, path, tokA, t0)
	logs := &syncBuffer{}
	f := newSimFixture(t, githubsim.Options{Token: tokA}, func(c *Config) {
		c.Token, c.TokenFile = tokA, path
		c.Logger = testLogger(logs)
	})
	repo := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 5, Now: t0})[0]
	get := func() error {
		_, err := f.c.ListArtifactsPage(t.Context(), repo, 1, "")
		return err
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}

	// Rotated: within the check interval the old token is still sent (and
	// still accepted); after it, the new one, with no refused request.
	writeToken(t, path, tokB, t0.Add(time.Hour))
	f.clock.Advance(time.Second)
	if err := get(); err != nil {
		t.Fatalf("old token within the check interval: %v", err)
	}
	f.sim.SetToken(tokB)
	f.clock.Advance(tokenFileCheckEvery)
	f.sim.ResetCounts()
	if err := get(); err != nil {
		t.Fatalf("after the check interval: %v", err)
	}
	if n := f.sim.TotalRequests(); n != 1 {
		t.Errorf("%d requests after the rotation, want 1 (the new token at once)", n)
	}

	// Rotated on both sides at once: GitHub refuses the old token, the file
	// is read again at once, and the request is sent again with the new one.
	writeToken(t, path, tokC, t0.Add(2*time.Hour))
	f.sim.SetToken(tokC)
	f.sim.ResetCounts()
	if err := get(); err != nil {
		t.Fatalf("after a 401: %v", err)
	}
	if n := f.sim.TotalRequests(); n != 2 {
		t.Errorf("%d requests, want 2: refused, then the new token", n)
	}

	// Caught half-way (empty): the token in use stays.
	writeToken(t, path, "", t0.Add(3*time.Hour))
	f.clock.Advance(tokenFileCheckEvery)
	if err := get(); err != nil {
		t.Errorf("with the file empty: %v", err)
	}

	l := logs.String()
	if !strings.Contains(l, "GITHUB_TOKEN_FILE changed") || !strings.Contains(l, "re-reading GITHUB_TOKEN_FILE failed") {
		t.Errorf("rotation and the failed read are not logged:\n%s", l)
	}
	for _, tok := range []string{tokA, tokB, tokC} {
		if strings.Contains(l, tok) {
			t.Errorf("logs contain a token:\n%s", l)
		}
	}
}
