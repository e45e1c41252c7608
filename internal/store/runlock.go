package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// RunLockKey is the PostgreSQL advisory lock key held for the whole of a run,
// so that only one run executes at a time across every replica sharing the
// database ("retentrn" in ASCII). It differs from MigrationLockKey.
const RunLockKey int64 = 0x726574656e74726e

// TryRunLock takes the run lock if it is free. The lock lives on one pooled
// connection held until unlock is called; if the process dies, PostgreSQL
// drops the connection and with it the lock.
func (s *Store) TryRunLock(ctx context.Context) (unlock func(), ok bool, err error) {
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
	return unlocker(conn), true, nil
}

// RunLock waits for the run lock until ctx is done.
func (s *Store) RunLock(ctx context.Context) (unlock func(), err error) {
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
	return unlocker(conn), nil
}

func unlocker(conn *pgxpool.Conn) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, RunLockKey); err != nil {
			// The lock may still be held by this session: don't return the
			// connection to the pool with it.
			_ = conn.Conn().Close(ctx)
		}
		conn.Release()
	}
}
