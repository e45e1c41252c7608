package scanner_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/scanner"
)

const api artifact.Repository = "octo/api"

func newIncremental(b *testbed.Bed) *scanner.Scanner {
	return scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 4, FullScanInterval: 24 * time.Hour, Clock: b.Clock, Logger: b.Logger})
}

// scanOnce scans api after an hour and checks the scan completed.
func scanOnce(t *testing.T, b *testbed.Bed, s *scanner.Scanner) scanner.RepoResult {
	t.Helper()
	b.Clock.Advance(time.Hour)
	b.Sim.ResetCounts()
	rr := s.ScanRepository(context.Background(), api, nil)
	if rr.Status != scanner.StatusComplete || rr.Err != nil {
		t.Fatalf("scan: %+v", rr)
	}
	if got := b.Sim.TotalRequests(); got != rr.Requests {
		t.Errorf("simulator saw %d requests, the scan counted %d", got, rr.Requests)
	}
	sc, err := b.Store.Scan(context.Background(), rr.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Mode != rr.Mode || sc.Costed != rr.Costed || sc.Requests != rr.Requests || sc.Status != store.ScanComplete {
		t.Errorf("scan row %+v does not match the result %+v", sc, rr)
	}
	return rr
}

type want struct {
	mode             store.ScanMode
	requests, costed int
	new, gone        int
	fallback         bool
}

func check(t *testing.T, what string, rr scanner.RepoResult, w want) {
	t.Helper()
	got := want{rr.Mode, rr.Requests, rr.Costed, rr.New, rr.Gone, rr.Fallback != ""}
	if got != w {
		t.Errorf("%s: got %+v (fallback %q), want %+v", what, got, rr.Fallback, w)
	}
}

func liveCount(t *testing.T, b *testbed.Bed) int {
	t.Helper()
	return len(liveIDs(t, b, api))
}

func TestNotModifiedCostsNothing(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	b.Add(api, 250, nil)
	s := newIncremental(b)
	check(t, "first scan", scanOnce(t, b, s), want{mode: store.ScanFull, requests: 3, costed: 3, new: 250})
	check(t, "unchanged", scanOnce(t, b, s), want{mode: store.ScanNotModified, requests: 1, costed: 0})
	// Within one rate-limit window (scanOnce moves an hour, which starts a
	// new one), the simulator charges nothing either.
	_, before, _ := b.Sim.RateLimit()
	for range 3 {
		if rr := s.ScanRepository(context.Background(), api, nil); rr.Mode != store.ScanNotModified {
			t.Fatalf("unchanged: %+v", rr)
		}
	}
	if _, after, _ := b.Sim.RateLimit(); after != before {
		t.Errorf("304s spent rate limit: remaining %d, then %d", before, after)
	}
	if n := liveCount(t, b); n != 250 {
		t.Errorf("%d live artifacts, want 250", n)
	}
}

func TestIncrementalStopsAtKnownIDs(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	b.Add(api, 250, nil)
	s := newIncremental(b)
	scanOnce(t, b, s)

	b.Add(api, 5, nil)
	check(t, "5 new", scanOnce(t, b, s), want{mode: store.ScanIncremental, requests: 1, costed: 1, new: 5})
	b.Add(api, 150, nil)
	check(t, "150 new", scanOnce(t, b, s), want{mode: store.ScanIncremental, requests: 2, costed: 2, new: 150})
	if n := liveCount(t, b); n != 405 {
		t.Errorf("%d live artifacts, want 405", n)
	}
	// The incremental scan left a valid ETag behind.
	check(t, "unchanged", scanOnce(t, b, s), want{mode: store.ScanNotModified, requests: 1})
}

func TestDeletedElsewhereFallsBackToFullScan(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	ids := b.Add(api, 250, nil)
	s := newIncremental(b)
	scanOnce(t, b, s)

	// Someone deletes an old artifact (page 3) in the web UI, and a new one
	// arrives: page 1 changes, but total_count does not add up.
	b.Sim.RemoveArtifact(api, ids[240])
	b.Add(api, 1, nil)
	rr := scanOnce(t, b, s)
	check(t, "deleted elsewhere", rr, want{mode: store.ScanFull, requests: 3, costed: 3, new: 1, gone: 1, fallback: true})
	if n := liveCount(t, b); n != 250 {
		t.Errorf("%d live artifacts, want 250", n)
	}
	// A deletion on page 1 with nothing new: total_count drops.
	b.Sim.RemoveArtifact(api, ids[3])
	check(t, "deleted on page 1", scanOnce(t, b, s), want{mode: store.ScanFull, requests: 3, costed: 3, gone: 1, fallback: true})
}

func TestDeletionWithinPagesReadIsCaught(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	ids := b.Add(api, 250, func(i int, a *artifact.Artifact) { a.ID = int64(10_000 + 2*(250-i)) })
	s := newIncremental(b)
	scanOnce(t, b, s)

	// A deletion on page 1 and an artifact appearing late, with an id below
	// the newest known, on page 3: total_count is unchanged, but page 1 no
	// longer lists what the database holds in its id range.
	b.Sim.RemoveArtifact(api, ids[10])
	b.Sim.AddArtifact(artifact.Artifact{ID: ids[220] + 1, Repository: api, Name: "late", CreatedAt: b.Clock.Now()})
	check(t, "balanced change", scanOnce(t, b, s), want{mode: store.ScanFull, requests: 3, costed: 3, new: 1, gone: 1, fallback: true})
	if n := liveCount(t, b); n != 250 {
		t.Errorf("%d live artifacts, want 250", n)
	}
}

func TestExpiredArtifacts(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	ids := b.Add(api, 250, func(i int, a *artifact.Artifact) {
		a.ExpiresAt = testbed.Epoch.Add(time.Duration(30-i) * time.Hour)
	})
	s := newIncremental(b)
	scanOnce(t, b, s)

	// Expired artifacts stay listed, so total_count still counts them: a
	// flag flipping on page 3 changes neither page 1 nor the reconciliation.
	b.Sim.SetExpired(api, ids[240], true)
	check(t, "expired on page 3", scanOnce(t, b, s), want{mode: store.ScanNotModified, requests: 1})
	// The database knows it expired without re-listing it: expiry is
	// computed from expires_at.
	arts, err := b.Store.LiveArtifacts(context.Background(), api)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		if a.ID == ids[240] && !a.ExpiredAt(b.Clock.Now()) {
			t.Errorf("artifact %d expired at %s but is not expired at %s", a.ID, a.ExpiresAt, b.Clock.Now())
		}
	}
	// A flag flipping on page 1 is a changed page 1 that still reconciles.
	b.Sim.SetExpired(api, ids[0], true)
	check(t, "expired on page 1", scanOnce(t, b, s), want{mode: store.ScanIncremental, requests: 1, costed: 1})

	// When an expired artifact drops off the listing, the count no longer
	// adds up and a full scan marks it gone.
	b.Sim.RemoveArtifact(api, ids[240])
	check(t, "expired off", scanOnce(t, b, s), want{mode: store.ScanFull, requests: 3, costed: 3, gone: 1, fallback: true})
}

