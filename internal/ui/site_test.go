package ui_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/cli"
	"github.com/retentiond/retentiond/internal/testbed"
)

// Names an attacker can give an artifact or a branch (anyone who can push a
// workflow can): the page must show them as text, everywhere.
const (
	hostileName   = `<script>alert(1)</script>`
	hostileBranch = `"><img src=x onerror=alert(1)>`
)

const sitePolicy = `version: 1
repositories: [octo/api, octo/web]
safety:
  min_age: 1h
rules:
  - rule: keep-latest
    action: keep
    keep_latest: 3
    group_by: [name, branch]
  - rule: old-reports
    action: delete
    name: ["test-report"]
    older_than: 2h
  - rule: stale
    action: delete
    older_than: 12h
`

// site is a real serve, on a real PostgreSQL, after two real dry-runs of
// retentiond run against the simulator.
type site struct {
	*testbed.Bed
	URL  string
	Logs *testbed.SyncBuffer
	// HostileID is an artifact named hostileName on branch hostileBranch.
	HostileID int64
}

// idleClock never lets serve's schedule fire: Sleep waits for ctx.
type idleClock struct{ now time.Time }

func (c idleClock) Now() time.Time { return c.now }

func (idleClock) Sleep(ctx context.Context, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func newSite(t *testing.T, extraEnv map[string]string) *site {
	t.Helper()
	b := testbed.New(t, testbed.Options{})
	s := &site{Bed: b, Logs: &testbed.SyncBuffer{}}
	ids := b.Add("octo/api", 30, func(i int, a *artifact.Artifact) {
		a.SizeInBytes = int64(i+1) * 3_000_000
		switch {
		case i%5 == 0:
			a.Name, a.Branch = hostileName, hostileBranch
		case i%4 == 0:
			a.Name = "test-report"
		case i%7 == 0:
			a.Branch = hostileBranch
		}
	})
	s.HostileID = ids[20] // past keep_latest and older than stale's 12h: a deletion
	b.Add("octo/web", 12, func(i int, a *artifact.Artifact) {
		a.Name = "coverage"
		a.SizeInBytes = int64(i+1) * 700_000
	})
	file := filepath.Join(t.TempDir(), "policies.yaml")
	if err := os.WriteFile(file, []byte(sitePolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DATABASE_URL":   b.DBURL,
		"GITHUB_TOKEN":   testbed.Token,
		"GITHUB_API_URL": b.Server.URL,
		"POLICY_FILE":    file,
		"LOG_FORMAT":     "json",
		"LOG_LEVEL":      "debug",
		"HTTP_ADDR":      "127.0.0.1:0",
		// The site shows the two runs below; serve must not add one at
		// start because the last is an hour old (RUN_ON_START=missed).
		"RUN_ON_START": "never",
	}
	maps.Copy(env, extraEnv)
	for range 2 {
		var out bytes.Buffer
		if err := cli.Run(context.Background(), []string{"run"}, cli.Env{Stdout: &out, Stderr: s.Logs,
			Lookup: envconfig.MapLookuper(env), Clock: b.Clock}); err != nil {
			t.Fatalf("retentiond run: %v\n%s\n%s", err, &out, s.Logs)
		}
		b.Clock.Advance(time.Hour)
	}

	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve"}, cli.Env{Stdout: io.Discard, Stderr: s.Logs,
			Lookup: envconfig.MapLookuper(env), Clock: idleClock{b.Clock.Now()}, Listening: func(a net.Addr) { addrc <- a }})
	}()
	select {
	case a := <-addrc:
		s.URL = "http://" + a.String()
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v\n%s", err, s.Logs)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v on shutdown", err)
		}
	})
	return s
}

type response struct {
	code   int
	header http.Header
	body   string
}

func (s *site) do(t *testing.T, method, path string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (s *site) get(t *testing.T, path string) response {
	t.Helper()
	return s.do(t, http.MethodGet, path, nil)
}
