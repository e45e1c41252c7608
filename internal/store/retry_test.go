package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/retentiond/retentiond/internal/store"
)

func TestTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true}, // admin_shutdown: a restart
		{&pgconn.PgError{Code: "57P03"}, true}, // cannot_connect_now: starting up
		{&pgconn.PgError{Code: "08006"}, true}, // connection_failure
		{&pgconn.PgError{Code: "53300"}, true}, // too_many_connections
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "42P01"}, false},
		{fmt.Errorf("x: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{syscall.ECONNRESET, true},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{errors.New("store: run 3: not found"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := store.Transient(tt.err); got != tt.want {
			t.Errorf("Transient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestRetriedWritesAreIdempotent: a try may commit and lose its reply; the
// next try must recognise what it did rather than do it twice or fail.
func TestRetriedWritesAreIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	at := time.Date(2026, 6, 1, 12, 0, 0, 123456789, time.UTC) // sub-microsecond on purpose
	runID, err := st.CreateRun(ctx, store.NewRun{StartedAt: at, Trigger: "manual", PolicySHA256: "x", MaxDeletions: 10})
	if err != nil {
		t.Fatal(err)
	}
	entry := func(id int64, o store.Outcome) store.AuditEntry {
		return store.AuditEntry{RunID: runID, RecordedAt: at, Repository: "octo/api", ArtifactID: id, ArtifactName: "build",
			SizeInBytes: 10, Action: store.ActionDelete, Rule: "old", Reason: "old", Outcome: o}
	}

	// Bulk rows: a second try after a committed first adds nothing.
	rows := []store.AuditEntry{entry(1, store.OutcomeDryRun), entry(2, store.OutcomeDryRun)}
	if err := st.InsertAudit(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertAuditAgain(ctx, rows); err != nil {
		t.Fatal(err)
	}
	// A second try after a first that did not commit inserts.
	if err := st.InsertAuditAgain(ctx, []store.AuditEntry{entry(3, store.OutcomeSkippedCap)}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.AuditEntries(ctx, store.AuditFilter{RunID: runID}); err != nil || len(got) != 3 {
		t.Errorf("%d rows, want 3 (%v)", len(got), err)
	}

	// Intent: the retry finds its own committed row.
	pending := entry(4, store.OutcomePending)
	id, err := st.InsertPending(ctx, pending)
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.InsertPendingAgain(ctx, pending)
	if err != nil || again != id {
		t.Errorf("retried intent: id %d, %v; want %d", again, err, id)
	}
	// But another intent for the same artifact is still refused.
	other := pending
	other.RecordedAt = at.Add(time.Second)
	if _, err := st.InsertPendingAgain(ctx, other); !errors.Is(err, store.ErrAlreadyPending) {
		t.Errorf("a second intent: %v, want ErrAlreadyPending", err)
	}
	if _, err := st.InsertPending(ctx, pending); !errors.Is(err, store.ErrAlreadyPending) {
		t.Errorf("a first try that meets a pending row: %v, want ErrAlreadyPending", err)
	}

	// Outcome: a retry after a committed first try succeeds; a different
	// outcome is still refused.
	res := store.Resolution{Outcome: store.OutcomeDeleted, HTTPStatus: 204, ExecutedAt: at.Add(time.Minute)}
	if err := st.ResolveAudit(ctx, id, res); err != nil {
		t.Fatal(err)
	}
	if err := st.ResolveAuditAgain(ctx, id, res); err != nil {
		t.Errorf("retried outcome: %v", err)
	}
	if err := st.ResolveAuditAgain(ctx, id, store.Resolution{Outcome: store.OutcomeFailed, ExecutedAt: res.ExecutedAt}); !errors.Is(err, store.ErrNotPending) {
		t.Errorf("a different outcome: %v, want ErrNotPending", err)
	}

	// Run totals likewise.
	totals := store.RunTotals{FinishedAt: at.Add(time.Hour), Status: "succeeded"}
	if err := st.FinishRun(ctx, runID, totals); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishRunAgain(ctx, runID, totals); err != nil {
		t.Errorf("retried end of run: %v", err)
	}
	if err := st.FinishRunAgain(ctx, runID, store.RunTotals{FinishedAt: at.Add(time.Hour), Status: "failed"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a different end: %v, want ErrNotFound", err)
	}
}
