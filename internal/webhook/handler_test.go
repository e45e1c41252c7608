package webhook_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/internal/webhook"
	"github.com/retentiond/retentiond/scanner"

	"github.com/retentiond/retentiond/internal/artifact"
)

func TestValidSignatureScansTheRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, webhook.Config{})
	byRun := f.addRuns(3, 501, 502)
	// Expired artifacts in the run: a scheduled run might delete them; a
	// webhook must only record them.
	f.bed.Sim.SetExpired(repo, byRun[501][0], true)

	status, body := f.post(t, completed(t, "guid-1", 501))
	if status != http.StatusAccepted {
		t.Fatalf("status %d (%s), want 202", status, body)
	}
	f.h.Wait()

	want := slices.Clone(byRun[501])
	slices.Sort(want)
	if diff := cmp.Diff(want, f.liveIDs(t)); diff != "" {
		t.Errorf("artifacts recorded (-want +got): only run 501's\n%s", diff)
	}
	sc, err := f.bed.Store.LatestScan(context.Background(), repo, store.ScanKindWorkflowRun)
	if err != nil {
		t.Fatal(err)
	}
	if sc.WorkflowRunID != 501 || sc.Status != store.ScanComplete || sc.Counts.New != 3 {
		t.Errorf("scan = %+v, want a complete workflow_run scan of run 501 with 3 new artifacts", sc)
	}
	if n := f.count(t, `SELECT count(*) FROM scans WHERE kind <> 'workflow_run'`); n != 0 {
		t.Errorf("%d repository scans, want none", n)
	}
	wantDelivery := store.WebhookDelivery{
		ID: "guid-1", Event: "workflow_run", Action: "completed", Repository: repo, WorkflowRunID: 501,
		ReceivedAt: testbed.Epoch, ProcessedAt: testbed.Epoch, Status: store.DeliveryScanned, ScanID: sc.ID,
	}
	if diff := cmp.Diff(wantDelivery, f.delivery(t, "guid-1")); diff != "" {
		t.Errorf("delivery (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"GET list_run": 1}, f.bed.Sim.Requests()); diff != "" {
		t.Errorf("simulator requests (-want +got):\n%s", diff)
	}
	f.assertNothingDeleted(t)
}

func TestReplayedDeliveryScansNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, webhook.Config{})
	f.addRuns(2, 501)
	d := completed(t, "guid-replayed", 501)
	if status, body := f.post(t, d); status != http.StatusAccepted {
		t.Fatalf("first delivery: status %d (%s), want 202", status, body)
	}
	f.h.Wait()
	before := f.bed.Sim.Requests()

	status, body := f.post(t, d)
	f.h.Wait()
	if status != http.StatusOK || !strings.Contains(body, "already processed") {
		t.Errorf("replay: status %d (%s), want 200 already processed", status, body)
	}
	if diff := cmp.Diff(before, f.bed.Sim.Requests()); diff != "" {
		t.Errorf("the replay reached GitHub (-before +after):\n%s", diff)
	}
	if n := f.count(t, `SELECT count(*) FROM scans`); n != 1 {
		t.Errorf("%d scans, want 1", n)
	}
	if got := f.delivery(t, "guid-replayed").Status; got != store.DeliveryScanned {
		t.Errorf("delivery status %s, want scanned", got)
	}
	f.assertNothingDeleted(t)
}

// GitHub keeps the delivery id when someone redelivers a failed delivery;
// that must scan again rather than be refused as a replay.
func TestRedeliveryOfAFailedScanScansAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t, webhook.Config{})
	d := completed(t, "guid-retry", 777) // the simulator knows no run 777: 404
	if status, body := f.post(t, d); status != http.StatusAccepted {
		t.Fatalf("status %d (%s), want 202", status, body)
	}
	f.h.Wait()
	first := f.delivery(t, "guid-retry")
	if first.Status != store.DeliveryFailed || !strings.Contains(first.Error, "404") {
		t.Fatalf("delivery = %+v, want failed with the 404", first)
	}

	ids := f.addRuns(1, 777)[777]
	if status, body := f.post(t, d); status != http.StatusAccepted {
		t.Fatalf("redelivery: status %d (%s), want 202", status, body)
	}
	f.h.Wait()
	if got := f.delivery(t, "guid-retry"); got.Status != store.DeliveryScanned || got.Error != "" || got.ScanID == first.ScanID {
		t.Errorf("after redelivery: %+v, want scanned by a new scan", got)
	}
	if diff := cmp.Diff(ids, f.liveIDs(t)); diff != "" {
		t.Errorf("artifacts (-want +got):\n%s", diff)
	}
	f.assertNothingDeleted(t)
}

