package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/store"
)

var deliveryEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func queued(id string, at time.Time) store.WebhookDelivery {
	return store.WebhookDelivery{
		ID: id, Event: "workflow_run", Action: "completed", Repository: "acme/api",
		WorkflowRunID: 42, ReceivedAt: at, Status: store.DeliveryQueued,
	}
}

func record(t *testing.T, st *store.Store, d store.WebhookDelivery, retryQueuedBefore time.Time) bool {
	t.Helper()
	fresh, err := st.RecordDelivery(context.Background(), d, retryQueuedBefore)
	if err != nil {
		t.Fatalf("RecordDelivery(%s): %v", d.ID, err)
	}
	return fresh
}

func delivery(t *testing.T, st *store.Store, id string) store.WebhookDelivery {
	t.Helper()
	d, err := st.Delivery(context.Background(), id)
	if err != nil {
		t.Fatalf("Delivery(%s): %v", id, err)
	}
	return d
}

func TestRecordDeliveryIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	later := deliveryEpoch.Add(time.Minute)
	tests := []struct {
		name string
		// before brings the row to the state under test.
		before func(t *testing.T, st *store.Store)
		// again is the second delivery with the same id and the
		// retryQueuedBefore it is recorded with.
		again      store.WebhookDelivery
		retryQueue time.Time
		wantFresh  bool
		want       store.WebhookDelivery
	}{
		{
			name:   "replay of a queued delivery",
			before: func(*testing.T, *store.Store) {},
			again:  queued("d", later), retryQueue: deliveryEpoch,
			wantFresh: false,
			want:      queued("d", deliveryEpoch),
		},
		{
			name: "replay of a scanned delivery",
			before: func(t *testing.T, st *store.Store) {
				if err := st.FinishDelivery(ctx, "d", store.DeliveryOutcome{Status: store.DeliveryScanned, ProcessedAt: later, ScanID: 7}); err != nil {
					t.Fatal(err)
				}
			},
			again: queued("d", later.Add(time.Hour)), retryQueue: later,
			wantFresh: false,
			want: func() store.WebhookDelivery {
				d := queued("d", deliveryEpoch)
				d.Status, d.ProcessedAt, d.ScanID = store.DeliveryScanned, later, 7
				return d
			}(),
		},
		{
			name: "redelivery of a failed delivery is re-armed",
			before: func(t *testing.T, st *store.Store) {
				if err := st.FinishDelivery(ctx, "d", store.DeliveryOutcome{Status: store.DeliveryFailed, ProcessedAt: later, ScanID: 7, Error: "boom"}); err != nil {
					t.Fatal(err)
				}
			},
			again: queued("d", later.Add(time.Hour)), retryQueue: deliveryEpoch,
			wantFresh: true,
			want:      queued("d", later.Add(time.Hour)),
		},
		{
			name:   "a delivery queued before the cut-off is re-armed",
			before: func(*testing.T, *store.Store) {},
			again:  queued("d", later.Add(2*time.Hour)), retryQueue: later,
			wantFresh: true,
			want:      queued("d", later.Add(2*time.Hour)),
		},
		{
			name: "a failed delivery redelivered for a repository no longer in the policy becomes ignored",
			before: func(t *testing.T, st *store.Store) {
				if err := st.FinishDelivery(ctx, "d", store.DeliveryOutcome{Status: store.DeliveryFailed, ProcessedAt: later, Error: "boom"}); err != nil {
					t.Fatal(err)
				}
			},
			again: func() store.WebhookDelivery {
				d := queued("d", later.Add(time.Hour))
				d.Status, d.Error = store.DeliveryIgnored, "repository not in the policy"
				return d
			}(),
			retryQueue: deliveryEpoch,
			wantFresh:  true,
			want: func() store.WebhookDelivery {
				d := queued("d", later.Add(time.Hour))
				d.Status, d.ProcessedAt, d.Error = store.DeliveryIgnored, later.Add(time.Hour), "repository not in the policy"
				return d
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			if !record(t, st, queued("d", deliveryEpoch), deliveryEpoch) {
				t.Fatal("first delivery not fresh")
			}
			tc.before(t, st)
			if got := record(t, st, tc.again, tc.retryQueue); got != tc.wantFresh {
				t.Errorf("fresh = %v, want %v", got, tc.wantFresh)
			}
			if diff := cmp.Diff(tc.want, delivery(t, st, "d")); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordDeliveryIgnored(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	d := store.WebhookDelivery{ID: "i", Event: "workflow_run", Action: "requested", Repository: "other/repo",
		WorkflowRunID: 9, ReceivedAt: deliveryEpoch, Status: store.DeliveryIgnored, Error: "action is not completed"}
	if !record(t, st, d, deliveryEpoch) {
		t.Fatal("first delivery not fresh")
	}
	want := d
	want.ProcessedAt = deliveryEpoch
	if diff := cmp.Diff(want, delivery(t, st, "i")); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if record(t, st, d, deliveryEpoch.Add(time.Hour)) {
		t.Error("a replayed ignored delivery was fresh")
	}
}

// Two replicas receiving the same delivery at once must not both scan it.
func TestRecordDeliveryConcurrentOnlyOneFresh(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	const n = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh int
	)
	for range n {
		wg.Go(func() {
			ok, err := st.RecordDelivery(context.Background(), queued("same", deliveryEpoch), deliveryEpoch)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if fresh != 1 {
		t.Errorf("%d of %d concurrent deliveries were fresh, want 1", fresh, n)
	}
}

func TestFinishDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	record(t, st, queued("q", deliveryEpoch), deliveryEpoch)
	out := store.DeliveryOutcome{Status: store.DeliveryFailed, ProcessedAt: deliveryEpoch.Add(time.Second), ScanID: 3, Error: "rate limited"}
	if err := st.FinishDelivery(ctx, "q", out); err != nil {
		t.Fatalf("FinishDelivery: %v", err)
	}
	want := queued("q", deliveryEpoch)
	want.Status, want.ProcessedAt, want.ScanID, want.Error = store.DeliveryFailed, out.ProcessedAt, 3, "rate limited"
	if diff := cmp.Diff(want, delivery(t, st, "q")); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}

	tests := []struct {
		name     string
		id       string
		outcome  store.DeliveryOutcome
		notFound bool
	}{
		{name: "already finished", id: "q", outcome: store.DeliveryOutcome{Status: store.DeliveryScanned, ProcessedAt: deliveryEpoch}, notFound: true},
		{name: "unknown id", id: "nope", outcome: store.DeliveryOutcome{Status: store.DeliveryScanned, ProcessedAt: deliveryEpoch}, notFound: true},
		{name: "queued is not an outcome", id: "q", outcome: store.DeliveryOutcome{Status: store.DeliveryQueued, ProcessedAt: deliveryEpoch}},
		{name: "ignored is not an outcome", id: "q", outcome: store.DeliveryOutcome{Status: store.DeliveryIgnored, ProcessedAt: deliveryEpoch}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := st.FinishDelivery(ctx, tc.id, tc.outcome)
			if err == nil {
				t.Fatal("FinishDelivery succeeded")
			}
			if got := errors.Is(err, store.ErrNotFound); got != tc.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, got, tc.notFound)
			}
		})
	}
}

func TestRecordDeliveryRejectsFinalStatuses(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	for _, status := range []store.DeliveryStatus{store.DeliveryScanned, store.DeliveryFailed, ""} {
		d := queued("x", deliveryEpoch)
		d.Status = status
		if _, err := st.RecordDelivery(context.Background(), d, deliveryEpoch); err == nil {
			t.Errorf("RecordDelivery with status %q succeeded", status)
		}
	}
	if _, err := st.Delivery(context.Background(), "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delivery after rejected records: %v, want ErrNotFound", err)
	}
}

func TestPruneDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	for i, id := range []string{"old1", "old2", "new"} {
		record(t, st, queued(id, deliveryEpoch.Add(time.Duration(i)*24*time.Hour)), deliveryEpoch)
	}
	n, err := st.PruneDeliveries(ctx, deliveryEpoch.Add(36*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("pruned %d, want 2", n)
	}
	for id, exists := range map[string]bool{"old1": false, "old2": false, "new": true} {
		_, err := st.Delivery(ctx, id)
		if got := err == nil; got != exists {
			t.Errorf("%s exists = %v (err %v), want %v", id, got, err, exists)
		}
	}
}
