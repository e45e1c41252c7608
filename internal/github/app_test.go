package github

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/githubsim"
)

const testAppID = 31337

// testAppKey is made once per test binary (slow under the race detector);
// no private key is ever committed.
var testAppKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// appFixture is a Client authenticated as a GitHub App against the
// simulator, where the App is installed on acme and globex.
type appFixture struct {
	sim    *githubsim.Server
	srv    *httptest.Server
	clock  *clock.Fake
	c      *Client
	logs   *syncBuffer
	insts  map[string]int64
	handle http.Handler // what the server serves: the simulator, unless a test wraps it
}

func newAppFixture(t *testing.T, wrap func(http.Handler) http.Handler, mod ...func(*Config)) *appFixture {
	t.Helper()
	fake := clock.NewFake(t0)
	sim := githubsim.New(githubsim.Options{Token: testToken, Clock: fake})
	sim.RegisterApp(testAppID, &testAppKey().PublicKey)
	f := &appFixture{sim: sim, clock: fake, logs: &syncBuffer{}, insts: map[string]int64{
		"acme":   sim.AddInstallation(testAppID, "acme"),
		"globex": sim.AddInstallation(testAppID, "Globex"),
	}}
	f.handle = sim
	if wrap != nil {
		f.handle = wrap(sim)
	}
	f.srv = httptest.NewServer(f.handle)
	t.Cleanup(f.srv.Close)
	cfg := Config{
		BaseURL:    f.srv.URL,
		App:        &AppConfig{ID: testAppID, PrivateKey: testAppKey()},
		Clock:      fake,
		HTTPClient: f.srv.Client(),
		Logger:     slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.retry.jitter = func(d time.Duration) time.Duration { return d }
	f.c = c
	return f
}

func (f *appFixture) list(t *testing.T, repo artifact.Repository, between func(page int)) ([]artifact.Artifact, error) {
	t.Helper()
	var all []artifact.Artifact
	page := 0
	_, err := f.c.ListArtifacts(t.Context(), repo, func(p []artifact.Artifact) error {
		page++
		all = append(all, p...)
		if between != nil {
			between(page)
		}
		return nil
	})
	return all, err
}

func (f *appFixture) remaining(id int64) int {
	_, r, _ := f.sim.InstallationRateLimit(id)
	return r
}

// TestAppTokenFlow: the client finds each owner's installation with one
// GET /app/installations, gets one token per installation, and spends each
// installation's own budget; the personal-token budget is not touched.
func TestAppTokenFlow(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "/api/v3"} {
		t.Run("base "+base, func(t *testing.T) {
			t.Parallel()
			f := newAppFixture(t, nil, func(c *Config) { c.BaseURL += base })
			acme := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 250, Now: t0})[0]
			globex := f.sim.Generate(githubsim.GenerateOptions{Owner: "globex", ArtifactsPerRepository: 50, Now: t0})[0]
			for _, repo := range []artifact.Repository{acme, globex, acme} {
				got, err := f.list(t, repo, nil)
				if err != nil || len(got) != len(f.sim.Artifacts(repo)) {
					t.Fatalf("listing %s: %d artifacts, %v", repo, len(got), err)
				}
			}
			reqs := f.sim.Requests()
			if reqs["GET app_installations"] != 1 || reqs["POST access_tokens"] != 2 {
				t.Errorf("requests %v, want one installation listing and one token per installation", reqs)
			}
			if n := f.sim.TokensIssued(f.insts["acme"]); n != 1 {
				t.Errorf("acme got %d tokens, want 1 reused for both listings", n)
			}
			if a, g := f.remaining(f.insts["acme"]), f.remaining(f.insts["globex"]); a != 5000-6 || g != 5000-1 {
				t.Errorf("remaining: acme %d, globex %d; want 4994 and 4999", a, g)
			}
			if _, r, _ := f.sim.RateLimit(); r != 5000 {
				t.Errorf("the personal token's budget has %d left, want 5000", r)
			}
			want := []BudgetState{
				{Name: strconv.FormatInt(f.insts["acme"], 10), RateState: RateState{Limit: 5000, Remaining: 4994, Reset: t0.Add(time.Hour), Known: true}},
				{Name: strconv.FormatInt(f.insts["globex"], 10), RateState: RateState{Limit: 5000, Remaining: 4999, Reset: t0.Add(time.Hour), Known: true}},
			}
			if diff := cmp.Diff(want, f.c.Budgets()); diff != "" {
				t.Errorf("Budgets() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAppFixedInstallation: with GITHUB_APP_INSTALLATION_ID the client never
// lists installations.
func TestAppFixedInstallation(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, nil, func(c *Config) { c.App.InstallationID = 70_000_001 })
	repo := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 10, Now: t0})[0]
	if _, err := f.list(t, repo, nil); err != nil {
		t.Fatal(err)
	}
	if reqs := f.sim.Requests(); reqs["GET app_installations"] != 0 || reqs["POST access_tokens"] != 1 {
		t.Errorf("requests %v, want no listing and one token", reqs)
	}
}

// TestAppTokenRefreshMidScan: a long scan outlives its token. The client
// replaces it before it expires, between two pages, and the scan completes
// without a single refused request.
func TestAppTokenRefreshMidScan(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, nil)
	repo := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 450, Now: t0})[0]
	got, err := f.list(t, repo, func(page int) {
		if page == 2 {
			f.clock.Advance(56 * time.Minute) // the token has 4 minutes left
		}
	})
	if err != nil || len(got) != 450 {
		t.Fatalf("listing: %d artifacts, %v", len(got), err)
	}
	if n := f.sim.TokensIssued(f.insts["acme"]); n != 2 {
		t.Errorf("acme got %d tokens, want 2", n)
	}
	if n := f.sim.Requests()["GET list"]; n != 5 {
		t.Errorf("%d list requests, want 5 (none refused)", n)
	}
}