func TestRejectedDeliveries(t *testing.T) {
	t.Parallel()
	valid := runPayload(t, "completed", payloadRepo, 501)
	huge := append(bytes.Repeat([]byte(" "), int(webhook.DefaultMaxBodyBytes)), valid...)
	tests := []struct {
		name       string
		d          delivery
		wantStatus int
		wantBody   string
	}{
		{
			name:       "bad signature",
			d:          delivery{id: "g", event: "workflow_run", body: valid, signature: webhook.Sign("not-the-secret", valid)},
			wantStatus: http.StatusUnauthorized, wantBody: "does not match",
		},
		{
			name:       "signature of another body",
			d:          delivery{id: "g", event: "workflow_run", body: valid, signature: webhook.Sign(secret, runPayload(t, "completed", payloadRepo, 502))},
			wantStatus: http.StatusUnauthorized, wantBody: "does not match",
		},
		{
			name:       "missing signature",
			d:          delivery{id: "g", event: "workflow_run", body: valid, signature: "-"},
			wantStatus: http.StatusUnauthorized, wantBody: "missing X-Hub-Signature-256",
		},
		{
			name:       "SHA-1 signature",
			d:          delivery{id: "g", event: "workflow_run", body: valid, signature: "sha1=" + hexMAC(sha1.New, secret, valid)},
			wantStatus: http.StatusUnauthorized, wantBody: "does not match",
		},
		{
			name:       "malformed signature",
			d:          delivery{id: "g", event: "workflow_run", body: valid, signature: "sha256=xyz"},
			wantStatus: http.StatusUnauthorized, wantBody: "does not match",
		},
		{
			name:       "huge body",
			d:          delivery{id: "g", event: "workflow_run", body: huge},
			wantStatus: http.StatusRequestEntityTooLarge, wantBody: "larger than 1048576 bytes",
		},
		{
			name:       "huge body without a length",
			d:          delivery{id: "g", event: "workflow_run", body: huge, chunked: true},
			wantStatus: http.StatusRequestEntityTooLarge, wantBody: "larger than 1048576 bytes",
		},
		{
			name:       "malformed JSON",
			d:          delivery{id: "g", event: "workflow_run", body: valid[:len(valid)-1]},
			wantStatus: http.StatusBadRequest, wantBody: "malformed workflow_run payload",
		},
		{
			name:       "no run id",
			d:          delivery{id: "g", event: "workflow_run", body: []byte(`{"action":"completed","repository":{"full_name":"Acme/API"}}`)},
			wantStatus: http.StatusBadRequest, wantBody: "no workflow_run.id",
		},
		{
			name:       "no delivery id",
			d:          delivery{event: "workflow_run", body: valid},
			wantStatus: http.StatusBadRequest, wantBody: "X-GitHub-Delivery",
		},
		{
			name:       "form-encoded",
			d:          delivery{id: "g", event: "workflow_run", body: []byte("payload=%7B%7D"), contentType: "application/x-www-form-urlencoded"},
			wantStatus: http.StatusUnsupportedMediaType, wantBody: "application/json",
		},
		{
			name:       "GET",
			d:          delivery{id: "g", event: "workflow_run", method: http.MethodGet},
			wantStatus: http.StatusMethodNotAllowed, wantBody: "only POST",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, webhook.Config{})
			f.addRuns(1, 501)
			status, body := f.post(t, tc.d)
			f.h.Wait()
			if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Errorf("got %d %q, want %d mentioning %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if n := f.bed.Sim.TotalRequests(); n != 0 {
				t.Errorf("%d requests reached the simulator, want none", n)
			}
			if n := f.count(t, `SELECT count(*) FROM webhook_deliveries`) + f.count(t, `SELECT count(*) FROM scans`); n != 0 {
				t.Errorf("%d deliveries and scans recorded, want none", n)
			}
			f.assertNothingDeleted(t)
		})
	}
}

func TestIgnoredDeliveries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		d          delivery
		wantStatus int
		wantBody   string
		// wantReason is the recorded reason; "" means nothing is recorded.
		wantReason string
	}{
		{
			name:       "ping",
			d:          delivery{id: "g", event: "ping", body: []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)},
			wantStatus: http.StatusOK, wantBody: "pong",
		},
		{
			name:       "other event",
			d:          delivery{id: "g", event: "push", body: []byte(`{"ref":"refs/heads/main"}`)},
			wantStatus: http.StatusAccepted, wantBody: `not "push"`,
		},
		{
			name:       "unknown repository",
			d:          delivery{id: "g", event: "workflow_run", body: runPayload(t, "completed", "Acme/Other", 501)},
			wantStatus: http.StatusAccepted, wantBody: "not in the policy", wantReason: "repository is not in the policy",
		},
		{
			name:       "requested",
			d:          delivery{id: "g", event: "workflow_run", body: runPayload(t, "requested", payloadRepo, 501)},
			wantStatus: http.StatusAccepted, wantBody: "not completed", wantReason: `action "requested" is not completed`,
		},
		{
			name:       "in_progress",
			d:          delivery{id: "g", event: "workflow_run", body: runPayload(t, "in_progress", payloadRepo, 501)},
			wantStatus: http.StatusAccepted, wantBody: "not completed", wantReason: `action "in_progress" is not completed`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, webhook.Config{})
			f.addRuns(1, 501)
			status, body := f.post(t, tc.d)
			f.h.Wait()
			if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Errorf("got %d %q, want %d mentioning %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if n := f.bed.Sim.TotalRequests(); n != 0 {
				t.Errorf("%d requests reached the simulator, want none", n)
			}
			if n := f.count(t, `SELECT count(*) FROM scans`); n != 0 {
				t.Errorf("%d scans, want none", n)
			}
			d, err := f.bed.Store.Delivery(context.Background(), "g")
			switch {
			case tc.wantReason == "" && !errors.Is(err, store.ErrNotFound):
				t.Errorf("delivery recorded (%+v, %v), want none", d, err)
			case tc.wantReason != "" && (err != nil || d.Status != store.DeliveryIgnored || d.Error != tc.wantReason):
				t.Errorf("delivery = %+v (%v), want ignored: %s", d, err, tc.wantReason)
			}
			f.assertNothingDeleted(t)
		})
	}
}

