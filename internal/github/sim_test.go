package github

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/githubsim"
)

// simFixture is a Client talking to the GitHub simulator, both on one fake clock.
type simFixture struct {
	sim   *githubsim.Server
	srv   *httptest.Server
	clock *clock.Fake
	c     *Client
}

func newSimFixture(t *testing.T, opts githubsim.Options, mod ...func(*Config)) *simFixture {
	t.Helper()
	fake := clock.NewFake(t0)
	opts.Clock = fake
	if opts.Token == "" {
		opts.Token = testToken
	}
	sim := githubsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := Config{BaseURL: srv.URL, Token: testToken, Clock: fake, HTTPClient: srv.Client()}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.retry.jitter = func(d time.Duration) time.Duration { return d }
	return &simFixture{sim: sim, srv: srv, clock: fake, c: c}
}

// list lists repo and returns every artifact and the stats.
func (f *simFixture) list(t *testing.T, repo artifact.Repository) ([]artifact.Artifact, ListStats) {
	t.Helper()
	var all []artifact.Artifact
	stats, err := f.c.ListArtifacts(t.Context(), repo, func(page []artifact.Artifact) error {
		all = append(all, page...)
		return nil
	})
	if err != nil {
		t.Fatalf("ListArtifacts(%s): %v", repo, err)
	}
	return all, stats
}

func TestSimListMatchesStore(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "/api/v3"} {
		t.Run("base "+base, func(t *testing.T) {
			t.Parallel()
			f := newSimFixture(t, githubsim.Options{}, func(c *Config) { c.BaseURL += base })
			repo := artifact.Repository(f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 250, Now: t0})[0])
			got, stats := f.list(t, repo)
			if diff := cmp.Diff(ListStats{Pages: 3, Requests: 3, TotalCount: 250}, stats); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			want := f.sim.Artifacts(repo)
			if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
				t.Errorf("ids in order (-sim +client):\n%s", diff)
			}
			if !slices.IsSortedFunc(got, func(a, b artifact.Artifact) int { return int(b.ID - a.ID) }) {
				t.Error("listing is not newest (largest id) first")
			}
			// Compare what both sides know; URLs are built per request by the sim.
			strip := func(as []artifact.Artifact) []artifact.Artifact {
				out := slices.Clone(as)
				for i := range out {
					out[i].URL, out[i].ArchiveDownloadURL = "", ""
				}
				return out
			}
			byID := func(a, b artifact.Artifact) int { return int(b.ID - a.ID) }
			w, g := strip(want), strip(got)
			slices.SortFunc(w, byID)
			slices.SortFunc(g, byID)
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("artifacts (-sim +client):\n%s", diff)
			}
			if n := f.sim.Requests()["GET list"]; n != 3 {
				t.Errorf("sim saw %d list requests, want 3", n)
			}
		})
	}
}

func ids(as []artifact.Artifact) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func TestSimFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		faults     []githubsim.Fault
		wantSleeps []time.Duration
	}{
		{name: "server error", faults: []githubsim.Fault{githubsim.StatusFault(githubsim.RouteList, http.StatusBadGateway)}, wantSleeps: []time.Duration{time.Second}},
		{name: "malformed page", faults: []githubsim.Fault{githubsim.MalformedFault(githubsim.RouteList)}, wantSleeps: []time.Duration{time.Second}},
		{name: "aborted connection", faults: []githubsim.Fault{githubsim.AbortFault(githubsim.RouteList)}, wantSleeps: []time.Duration{time.Second}},
		{name: "secondary limit with Retry-After", faults: []githubsim.Fault{githubsim.SecondaryLimitFault(githubsim.RouteList, 45*time.Second)}, wantSleeps: []time.Duration{45 * time.Second}},
		{
			name: "secondary limit without Retry-After, twice",
			faults: []githubsim.Fault{func() githubsim.Fault {
				f := githubsim.SecondaryLimitFault(githubsim.RouteList, 0)
				f.Times = 2
				return f
			}()},
			wantSleeps: []time.Duration{time.Minute, 2 * time.Minute},
		},
		{
			name: "second page fails once",
			faults: []githubsim.Fault{func() githubsim.Fault {
				f := githubsim.StatusFault(githubsim.RouteList, http.StatusServiceUnavailable)
				f.Nth = 2
				return f
			}()},
			wantSleeps: []time.Duration{time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSimFixture(t, githubsim.Options{})
			f.srv.Client().Transport.(*http.Transport).DisableKeepAlives = true
			repo := artifact.Repository(f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 150, Now: t0})[0])
			for _, fault := range tc.faults {
				f.sim.InjectFault(fault)
			}
			got, stats := f.list(t, repo)
			if len(got) != 150 || stats.Pages != 2 {
				t.Errorf("got %d artifacts in %d pages, want 150 in 2", len(got), stats.Pages)
			}
			if diff := cmp.Diff(tc.wantSleeps, f.clock.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if want := 2 + len(tc.wantSleeps); stats.Requests != want {
				t.Errorf("stats.Requests = %d, want %d", stats.Requests, want)
			}
		})
	}
}