// TestAppExpiredTokenRefreshed: the simulator's clock passes the token's
// expiry while a request is on its way, so GitHub answers 401. The client
// gets a new token and sends that request again, once; the scan completes.
func TestAppExpiredTokenRefreshed(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, nil)
	repo := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 450, Now: t0})[0]
	lists := 0
	f.sim.OnRequest(func(route string, _ *http.Request) {
		if route == githubsim.RouteList {
			if lists++; lists == 3 {
				f.clock.Advance(61 * time.Minute)
			}
		}
	})
	got, err := f.list(t, repo, nil)
	if err != nil || len(got) != 450 {
		t.Fatalf("listing: %d artifacts, %v", len(got), err)
	}
	if n := f.sim.TokensIssued(f.insts["acme"]); n != 2 {
		t.Errorf("acme got %d tokens, want 2", n)
	}
	if lists != 6 {
		t.Errorf("%d list requests, want 6: five pages, one of them twice", lists)
	}
	if !strings.Contains(f.logs.String(), "GitHub refused the token; retrying once with a fresh one") {
		t.Errorf("the refusal was not logged:\n%s", f.logs)
	}

	// A token GitHub keeps refusing is not retried for ever.
	f.sim.OnRequest(func(route string, r *http.Request) {
		if route == githubsim.RouteGet {
			r.Header.Set("Authorization", "Bearer ghs_revoked")
		}
	})
	_, err = f.c.GetArtifact(t.Context(), repo, got[0].ID)
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("GetArtifact with a token refused twice = %v, want ErrUnauthorized", err)
	}
}

// TestAppOwnerWithoutInstallation: a repository of an owner the App is not
// installed on fails with a clear error, the others carry on, and an App
// installed later is found once the listing is old enough to be asked again.
func TestAppOwnerWithoutInstallation(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, nil)
	acme := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 10, Now: t0})[0]
	initech := f.sim.Generate(githubsim.GenerateOptions{Owner: "initech", ArtifactsPerRepository: 10, Now: t0})[0]

	_, err := f.list(t, initech, nil)
	if !errors.Is(err, ErrNoInstallation) || !strings.Contains(err.Error(), "not installed on initech") || !strings.Contains(err.Error(), "acme, Globex") {
		t.Errorf("listing %s = %v; want ErrNoInstallation naming initech and where the App is installed", initech, err)
	}
	if _, err := f.list(t, acme, nil); err != nil {
		t.Errorf("listing %s after the failure: %v", acme, err)
	}
	if _, err := f.list(t, initech, nil); !errors.Is(err, ErrNoInstallation) {
		t.Errorf("listing %s again = %v, want ErrNoInstallation", initech, err)
	}
	if n := f.sim.Requests()["GET app_installations"]; n != 1 {
		t.Errorf("%d installation listings, want 1: a miss is not listed again at once", n)
	}

	inst := f.sim.AddInstallation(testAppID, "initech")
	f.clock.Advance(relistEvery)
	if _, err := f.list(t, initech, nil); err != nil {
		t.Errorf("listing %s once installed: %v", initech, err)
	}
	if f.remaining(inst) != 4999 {
		t.Errorf("initech's installation has %d left, want 4999", f.remaining(inst))
	}
}

