// Package testbed wires a simulated GitHub, a fresh PostgreSQL database and
// a GitHub client on one fake clock, for the tests of the packages that use
// all three, and scrapes /metrics handlers for them. It is imported only
// from _test.go files.
package testbed

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
)

// Token is the simulator's token. Tests grep logs and tables for it.
const Token = "testbed-fake-token-3f9c2a7e51d04b86"

// Epoch is the fake clock's start.
var Epoch = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// Bed is one test's world.
type Bed struct {
	T      testing.TB
	Clock  *clock.Fake
	Sim    *githubsim.Server
	Server *httptest.Server
	Client *github.Client
	Store  *store.Store
	DBURL  string
	Logs   *SyncBuffer
	Logger *slog.Logger
}

// Options tune New.
type Options struct {
	Sim         githubsim.Options // Token and Clock are filled in
	Concurrency int               // client concurrency, default 4
	MaxWait     time.Duration     // client MaxWait, default 15m
}

// New returns a Bed whose database and server are torn down with the test.
func New(t testing.TB, opts Options) *Bed {
	t.Helper()
	b := &Bed{T: t, Clock: clock.NewFake(Epoch), Logs: &SyncBuffer{}}
	b.Logger = slog.New(slog.NewTextHandler(b.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	so := opts.Sim
	so.Token, so.Clock = Token, b.Clock
	b.Sim = githubsim.New(so)
	b.Server = httptest.NewServer(b.Sim)
	t.Cleanup(b.Server.Close)
	if opts.Concurrency == 0 {
		opts.Concurrency = 4
	}
	if opts.MaxWait == 0 {
		opts.MaxWait = 15 * time.Minute
	}
	var err error
	b.Client, err = github.New(github.Config{
		BaseURL: b.Server.URL, Token: Token, Clock: b.Clock, Logger: b.Logger,
		Concurrency: opts.Concurrency, MaxWait: opts.MaxWait,
	})
	if err != nil {
		t.Fatal(err)
	}
	b.DBURL = pgtest.NewDatabase(t)
	b.Store, err = store.Open(context.Background(), b.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Store.Close)
	return b
}

// Add adds n artifacts to repo in the simulator, created an hour apart going
// back from the clock, and returns their ids, newest first.
func (b *Bed) Add(repo artifact.Repository, n int, fill func(i int, a *artifact.Artifact)) []int64 {
	ids := make([]int64, n)
	now := b.Clock.Now()
	for i := n - 1; i >= 0; i-- { // oldest first, so ids grow with time
		a := artifact.Artifact{
			Repository:    repo,
			Name:          "build",
			SizeInBytes:   1000 + int64(i),
			CreatedAt:     now.Add(-time.Duration(i+1) * time.Hour),
			WorkflowRunID: int64(1000 + i),
			Branch:        "main",
			HeadSHA:       "abc123",
		}
		if fill != nil {
			fill(i, &a)
		}
		ids[i] = b.Sim.AddArtifact(a)
	}
	return ids
}

// AssertNoToken fails the test if the token appears in the logs.
func (b *Bed) AssertNoToken() {
	b.T.Helper()
	if strings.Contains(b.Logs.String(), Token) {
		b.T.Fatalf("the token appears in the logs")
	}
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// String returns what was written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// Count is a number of audit rows and their total size.
type Count struct {
	N     int64
	Bytes int64
}

// OutcomeCounts counts a run's decisions (the decisions view: its rows,
// its pending intents and the keeps it made without writing a row) by
// outcome, with their bytes.
func OutcomeCounts(tb testing.TB, st *store.Store, runID int64) map[store.Outcome]Count {
	tb.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT outcome, count(*), coalesce(sum(size_in_bytes), 0) FROM decisions WHERE run_id = $1 GROUP BY outcome`, runID)
	if err != nil {
		tb.Fatalf("counting outcomes of run %d: %v", runID, err)
	}
	out := map[store.Outcome]Count{}
	var o string
	var c Count
	if _, err := pgx.ForEachRow(rows, []any{&o, &c.N, &c.Bytes}, func() error {
		out[store.Outcome(o)] = c
		return nil
	}); err != nil {
		tb.Fatalf("counting outcomes of run %d: %v", runID, err)
	}
	return out
}
