package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/retentiond/retentiond/internal/clock"
)

// A PostgreSQL restart or failover takes the server away for seconds. The
// writes a run cannot do without — its intents, outcomes, audit rows and
// totals — are retried through such a gap for a bounded time (SetRetry)
// rather than abort the run at the first error. Each of those writes is
// safe to repeat: a write whose reply was lost after it committed is
// recognised on the next try instead of being applied twice.

// SetRetry makes the store retry its run-critical statements for up to
// within (DATABASE_RETRY_FOR) while they fail for a reason a retry may cure
// (see Transient), waiting on clk between tries. 0 (the default) tries
// once. Call it before the store is used.
func (s *Store) SetRetry(clk clock.Clock, within time.Duration) {
	if clk == nil {
		clk = clock.Real{}
	}
	s.retryClock, s.retryFor = clk, within
}

// retryWaits are the pauses between tries; the last repeats.
var retryWaits = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second}

// retry runs op until it succeeds, fails for good, ctx ends, or the store's
// retry time has passed. op learns whether an earlier try failed, so that
// it can look for what that try may have committed.
func (s *Store) retry(ctx context.Context, what string, op func(ctx context.Context, again bool) error) error {
	err := op(ctx, false)
	if err == nil || s.retryFor <= 0 || !Transient(err) {
		return err
	}
	deadline := s.retryClock.Now().Add(s.retryFor)
	for try := 0; ; try++ {
		wait := retryWaits[min(try, len(retryWaits)-1)]
		if !s.retryClock.Now().Add(wait).Before(deadline) {
			return fmt.Errorf("%w (retried for %s: DATABASE_RETRY_FOR)", err, s.retryFor)
		}
		if serr := s.retryClock.Sleep(ctx, wait); serr != nil {
			return errors.Join(err, serr)
		}
		if err = op(ctx, true); err == nil || !Transient(err) {
			if err != nil {
				err = fmt.Errorf("%s after a retry: %w", what, err)
			}
			return err
		}
	}
}

// Transient reports whether err is a database failure that a retry may
// cure: the connection was refused, reset or closed, or the server is
// shutting down, starting up or out of connections.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08": // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case pgErr.Code == "53300": // too many connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return pgconn.SafeToRetry(err) || errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		pgconn.Timeout(err) || isClosedConn(err)
}

// isClosedConn recognises pgconn's error for a statement on a connection it
// had already found broken.
func isClosedConn(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "conn closed" {
			return true
		}
	}
	return false
}

// sameStoredTime reports whether stored, read back from a timestamptz, is t
// as it was written: PostgreSQL keeps microseconds, pgx truncates to them.
// A retry uses it to recognise what its own earlier try committed.
func sameStoredTime(stored, t time.Time) bool {
	return stored.Equal(t.Truncate(time.Microsecond))
}
