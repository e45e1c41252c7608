package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/store"
)

func TestPendingDeletions(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	run, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: "manual", PolicySHA256: "x", MaxDeletions: 10})
	if err != nil {
		t.Fatal(err)
	}
	check := func(want store.Pending) {
		t.Helper()
		got, err := st.PendingDeletions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Count != want.Count || !got.Oldest.Equal(want.Oldest) {
			t.Errorf("PendingDeletions = %+v, want %+v", got, want)
		}
	}
	check(store.Pending{})

	intent := func(id int64, at time.Time) int64 {
		t.Helper()
		row, err := st.InsertPending(ctx, store.AuditEntry{RunID: run, RecordedAt: at, Repository: "octo/api", ArtifactID: id,
			ArtifactName: "build", Action: store.ActionDelete, Rule: "r", Reason: "r", Outcome: store.OutcomePending})
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	first := intent(1, t0.Add(time.Minute))
	intent(2, t0.Add(2*time.Minute))
	// A resolved row no longer counts, and neither do other outcomes.
	if err := st.InsertAudit(ctx, []store.AuditEntry{{RunID: run, RecordedAt: t0, Repository: "octo/api", ArtifactID: 3,
		ArtifactName: "build", Action: store.ActionDelete, Rule: "r", Reason: "r", Outcome: store.OutcomeDryRun}}); err != nil {
		t.Fatal(err)
	}
	check(store.Pending{Count: 2, Oldest: t0.Add(time.Minute)})
	if err := st.ResolveAudit(ctx, first, store.Resolution{Outcome: store.OutcomeDeleted, HTTPStatus: 204, ExecutedAt: t0.Add(3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	check(store.Pending{Count: 1, Oldest: t0.Add(2 * time.Minute)})
}