// blockingScanner holds every scan until release is closed or its context
// ends, so a test can fill the queue or stop the workers mid-scan.
type blockingScanner struct {
	started chan int64 // receives each run id as its scan starts
	release chan struct{}
}

func newBlockingScanner() *blockingScanner {
	return &blockingScanner{started: make(chan int64, 100), release: make(chan struct{})}
}

func (s *blockingScanner) ScanWorkflowRun(ctx context.Context, repo artifact.Repository, runID int64) scanner.RepoResult {
	s.started <- runID
	select {
	case <-s.release:
		return scanner.RepoResult{Repository: repo, Status: store.ScanComplete}
	case <-ctx.Done():
		return scanner.RepoResult{Repository: repo, Status: store.ScanFailed, Err: ctx.Err()}
	}
}

func TestFullQueueAnswers503WithoutRecording(t *testing.T) {
	t.Parallel()
	sc := newBlockingScanner()
	f := newFixture(t, webhook.Config{Scanner: sc, QueueSize: 2})
	for i, id := range []string{"a", "b"} {
		if status, body := f.post(t, completed(t, id, int64(600+i))); status != http.StatusAccepted {
			t.Fatalf("%s: status %d (%s), want 202", id, status, body)
		}
	}
	<-sc.started // one scan in flight, one queued: the queue is full

	status, body := f.post(t, completed(t, "c", 602))
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "redeliver later") {
		t.Errorf("third delivery: %d %q, want 503", status, body)
	}
	if _, err := f.bed.Store.Delivery(context.Background(), "c"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused delivery was recorded (%v); its redelivery would be refused as a replay", err)
	}

	close(sc.release)
	f.h.Wait()
	if status, body := f.post(t, completed(t, "c", 602)); status != http.StatusAccepted {
		t.Errorf("redelivery once the queue drained: %d %q, want 202", status, body)
	}
	f.h.Wait()
	for _, id := range []string{"a", "b", "c"} {
		if got := f.delivery(t, id).Status; got != store.DeliveryScanned {
			t.Errorf("delivery %s: %s, want scanned", id, got)
		}
	}
}

func TestStoppingRecordsUnscannedDeliveriesFailed(t *testing.T) {
	t.Parallel()
	sc := newBlockingScanner()
	f := newFixture(t, webhook.Config{Scanner: sc, QueueSize: 10})
	for i, id := range []string{"in-flight", "queued"} {
		if status, body := f.post(t, completed(t, id, int64(600+i))); status != http.StatusAccepted {
			t.Fatalf("%s: status %d (%s), want 202", id, status, body)
		}
	}
	<-sc.started

	f.stop()
	f.h.Wait()
	for id, want := range map[string]string{"in-flight": "context canceled", "queued": "redeliver it from GitHub"} {
		if d := f.delivery(t, id); d.Status != store.DeliveryFailed || !strings.Contains(d.Error, want) || d.ProcessedAt.IsZero() {
			t.Errorf("delivery %s = %+v, want failed mentioning %q", id, d, want)
		}
	}

	status, body := f.post(t, completed(t, "late", 602))
	if status != http.StatusServiceUnavailable {
		t.Errorf("delivery after stopping: %d %q, want 503", status, body)
	}
	if _, err := f.bed.Store.Delivery(context.Background(), "late"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a delivery refused while stopping was recorded: %v", err)
	}
}

func TestNotStartedAnswers503(t *testing.T) {
	t.Parallel()
	b := testbed.New(t, testbed.Options{})
	h := webhook.New(webhook.Config{Secret: secret, Repositories: []artifact.Repository{repo}, Scanner: newBlockingScanner(), Deliveries: b.Store, Clock: b.Clock})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f := &fixture{bed: b, h: h, url: srv.URL}
	if status, body := f.post(t, completed(t, "g", 1)); status != http.StatusServiceUnavailable {
		t.Errorf("got %d %q, want 503", status, body)
	}
}
