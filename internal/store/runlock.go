package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// RunLockKey is the PostgreSQL advisory lock key held for the whole of a run,
// so that only one run executes at a time across every replica sharing the
// database ("retentrn" in ASCII). It differs from MigrationLockKey.
const RunLockKey int64 = 0x726574656e74726e

// ErrRunLockLost is returned by RunLock.Check when the lock's session ended
// (PostgreSQL restarted, the connection broke) and another process took the
// lock meanwhile: this process's run is no longer the only one.
var ErrRunLockLost = errors.New("the run lock was lost with its database session")

// RunLock is the held run lock. The lock lives on one pooled connection,
// held until Unlock; if the process dies, PostgreSQL drops the connection and
// with it the lock.
type RunLock struct {
	s    *Store
	mu   sync.Mutex
	conn *pgxpool.Conn
}

// TryRunLock takes the run lock if it is free: ok is false when another
// session holds it.
func (s *Store) TryRunLock(ctx context.Context) (_ *RunLock, ok bool, err error) {
	conn, ok, err := s.tryLockConn(ctx)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &RunLock{s: s, conn: conn}, true, nil
}

func (s *Store) tryLockConn(ctx context.Context) (_ *pgxpool.Conn, ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: taking the run lock: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, RunLockKey).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("store: taking the run lock: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return conn, true, nil
}

// RunLock waits for the run lock until ctx is done.
func (s *Store) RunLock(ctx context.Context) (*RunLock, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: waiting for the run lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, RunLockKey); err != nil {
		// A cancelled wait leaves the session in an unknown state; drop it.
		_ = conn.Conn().Close(context.Background())
		conn.Release()
		return nil, fmt.Errorf("store: waiting for the run lock: %w", err)
	}
	return &RunLock{s: s, conn: conn}, nil
}

// Check confirms, before an irreversible step, that this process still holds
// the run lock. A session lock lasts as long as its connection: after
// PostgreSQL restarts it is gone, and another process may have run in the
// meantime — resolved this run's pending intents, marked it failed,
// discarded its plan, spent the daily cap. So a lost session is a lost lock
// for good: Check never takes it back, and returns ErrRunLockLost (or
// another error if the lock's connection cannot be asked). The run stops
// deleting; the next run starts afresh.
func (l *RunLock) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return ErrRunLockLost
	}
	_, err := l.conn.Exec(ctx, `SELECT 1`)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("store: checking the run lock: %w", context.Cause(ctx))
	case !Transient(err):
		return fmt.Errorf("store: checking the run lock: %w", err)
	}
	// The session, and the lock with it, is gone.
	_ = l.conn.Conn().Close(context.Background())
	l.conn.Release()
	l.conn = nil
	return fmt.Errorf("%w (its database session ended: %v)", ErrRunLockLost, err)
}

// Unlock releases the lock (if this session still holds it).
func (l *RunLock) Unlock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, RunLockKey); err != nil {
		// The lock may still be held by this session: don't return the
		// connection to the pool with it.
		_ = l.conn.Conn().Close(ctx)
	}
	l.conn.Release()
	l.conn = nil
}
