package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
)

// killLockSession ends the database session that holds the run lock, as a
// PostgreSQL restart would, and waits until it has ended.
func killLockSession(t *testing.T, st *store.Store) {
	t.Helper()
	var killed bool
	err := st.Pool().QueryRow(context.Background(), `SELECT pg_terminate_backend(pid, 10000) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed)
	if err != nil || !killed {
		t.Fatalf("terminating the lock's session: %v, %v", killed, err)
	}
}

func TestRunLockCheckTakesALostLockBackOrSaysItIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	st := openStore(t, url)
	other := openStore(t, url) // another process

	lock, ok, err := st.TryRunLock(ctx)
	if err != nil || !ok {
		t.Fatalf("TryRunLock: %v, %v", ok, err)
	}
	defer lock.Unlock()
	if err := lock.Check(ctx); err != nil {
		t.Fatalf("Check of a held lock: %v", err)
	}

	// The session ends and nobody else takes the lock: Check takes it again.
	killLockSession(t, st)
	if err := lock.Check(ctx); err != nil {
		t.Fatalf("Check after the session ended: %v", err)
	}
	if _, ok, err := other.TryRunLock(ctx); err != nil || ok {
		t.Fatalf("another process took the lock Check took back: %v, %v", ok, err)
	}

	// The session ends and another process takes the lock first.
	killLockSession(t, st)
	theirs, ok, err := other.TryRunLock(ctx)
	if err != nil || !ok {
		t.Fatalf("the other process could not take the freed lock: %v, %v", ok, err)
	}
	defer theirs.Unlock()
	if err := lock.Check(ctx); !errors.Is(err, store.ErrRunLockLost) {
		t.Fatalf("Check while another process holds the lock: %v, want ErrRunLockLost", err)
	}
	lock.Unlock() // must not release the other process's lock
	if _, ok, err := st.TryRunLock(ctx); err != nil || ok {
		t.Fatalf("the other process's lock was released: %v, %v", ok, err)
	}
}