func TestFullScanInterval(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	b.Add(api, 250, nil)
	s := newIncremental(b)
	check(t, "first scan", scanOnce(t, b, s), want{mode: store.ScanFull, requests: 3, costed: 3, new: 250})
	// Hourly scans for four days: a full one in every 24 hours, exactly 24
	// hours apart once in step (the repository's own phase decides where in
	// the day), and 304s in between.
	var fulls []time.Time
	for range 96 {
		rr := scanOnce(t, b, s)
		switch rr.Mode {
		case store.ScanFull:
			check(t, "full scan", rr, want{mode: store.ScanFull, requests: 3, costed: 3})
			fulls = append(fulls, b.Clock.Now())
		default:
			check(t, "between full scans", rr, want{mode: store.ScanNotModified, requests: 1})
		}
	}
	if len(fulls) != 4 {
		t.Fatalf("%d full scans in 96 hours, want 4: %v", len(fulls), fulls)
	}
	if gap := fulls[0].Sub(testbed.Epoch.Add(time.Hour)); gap > 24*time.Hour {
		t.Errorf("the first periodic full scan came %s after the first scan, more than FULL_SCAN_INTERVAL", gap)
	}
	for i := 1; i < len(fulls); i++ {
		if gap := fulls[i].Sub(fulls[i-1]); gap != 24*time.Hour {
			t.Errorf("full scans %s apart, want 24h", gap)
		}
	}
}

// TestFullScansSpreadOverTheInterval: repositories' full scans fall in
// different hours, so no one tick pays for the whole organisation.
func TestFullScansSpreadOverTheInterval(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	var repos []artifact.Repository
	for i := range 48 {
		repo := artifact.Repository(fmt.Sprintf("octo/r%02d", i))
		b.Sim.AddArtifact(artifact.Artifact{Repository: repo, Name: "build"})
		repos = append(repos, repo)
	}
	s := newIncremental(b)
	ctx := context.Background()
	if res := s.ScanAll(ctx, repos, nil); res.Failed() != 0 {
		t.Fatal(res.Err())
	}
	most := 0
	for range 24 {
		b.Clock.Advance(time.Hour)
		full := 0
		for _, rr := range s.ScanAll(ctx, repos, nil).Repos {
			if rr.Mode == store.ScanFull {
				full++
			}
		}
		most = max(most, full)
	}
	if most > 12 {
		t.Errorf("%d of 48 repositories had their full scan in the same hour; want them spread over the day", most)
	}
}

func TestWithoutETagsAnUnchangedRepositoryCostsOneRequest(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{Sim: githubsim.Options{WithoutETags: true}})
	b.Add(api, 250, nil)
	s := newIncremental(b)
	scanOnce(t, b, s)
	for range 3 {
		check(t, "unchanged", scanOnce(t, b, s), want{mode: store.ScanIncremental, requests: 1, costed: 1})
	}
	b.Add(api, 3, nil)
	check(t, "3 new", scanOnce(t, b, s), want{mode: store.ScanIncremental, requests: 1, costed: 1, new: 3})
}

func TestNoStateMeansFullScan(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	b.Add(api, 120, nil)
	// A scanner with incremental scans off lists everything and still
	// records state; one with them on then starts from it.
	full := newScanner(b)
	check(t, "incremental off", scanOnce(t, b, full), want{mode: store.ScanFull, requests: 2, costed: 2, new: 120})
	check(t, "incremental off again", scanOnce(t, b, full), want{mode: store.ScanFull, requests: 2, costed: 2})
	check(t, "incremental on", scanOnce(t, b, newIncremental(b)), want{mode: store.ScanNotModified, requests: 1})
	// An empty repository reconciles too.
	b.Sim.AddRepository("octo/empty")
	s := newIncremental(b)
	for i, w := range []want{{mode: store.ScanFull, requests: 1, costed: 1}, {mode: store.ScanNotModified, requests: 1}} {
		rr := s.ScanRepository(context.Background(), "octo/empty", nil)
		if rr.Status != scanner.StatusComplete {
			t.Fatalf("empty repository: %+v", rr)
		}
		check(t, "empty repository scan "+string(rune('1'+i)), rr, w)
	}
}