// TestSimPrimaryLimit: the client waits on the shared fake clock until the
// simulator's window resets, then carries on; a reset too far away fails.
func TestSimPrimaryLimit(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			f := newSimFixture(t, githubsim.Options{RateLimitStatus: status})
			repo := artifact.Repository(f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 150, Now: t0})[0])
			f.sim.SetRateLimit(1, t0.Add(7*time.Minute)) // enough for page 1 only
			got, stats := f.list(t, repo)
			// Page 1's answer says the budget is spent, so page 2 waits for
			// the reset before it is sent, rather than being refused first.
			if len(got) != 150 || stats.Requests != 2 {
				t.Errorf("got %d artifacts in %d requests, want 150 in 2", len(got), stats.Requests)
			}
			if diff := cmp.Diff([]time.Duration{7*time.Minute + time.Second}, f.clock.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if st := f.c.RateLimit(); !st.Known || st.Limit != 5000 || st.Remaining != 4999 {
				t.Errorf("RateLimit() = %+v, want the new window with one request used", st)
			}
		})
	}
	t.Run("beyond max wait", func(t *testing.T) {
		t.Parallel()
		f := newSimFixture(t, githubsim.Options{})
		repo := artifact.Repository(f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 10, Now: t0})[0])
		f.sim.SetRateLimit(0, t0.Add(50*time.Minute))
		_, err := f.c.ListArtifacts(t.Context(), repo, func([]artifact.Artifact) error { return nil })
		if !errors.Is(err, ErrRateLimited) {
			t.Errorf("err = %v, want ErrRateLimited", err)
		}
		if len(f.clock.Sleeps()) != 0 {
			t.Errorf("slept %v", f.clock.Sleeps())
		}
	})
}

func TestSimGetDeleteDownload(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	repo := artifact.Repository(f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 3, Now: t0})[0])
	arts := f.sim.Artifacts(repo)
	id := arts[0].ID

	got, err := f.c.GetArtifact(t.Context(), repo, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.Name != arts[0].Name || got.Repository != repo {
		t.Errorf("GetArtifact = %+v, want %+v", got, arts[0])
	}

	content := bytes.Repeat([]byte("zip!"), 10_000)
	f.sim.SetContent(repo, id, content)
	var buf bytes.Buffer
	res, err := f.c.DownloadArtifact(t.Context(), repo, id, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DownloadResult{Bytes: int64(len(content)), SHA256: sha(content)}, res); diff != "" {
		t.Errorf("download (-want +got):\n%s", diff)
	}
	if !bytes.Equal(buf.Bytes(), content) {
		t.Error("downloaded bytes differ")
	}
	if n := f.sim.Requests()[githubsim.BlobWithAuthorization]; n != 0 {
		t.Errorf("%d blob requests carried Authorization", n)
	}

	f.sim.SetExpired(repo, arts[1].ID, true)
	if _, err := f.c.DownloadArtifact(t.Context(), repo, arts[1].ID, &bytes.Buffer{}); !errors.Is(err, ErrExpired) {
		t.Errorf("download of an expired artifact: %v, want ErrExpired", err)
	}

	if err := f.c.DeleteArtifact(t.Context(), repo, id); err != nil {
		t.Fatal(err)
	}
	if f.sim.Exists(repo, id) {
		t.Error("artifact still exists after DeleteArtifact")
	}
	if err := f.c.DeleteArtifact(t.Context(), repo, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := f.c.GetArtifact(t.Context(), repo, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
}

func TestSimListRunArtifacts(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{})
	repo := artifact.Repository(f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 200, Now: t0})[0])
	var runID int64
	var want []int64
	for _, a := range f.sim.Artifacts(repo) {
		if a.WorkflowRunID != 0 && (runID == 0 || a.WorkflowRunID == runID) {
			runID = a.WorkflowRunID
			want = append(want, a.ID)
		}
	}
	slices.SortFunc(want, func(a, b int64) int { return int(b - a) })
	var got collect
	if _, err := f.c.ListRunArtifacts(t.Context(), repo, runID, got.fn); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.ids); diff != "" {
		t.Errorf("run %d artifacts (-want +got):\n%s", runID, diff)
	}
}

func TestSimBadToken(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{Token: "the-right-token"})
	repo := artifact.Repository(f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 1, Now: t0})[0])
	_, err := f.c.ListArtifacts(t.Context(), repo, func([]artifact.Artifact) error { return nil })
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("err = %v, want ErrUnauthorized", err)
	}
	if _, err := f.c.ListArtifacts(t.Context(), "acme/nope", func([]artifact.Artifact) error { return nil }); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("err = %v, want ErrUnauthorized before anything else", err)
	}
}

// TestSimConcurrencyUnderSecondaryLimit: with the simulator refusing more
// than two requests in flight, a client capped at two never trips it.
func TestSimConcurrencyUnderSecondaryLimit(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t, githubsim.Options{SecondaryLimits: true, MaxConcurrent: 2}, func(c *Config) { c.Concurrency = 2 })
	repo := artifact.Repository(f.sim.Generate(githubsim.GenerateOptions{ArtifactsPerRepository: 20, Now: t0})[0])
	arts := f.sim.Artifacts(repo)
	var wg sync.WaitGroup
	errs := make(chan error, len(arts))
	for _, a := range arts {
		wg.Go(func() {
			_, err := f.c.GetArtifact(t.Context(), repo, a.ID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if len(f.clock.Sleeps()) != 0 {
		t.Errorf("hit a secondary limit: slept %v", f.clock.Sleeps())
	}
}
