package scanner_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/scanner"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newScanner(b *testbed.Bed) *scanner.Scanner {
	return scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 4, Clock: b.Clock, Logger: b.Logger})
}

func liveIDs(t *testing.T, b *testbed.Bed, repo artifact.Repository) []int64 {
	t.Helper()
	arts, err := b.Store.LiveArtifacts(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(arts))
	for i, a := range arts {
		ids[i] = a.ID
	}
	return ids
}

func TestScanPagesAcrossBoundaries(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 99, 100, 101, 250} {
		t.Run(fmt.Sprintf("%d artifacts", n), func(t *testing.T) {
			t.Parallel()
			b := testbed.New(t, testbed.Options{})
			ids := b.Add("octo/api", n, nil)
			b.Sim.AddRepository("octo/api")
			res := newScanner(b).ScanAll(context.Background(), []artifact.Repository{"octo/api"}, nil)
			rr := res.Repos[0]
			if rr.Status != scanner.StatusComplete || rr.Err != nil {
				t.Fatalf("scan: %+v", rr)
			}
			wantPages := (n + 99) / 100
			if n == 0 {
				wantPages = 1 // an empty repository still answers one (empty) page
			}
			if rr.Artifacts != n || rr.Pages != wantPages || rr.Requests != wantPages || rr.New != n {
				t.Errorf("n=%d: artifacts=%d pages=%d requests=%d new=%d; want %d, %d pages and requests", n, rr.Artifacts, rr.Pages, rr.Requests, rr.New, n, wantPages)
			}
			if got := b.Sim.TotalRequests(); got != wantPages {
				t.Errorf("simulator saw %d requests, want ceil(n/100) = %d", got, wantPages)
			}
			if n > 0 {
				if diff := cmp.Diff(ids, liveIDs(t, b, "octo/api")); diff != "" {
					t.Errorf("stored ids (-want +got):\n%s", diff)
				}
			}
			sc, err := b.Store.Scan(context.Background(), rr.ScanID)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Status != store.ScanComplete || sc.Pages != rr.Pages || sc.Requests != rr.Requests || sc.Counts.Seen != n {
				t.Errorf("scan row: %+v", sc)
			}
		})
	}
}

func TestFailedPageLeavesArtifactsUntouched(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	b.Add("octo/api", 250, nil)
	b.Add("octo/web", 30, nil)
	s := newScanner(b)
	ctx := context.Background()
	first := s.ScanAll(ctx, []artifact.Repository{"octo/api", "octo/web"}, nil)
	if first.Failed() != 0 {
		t.Fatalf("first scan: %v", first.Err())
	}
	before, err := b.Store.LiveArtifacts(ctx, "octo/api")
	if err != nil {
		t.Fatal(err)
	}

	// Half the artifacts disappear, and page 2 of the next listing fails for good.
	for _, a := range b.Sim.Artifacts("octo/api")[:120] {
		b.Sim.RemoveArtifact("octo/api", a.ID)
	}
	b.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteList, Repository: "octo/api", Nth: 2, Status: http.StatusBadGateway})
	b.Clock.Advance(time.Hour)
	second := s.ScanAll(ctx, []artifact.Repository{"octo/api", "octo/web"}, nil)

	api, web := second.Repos[0], second.Repos[1]
	if api.Status != scanner.StatusFailed || api.Err == nil || !strings.Contains(api.Err.Error(), "octo/api") {
		t.Fatalf("octo/api scan should fail naming the repository: %+v", api)
	}
	if web.Status != scanner.StatusComplete {
		t.Errorf("octo/web should carry on: %+v", web)
	}
	after, err := b.Store.LiveArtifacts(ctx, "octo/api")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a failed scan changed the artifacts (-before +after):\n%s", diff)
	}
	sc, err := b.Store.Scan(ctx, api.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Status != store.ScanFailed || !strings.Contains(sc.Error, "502") {
		t.Errorf("scan row should be failed with the status: %+v", sc)
	}
	// The client retried page 2 with backoff on the fake clock, a bounded number of times.
	if n := len(b.Clock.Sleeps()); n == 0 || n > 8 {
		t.Errorf("%d backoff sleeps, want a few", n)
	}
	b.AssertNoToken()
}

