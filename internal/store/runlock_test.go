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

func TestRunLockCheckSaysALostLockIsLost(t *testing.T) {
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

	// The session ends (a PostgreSQL restart). Even with nobody else holding
	// the lock now, another process may have run in between: lost for good.
	killLockSession(t, st)
	if err := lock.Check(ctx); !errors.Is(err, store.ErrRunLockLost) {
		t.Fatalf("Check after the session ended: %v, want ErrRunLockLost", err)
	}
	if err := lock.Check(ctx); !errors.Is(err, store.ErrRunLockLost) {
		t.Fatalf("Check again: %v, want ErrRunLockLost", err)
	}
	// It did not take the lock back: another process can.
	theirs, ok, err := other.TryRunLock(ctx)
	if err != nil || !ok {
		t.Fatalf("the other process could not take the freed lock: %v, %v", ok, err)
	}
	defer theirs.Unlock()
	lock.Unlock() // must not release the other process's lock
	if _, ok, err := st.TryRunLock(ctx); err != nil || ok {
		t.Fatalf("the other process's lock was released: %v, %v", ok, err)
	}
}