// TestAppPerBudgetWaits: one exhausted installation makes its own requests
// wait for its reset, or fail at once when that is too far off; requests for
// another installation go on without waiting.
func TestAppPerBudgetWaits(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, nil, func(c *Config) { c.MaxWait = 20 * time.Minute })
	acme := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 150, Now: t0})[0]
	globex := f.sim.Generate(githubsim.GenerateOptions{Owner: "globex", ArtifactsPerRepository: 150, Now: t0})[0]
	acmeBudget, globexBudget := strconv.FormatInt(f.insts["acme"], 10), strconv.FormatInt(f.insts["globex"], 10)

	// acme has one request left until 30 minutes from now: page 1 is
	// listed, page 2 cannot wait that long, and the next listing of acme
	// fails before anything is sent.
	f.sim.SetInstallationRateLimit(f.insts["acme"], 1, t0.Add(30*time.Minute))
	if _, err := f.list(t, acme, nil); !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "budget "+acmeBudget) {
		t.Fatalf("listing %s = %v, want ErrRateLimited naming budget %s", acme, err, acmeBudget)
	}
	sent := f.sim.Requests()["GET list"]
	if _, err := f.list(t, acme, nil); !errors.Is(err, ErrRateLimited) {
		t.Errorf("listing %s again = %v, want ErrRateLimited", acme, err)
	}
	if n := f.sim.Requests()["GET list"]; n != sent {
		t.Errorf("%d requests sent on an exhausted budget, want none", n-sent)
	}
	if got, err := f.list(t, globex, nil); err != nil || len(got) != 150 {
		t.Errorf("listing %s while acme is exhausted: %d artifacts, %v", globex, len(got), err)
	}
	if s := f.clock.Sleeps(); len(s) != 0 {
		t.Errorf("slept %v, want no waits", s)
	}

	// Within the max wait, acme's request waits for acme's reset.
	f.clock.Advance(15 * time.Minute)
	if got, err := f.list(t, acme, nil); err != nil || len(got) != 150 {
		t.Errorf("listing %s within the max wait: %d artifacts, %v", acme, len(got), err)
	}
	if diff := cmp.Diff([]time.Duration{15*time.Minute + time.Second}, f.clock.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
	for _, line := range strings.Split(f.logs.String(), "\n") {
		if strings.Contains(line, "waiting before retrying") && !strings.Contains(line, "budget="+acmeBudget) {
			t.Errorf("a wait of another budget than acme's: %s", line)
		}
	}

	for owner, want := range map[string]string{"acme": acmeBudget, "globex": globexBudget} {
		b, err := f.c.Budget(t.Context(), owner)
		if err != nil || b.Name != want || b.Limit != 5000 {
			t.Errorf("Budget(%s) = %+v, %v; want budget %s of 5000", owner, b, err, want)
		}
	}
}