func TestArtifactsDisappearingBetweenScans(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	ids := b.Add("octo/api", 150, nil)
	s := newScanner(b)
	ctx := context.Background()
	if r := s.ScanRepository(ctx, "octo/api", nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	gone := []int64{ids[0], ids[70], ids[149]}
	for _, id := range gone {
		b.Sim.RemoveArtifact("octo/api", id)
	}
	b.Clock.Advance(time.Hour)
	r := s.ScanRepository(ctx, "octo/api", nil)
	if r.Err != nil || r.Gone != 3 || r.New != 0 || r.Artifacts != 147 {
		t.Fatalf("second scan: %+v", r)
	}
	for _, id := range gone {
		sa, err := b.Store.Artifact(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !sa.GoneAt.Equal(b.Clock.Now()) {
			t.Errorf("artifact %d gone_at = %v, want the scan's finish %v", id, sa.GoneAt, b.Clock.Now())
		}
	}
	if got := len(liveIDs(t, b, "octo/api")); got != 147 {
		t.Errorf("%d live artifacts, want 147", got)
	}
}

func TestNullFieldsAreStored(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	ids := b.Add("octo/api", 2, func(i int, a *artifact.Artifact) {
		if i == 0 {
			a.WorkflowRunID, a.Branch, a.HeadSHA = 0, "", ""
			a.CreatedAt, a.ExpiresAt, a.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
			a.Digest = ""
		}
	})
	if r := newScanner(b).ScanRepository(context.Background(), "octo/api", nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	sa, err := b.Store.Artifact(context.Background(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	a := sa.Artifact
	if a.WorkflowRunID != 0 || a.Branch != "" || a.HeadSHA != "" || !a.CreatedAt.IsZero() || !a.UpdatedAt.IsZero() || !a.ExpiresAt.IsZero() || a.Digest != "" {
		t.Errorf("nulls not preserved: %+v", a)
	}
	if a.Name != "build" || a.SizeInBytes != 1000 {
		t.Errorf("fields lost: %+v", a)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		setup     func(b *testbed.Bed)
		wantSleep time.Duration // the first wait the client made
	}{
		{"primary limit waits for the reset", func(b *testbed.Bed) {
			b.Sim.SetRateLimit(0, b.Clock.Now().Add(5*time.Minute))
		}, 5*time.Minute + time.Second},
		{"secondary limit with Retry-After", func(b *testbed.Bed) {
			f := githubsim.SecondaryLimitFault(githubsim.RouteList, 30*time.Second)
			f.Nth, f.Times = 2, 1
			b.Sim.InjectFault(f)
		}, 30 * time.Second},
		{"secondary limit without Retry-After backs off a minute", func(b *testbed.Bed) {
			f := githubsim.SecondaryLimitFault(githubsim.RouteList, 0)
			f.Nth, f.Times, f.NoRateHeaders = 2, 1, true
			b.Sim.InjectFault(f)
		}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := testbed.New(t, testbed.Options{})
			b.Add("octo/api", 250, nil)
			tt.setup(b)
			r := newScanner(b).ScanRepository(context.Background(), "octo/api", nil)
			if r.Err != nil || r.Artifacts != 250 {
				t.Fatalf("scan: %+v", r)
			}
			sleeps := b.Clock.Sleeps()
			if len(sleeps) == 0 || sleeps[0] != tt.wantSleep {
				t.Errorf("sleeps = %v, want first %v", sleeps, tt.wantSleep)
			}
		})
	}
}

func TestPrimaryLimitBeyondMaxWaitFailsTheRepository(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{MaxWait: time.Minute})
	b.Add("octo/api", 10, nil)
	b.Sim.SetRateLimit(0, b.Clock.Now().Add(40*time.Minute))
	r := newScanner(b).ScanRepository(context.Background(), "octo/api", nil)
	if r.Status != scanner.StatusFailed || r.Err == nil || !strings.Contains(r.Err.Error(), "rate limit") {
		t.Fatalf("want a clear rate-limit failure, got %+v", r)
	}
	if len(b.Clock.Sleeps()) != 0 {
		t.Errorf("waited %v although the reset is beyond GITHUB_MAX_WAIT", b.Clock.Sleeps())
	}
}

func TestManyRepositoriesConcurrently(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{Concurrency: 2})
	repos := []artifact.Repository{"o/a", "o/b", "o/c", "o/d", "o/e", "o/f"}
	for i, r := range repos {
		b.Add(r, 50*(i+1), nil)
	}
	res := scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 3, Clock: b.Clock}).ScanAll(context.Background(), repos, nil)
	if res.Failed() != 0 {
		t.Fatal(res.Err())
	}
	arts, _, reqs := res.Totals()
	if arts != 50*21 || reqs != 1+1+2+2+3+3 {
		t.Errorf("artifacts=%d requests=%d", arts, reqs)
	}
	for i, rr := range res.Repos {
		if rr.Repository != repos[i] {
			t.Errorf("result %d is %s, want %s (results keep the order asked)", i, rr.Repository, repos[i])
		}
	}
}

