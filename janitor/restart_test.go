package janitor_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/janitor"
)

// hookClock is a fake clock that tells the test of every wait before it
// passes, so a test can bring the database back during a retry's pause.
type hookClock struct {
	*clock.Fake
	mu      sync.Mutex
	onSleep func(time.Duration)
}

func (c *hookClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	hook := c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return c.Fake.Sleep(ctx, d)
}

// restartWorld is w with a store that reaches PostgreSQL through a proxy
// the test can take down, retrying for a minute on a hook clock.
func restartWorld(t *testing.T, w *world) (*pgtest.Proxy, *store.Store, *hookClock) {
	t.Helper()
	proxy, url := pgtest.NewProxy(t, w.DBURL)
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	hc := &hookClock{Fake: clock.NewFake(testbed.Epoch)}
	st.SetRetry(hc, time.Minute)
	return proxy, st, hc
}

// TestDatabaseRestartMidRunLosesNothing: PostgreSQL goes away just as a
// DELETE is sent and comes back a moment later; the outcome is written when
// it is back and the run goes on to the end.
func TestDatabaseRestartMidRunLosesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 5, testbed.Options{})
	proxy, st, hc := restartWorld(t, w)
	var deletes int
	var mu sync.Mutex
	w.Sim.OnRequest(func(route string, r *http.Request) {
		if route != githubsim.RouteDelete {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if deletes++; deletes == 2 {
			proxy.Down() // the restart begins while GitHub deletes
		}
	})
	var waits int
	hc.onSleep = func(time.Duration) {
		waits++
		if waits == 2 {
			proxy.Up() // back after the second pause
		}
	}
	j := janitor.New(w.Client, st, janitor.Config{MaxDeletions: 10, Clock: w.Clock, Logger: w.Logger})
	rep, err := j.Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatalf("the run stopped at the restart: %v", err)
	}
	if rep.Deleted != 5 {
		t.Fatalf("report %+v", rep)
	}
	if waits < 2 {
		t.Errorf("the store waited %d times; the outage should have cost two pauses", waits)
	}
	for id, o := range w.outcomes(t) {
		if o != store.OutcomeDeleted {
			t.Errorf("artifact %d: %s", id, o)
		}
	}
}

// TestDatabaseOutageLongerThanTheRetryLeavesTheIntentPending: when the
// database stays away past DATABASE_RETRY_FOR, the run stops, the intent
// stays pending, and the next start resolves it: nothing is lost.
func TestDatabaseOutageLongerThanTheRetryLeavesTheIntentPending(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, testbed.Options{})
	proxy, st, hc := restartWorld(t, w)
	w.Sim.OnRequest(func(route string, r *http.Request) {
		if route == githubsim.RouteDelete {
			proxy.Down()
		}
	})
	var waited time.Duration
	hc.onSleep = func(d time.Duration) { waited += d }
	j := janitor.New(w.Client, st, janitor.Config{MaxDeletions: 10, Clock: w.Clock, Logger: w.Logger})
	_, err := j.Execute(context.Background(), w.runID, w.items)
	if err == nil {
		t.Fatal("the run went on with the database gone")
	}
	if waited < 55*time.Second || waited > time.Minute {
		t.Errorf("retried for %s, want about DATABASE_RETRY_FOR (1m)", waited)
	}
	if n := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]; n != 1 {
		t.Errorf("%d DELETEs; the janitor must stop at the first outcome it cannot record", n)
	}
	proxy.Up()
	pending, err := w.Store.PendingAudit(context.Background())
	if err != nil || len(pending) != 1 || pending[0].ArtifactID != w.items[len(w.items)-1].Artifact.ID {
		t.Fatalf("pending after the outage: %+v, %v", pending, err)
	}
	rec, err := w.janitor(janitor.Config{}).Reconcile(context.Background())
	if err != nil || rec.Deleted != 1 {
		t.Fatalf("reconcile: %+v, %v", rec, err)
	}
}
