package github

import (
	"bytes"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestConcurrencyLimit holds every request in the handler until the test has
// seen the limit reached and all the others queued in the limiter, so the
// count is exact rather than a matter of timing.
func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	const limit, total = 2, 7
	var inFlight, peak atomic.Int32
	arrived := make(chan struct{}, total)
	release := make(chan struct{})
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		arrived <- struct{}{}
		<-release
		inFlight.Add(-1)
		writeJSON(w, http.StatusOK, ghArtifact(1))
	}), func(c *Config) { c.Concurrency = limit })
	queued := make(chan struct{}, total)
	h.c.limiter.waiting = func() { queued <- struct{}{} }
	// Runs before the server's Close, which would otherwise wait forever for
	// handlers still parked on release after a failed assertion.
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseAll)

	var wg sync.WaitGroup
	errs := make(chan error, total)
	for range total {
		wg.Go(func() {
			_, err := h.c.GetArtifact(t.Context(), "o/r", 1)
			errs <- err
		})
	}
	for nArrived, nQueued := 0, 0; nArrived < limit || nQueued < total-limit; {
		select {
		case <-arrived:
			if nArrived++; nArrived > limit {
				t.Fatalf("request %d reached the server while %d were in flight", nArrived, limit)
			}
		case <-queued:
			nQueued++
		}
	}
	if got := inFlight.Load(); got != limit {
		t.Errorf("in flight with the rest queued = %d, want %d", got, limit)
	}
	releaseAll()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("GetArtifact: %v", err)
		}
	}
	if got := peak.Load(); got != limit {
		t.Errorf("peak in flight = %d, want %d", got, limit)
	}
	if got := h.c.Requests(); got != total {
		t.Errorf("Requests() = %d, want %d", got, total)
	}
}

// TestConcurrencyLimitCountsDownloads: with one slot, an API call waits
// while an archive is still streaming from the blob host.
func TestConcurrencyLimitCountsDownloads(t *testing.T) {
	t.Parallel()
	streaming := make(chan struct{})
	finish := make(chan struct{})
	blob := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "6")
		_, _ = w.Write([]byte("abc"))
		w.(http.Flusher).Flush()
		close(streaming)
		<-finish
		_, _ = w.Write([]byte("def"))
	}))
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/repos/o/r/actions/artifacts/1/zip" {
			http.Redirect(w, r, blob.srv.URL+"/blob", http.StatusFound)
			return
		}
		writeJSON(w, http.StatusOK, ghArtifact(1))
	}), func(c *Config) { c.Concurrency = 1 })
	queued := make(chan struct{}, 1)
	h.c.limiter.waiting = func() { queued <- struct{}{} }
	var finishOnce sync.Once
	finishAll := func() { finishOnce.Do(func() { close(finish) }) }
	t.Cleanup(finishAll)

	var buf bytes.Buffer
	downloaded := make(chan error, 1)
	go func() {
		_, err := h.c.DownloadArtifact(t.Context(), "o/r", 1, &buf)
		downloaded <- err
	}()
	<-streaming
	got := make(chan error, 1)
	go func() {
		_, err := h.c.GetArtifact(t.Context(), "o/r", 1)
		got <- err
	}()
	select {
	case <-queued: // GetArtifact is waiting for the download's slot
	case err := <-got:
		t.Fatalf("GetArtifact finished (%v) while the download held the only slot", err)
	}
	finishAll()
	if err := <-downloaded; err != nil {
		t.Fatalf("DownloadArtifact: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatalf("GetArtifact: %v", err)
	}
	if diff := cmp.Diff("abcdef", buf.String()); diff != "" {
		t.Errorf("archive (-want +got):\n%s", diff)
	}
}