func TestWorkflowRunScanUpsertsWithoutMarkingGone(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	b.Add("octo/api", 20, func(i int, a *artifact.Artifact) { a.WorkflowRunID = int64(7 + i%2) })
	ctx := context.Background()
	s := newScanner(b)
	r := s.ScanWorkflowRun(ctx, "octo/api", 7)
	if r.Err != nil || r.Artifacts != 10 || r.New != 10 || r.Gone != 0 {
		t.Fatalf("run scan: %+v", r)
	}
	if got := len(liveIDs(t, b, "octo/api")); got != 10 {
		t.Errorf("%d live artifacts, want the run's 10", got)
	}
	if got := b.Sim.Requests()["GET "+githubsim.RouteListRun]; got != 1 {
		t.Errorf("run listing requests = %d", got)
	}
}

func TestCancelledScanIsRecordedAsFailed(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	b.Add("octo/api", 250, nil)
	ctx, cancel := context.WithCancel(context.Background())
	b.Sim.OnRequest(func(route string, r *http.Request) {
		if route == githubsim.RouteList && strings.Contains(r.URL.RawQuery, "page=2") {
			cancel()
		}
	})
	r := newScanner(b).ScanRepository(ctx, "octo/api", nil)
	if r.Status != scanner.StatusFailed {
		t.Fatalf("scan: %+v", r)
	}
	sc, err := b.Store.Scan(context.Background(), r.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Status != store.ScanFailed {
		t.Errorf("a cancelled scan must not stay running: %+v", sc)
	}
}

// A scan's Duration is the time it took on the injected clock, for every kind
// of scan and whether it completed or failed: the run metrics and the scan
// command's table report it.
func TestScanDurationIsTheClockTimeTheScanTook(t *testing.T) {
	t.Parallel()
	const perRequest = 3 * time.Second
	tests := []struct {
		name       string
		fault      *githubsim.Fault
		scan       func(*scanner.Scanner) scanner.RepoResult
		wantStatus store.ScanStatus
		want       time.Duration
	}{
		{"repository scan of three pages", nil, func(s *scanner.Scanner) scanner.RepoResult {
			return s.ScanRepository(context.Background(), "octo/api", nil)
		}, scanner.StatusComplete, 3 * perRequest},
		{"workflow run scan", nil, func(s *scanner.Scanner) scanner.RepoResult {
			return s.ScanWorkflowRun(context.Background(), "octo/api", 7)
		}, scanner.StatusComplete, perRequest},
		{"failed scan", &githubsim.Fault{Route: githubsim.RouteList, Repository: "octo/api", Nth: 2, Status: http.StatusNotFound},
			func(s *scanner.Scanner) scanner.RepoResult {
				return s.ScanRepository(context.Background(), "octo/api", nil)
			}, scanner.StatusFailed, 2 * perRequest},
		{"through ScanAll", nil, func(s *scanner.Scanner) scanner.RepoResult {
			return s.ScanAll(context.Background(), []artifact.Repository{"octo/api"}, nil).Repos[0]
		}, scanner.StatusComplete, 3 * perRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := testbed.New(t, testbed.Options{})
			b.Add("octo/api", 250, func(i int, a *artifact.Artifact) {
				if i < 10 {
					a.WorkflowRunID = 7
				}
			})
			if tt.fault != nil {
				b.Sim.InjectFault(*tt.fault)
			}
			b.Sim.OnRequest(func(string, *http.Request) { b.Clock.Advance(perRequest) })
			r := tt.scan(newScanner(b))
			if r.Status != tt.wantStatus {
				t.Fatalf("scan: %+v", r)
			}
			if r.Duration != tt.want {
				t.Errorf("Duration = %v, want %v", r.Duration, tt.want)
			}
			sc, err := b.Store.Scan(context.Background(), r.ScanID)
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.FinishedAt.Sub(sc.StartedAt); got != tt.want {
				t.Errorf("scan row lasted %v, want %v", got, tt.want)
			}
		})
	}
}
