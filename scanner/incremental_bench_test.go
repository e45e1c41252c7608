package scanner_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/scanner"
)

// BenchmarkIncrementalTicks measures what incremental scanning saves at
// organisation scale: RETENTIOND_BENCH_REPOS repositories (default 1,000),
// half with 50 artifacts and half with 150 (100 on average), on the
// simulator over loopback HTTP, into a fresh PostgreSQL database, with the
// real client at the default concurrency (4). One op is four ticks:
//
//  1. the first scan, all full: its costed requests must be exactly
//     Σ ceil(n/100);
//  2. nothing changed: at most one request per repository, none costed;
//  3. 1% of the repositories got 3 new artifacts each: at most 2 costed
//     requests per changed repository, none for the rest;
//  4. nothing changed, with RETENTIOND_BENCH_LATENCY (default 100ms) of
//     simulated latency per request: the steady-state tick's wall time.
//
// The scanner's clock is frozen between ticks, so no repository's periodic
// full scan falls due in between: in production 1/24 of them do each hour
// at the default FULL_SCAN_INTERVAL (see the README's budget arithmetic).
// The simulator runs in this process: the figures are request counts and
// wall time, not heap.
//
//	RETENTIOND_BENCH_REPOS=10000 go run ./internal/tools/withpostgres -- \
//	  go test -run '^$' -bench BenchmarkIncrementalTicks -benchtime 1x -timeout 60m ./scanner/
func BenchmarkIncrementalTicks(b *testing.B) {
	repos := envInt(b, "RETENTIOND_BENCH_REPOS", 1000)
	latency := 100 * time.Millisecond
	if v := os.Getenv("RETENTIOND_BENCH_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("RETENTIOND_BENCH_LATENCY: %v", err)
		}
		latency = d
	}
	for range b.N {
		benchTicks(b, repos, latency)
	}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2 {
		b.Fatalf("%s=%q: want a number of repositories, at least 2", name, v)
	}
	return n
}

func benchTicks(b *testing.B, repos int, latency time.Duration) {
	b.StopTimer()
	ctx := context.Background()
	sim := githubsim.New(githubsim.Options{Token: benchToken, RateLimit: 1 << 30})
	small := sim.Generate(githubsim.GenerateOptions{Seed: 1, Owner: "small", Repositories: repos / 2, ArtifactsPerRepository: 50})
	large := sim.Generate(githubsim.GenerateOptions{Seed: 2, Owner: "large", Repositories: repos - repos/2, ArtifactsPerRepository: 150})
	names := append(small, large...)
	wantFull := len(small)*1 + len(large)*2 // Σ ceil(n/100)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var sent atomic.Int64
	client := newBenchClient(b, srv.URL, &sent)
	st, err := store.Open(ctx, pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sc := scanner.New(client, st, scanner.Options{
		Concurrency: 4, FullScanInterval: 24 * time.Hour, Clock: clock.NewFake(time.Now()),
	})

	type tick struct {
		requests, costed int
		wall             time.Duration
		res              scanner.Result
	}
	run := func(name string) tick {
		sent.Store(0)
		start := time.Now()
		b.StartTimer()
		res := sc.ScanAll(ctx, names, nil)
		b.StopTimer()
		tk := tick{wall: time.Since(start), res: res}
		if err := res.Err(); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		for _, rr := range res.Repos {
			tk.requests += rr.Requests
			tk.costed += rr.Costed
		}
		if int(sent.Load()) != tk.requests {
			b.Fatalf("%s: the transport sent %d requests, the scans counted %d", name, sent.Load(), tk.requests)
		}
		b.Logf("%s: %d repositories, %d requests, %d costed, %s", name, len(names), tk.requests, tk.costed, tk.wall.Round(time.Millisecond))
		return tk
	}

	first := run("tick 1, first scan")
	if first.costed != wantFull || first.requests != wantFull {
		b.Fatalf("first scan: %d requests, %d costed; want exactly Σ ceil(n/100) = %d", first.requests, first.costed, wantFull)
	}
	second := run("tick 2, nothing changed")
	if second.requests > len(names) || second.costed != 0 {
		b.Fatalf("unchanged tick: %d requests, %d costed; want ≤ %d and 0", second.requests, second.costed, len(names))
	}
	changed := map[artifact.Repository]bool{}
	for i := 0; i < len(names); i += 100 {
		changed[names[i]] = true
		for range 3 {
			sim.AddArtifact(artifact.Artifact{Repository: names[i], Name: "new", SizeInBytes: 1000, CreatedAt: time.Now()})
		}
	}
	third := run(fmt.Sprintf("tick 3, %d repositories changed", len(changed)))
	for _, rr := range third.res.Repos {
		switch {
		case changed[rr.Repository] && (rr.Costed > 2 || rr.New != 3):
			b.Fatalf("changed %s: %d costed, %d new; want ≤ 2 and 3", rr.Repository, rr.Costed, rr.New)
		case !changed[rr.Repository] && rr.Costed != 0:
			b.Fatalf("unchanged %s: %d costed", rr.Repository, rr.Costed)
		}
	}
	sim.SetLatency(latency, 0)
	fourth := run(fmt.Sprintf("tick 4, nothing changed, %s latency", latency))
	if fourth.requests > len(names) || fourth.costed != 0 {
		b.Fatalf("unchanged tick with latency: %d requests, %d costed", fourth.requests, fourth.costed)
	}

	b.ReportMetric(float64(len(names)), "repos")
	b.ReportMetric(float64(first.costed), "tick1-costed")
	b.ReportMetric(first.wall.Seconds(), "tick1-s")
	b.ReportMetric(float64(second.requests)/float64(len(names)), "tick2-req/repo")
	b.ReportMetric(float64(second.costed), "tick2-costed")
	b.ReportMetric(second.wall.Seconds(), "tick2-s")
	b.ReportMetric(float64(third.costed)/float64(len(changed)), "tick3-costed/changed")
	b.ReportMetric(fourth.wall.Seconds(), "tick4-latency-s")
}