// TestBudgetFromRateLimit: Budget answers from the latest headers while they
// are current, and otherwise asks GET /rate_limit, which costs nothing.
func TestBudgetFromRateLimit(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, nil)
	b, err := f.c.Budget(t.Context(), "Globex")
	want := Budget{Name: strconv.FormatInt(f.insts["globex"], 10), Limit: 5000, Remaining: 5000, Reset: t0.Add(time.Hour)}
	if err != nil || b != want {
		t.Errorf("Budget(Globex) = %+v, %v; want %+v", b, err, want)
	}
	if n := f.sim.Requests()["GET rate_limit"]; n != 1 {
		t.Errorf("%d rate_limit requests, want 1", n)
	}
	if _, err := f.c.Budget(t.Context(), "globex"); err != nil || f.sim.Requests()["GET rate_limit"] != 1 {
		t.Errorf("a current budget asked GET /rate_limit again (%v)", err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.c.Budget(t.Context(), "globex"); err != nil || f.sim.Requests()["GET rate_limit"] != 2 {
		t.Errorf("a budget past its reset was not asked again (%v)", err)
	}
	if _, err := f.c.Budget(t.Context(), "initech"); !errors.Is(err, ErrNoInstallation) {
		t.Errorf("Budget(initech) = %v, want ErrNoInstallation", err)
	}

	// With a token there is one budget, whatever the owner.
	s := newSimFixture(t, githubsim.Options{})
	b, err = s.c.Budget(t.Context(), "")
	if err != nil || b.Name != "token" || b.Remaining != 5000 {
		t.Errorf("token Budget = %+v, %v", b, err)
	}
}

// TestListInstallationRepositories: every repository of the owner's
// installation, paged, with archived flags, and only that owner's.
func TestListInstallationRepositories(t *testing.T) {
	t.Parallel()
	f := newAppFixture(t, nil)
	repos := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", Repositories: 130, ArtifactsPerRepository: 1, Now: t0})
	f.sim.Generate(githubsim.GenerateOptions{Owner: "globex", Repositories: 2, ArtifactsPerRepository: 1, Now: t0})
	f.sim.SetArchived("acme/repo-007", true)
	got, err := f.c.ListInstallationRepositories(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 130 {
		t.Fatalf("%d repositories, want 130", len(got))
	}
	for i, r := range got {
		id, _ := f.sim.RepositoryID(repos[i])
		if r.FullName != repos[i] || r.ID != id || r.Archived != (r.FullName == "acme/repo-007") {
			t.Errorf("repository %d = %+v, want %s (id %d)", i, r, repos[i], id)
		}
	}
	if n := f.sim.Requests()["GET installation_repositories"]; n != 2 {
		t.Errorf("%d requests, want 2 pages", n)
	}
	if got, err := f.c.ListInstallationRepositories(t.Context(), "globex"); err != nil || len(got) != 2 {
		t.Errorf("globex: %d repositories, %v; want 2", len(got), err)
	}
}

// gateClock is a fake clock whose Sleep blocks until the test lets it go,
// so a test can act while a request is waiting.
type gateClock struct {
	*clock.Fake
	waiting chan time.Duration
	release chan struct{}
}

func (g *gateClock) Sleep(ctx context.Context, d time.Duration) error {
	g.waiting <- d
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Fake.Sleep(ctx, d)
}

// TestAppExhaustedBudgetDoesNotStallOthers: while one installation's
// request waits for its reset, another installation's requests are sent and
// answered, even with a single request slot: a wait holds none.
func TestAppExhaustedBudgetDoesNotStallOthers(t *testing.T) {
	t.Parallel()
	var gate *gateClock
	f := newAppFixture(t, nil, func(c *Config) {
		gate = &gateClock{Fake: c.Clock.(*clock.Fake), waiting: make(chan time.Duration), release: make(chan struct{})}
		c.Clock, c.Concurrency = gate, 1
	})
	acme := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 150, Now: t0})[0]
	globex := f.sim.Generate(githubsim.GenerateOptions{Owner: "globex", ArtifactsPerRepository: 250, Now: t0})[0]
	f.sim.SetInstallationRateLimit(f.insts["acme"], 0, t0.Add(10*time.Minute))

	done := make(chan error, 1)
	go func() {
		got, err := f.list(t, acme, nil)
		if err == nil && len(got) != 150 {
			err = fmt.Errorf("%d artifacts, want 150", len(got))
		}
		done <- err
	}()
	if d := <-gate.waiting; d != 10*time.Minute+time.Second {
		t.Errorf("acme waits %s, want until its reset", d)
	}
	// acme's request is waiting now; globex's go through meanwhile.
	if got, err := f.list(t, globex, nil); err != nil || len(got) != 250 {
		t.Fatalf("listing %s while acme waits: %d artifacts, %v", globex, len(got), err)
	}
	select {
	case err := <-done:
		t.Fatalf("acme's listing ended before its reset: %v", err)
	default:
	}
	close(gate.release)
	if err := <-done; err != nil {
		t.Errorf("listing %s after the reset: %v", acme, err)
	}
}

// TestAppWrongKey: a key that is not the App's is refused by GitHub; the
// scan fails at once with GitHub's reason, without retries.
func TestAppWrongKey(t *testing.T) {
	t.Parallel()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := newAppFixture(t, nil, func(c *Config) { c.App.PrivateKey = other })
	repo := f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 5, Now: t0})[0]
	_, err = f.list(t, repo, nil)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "A JSON web token could not be decoded") {
		t.Errorf("listing with the wrong key = %v, want GitHub's 401 for the JWT", err)
	}
	if reqs := f.sim.Requests(); reqs["GET app_installations"] != 1 || len(f.clock.Sleeps()) != 0 {
		t.Errorf("requests %v, sleeps %v; want one refused listing and no retries", reqs, f.clock.Sleeps())
	}
	// With a fixed installation the refusal comes from the token request.
	f = newAppFixture(t, nil, func(c *Config) { c.App.PrivateKey, c.App.InstallationID = other, 70_000_001 })
	repo = f.sim.Generate(githubsim.GenerateOptions{Owner: "acme", ArtifactsPerRepository: 5, Now: t0})[0]
	_, err = f.list(t, repo, nil)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "creating a token for installation 70000001") {
		t.Errorf("listing with the wrong key = %v, want the token request's 401", err)
	}
	if reqs := f.sim.Requests(); reqs["POST access_tokens"] != 1 || reqs["GET list"] != 0 {
		t.Errorf("requests %v, want one refused token request and no listing", reqs)
	}
}
