package daemon

import (
	"context"
	"log/slog"
	"time"
)

// MissedTick reports whether a tick of sched fell between the latest run's
// start and now: the latest run is older than one schedule period, so the
// daemon was not there to run it (a deploy, a crash, a scale-to-zero). No
// run at all counts as missed.
func MissedTick(sched Schedule, lastStart, now time.Time) bool {
	if lastStart.IsZero() {
		return true
	}
	next := sched.Next(lastStart)
	return !next.IsZero() && !next.After(now)
}

// RunOnce runs run as a scheduled tick would, with the same panic guard and
// logging; serve calls it at start, before Loop, when RUN_ON_START says so.
func RunOnce(ctx context.Context, logger *slog.Logger, run RunFunc) {
	if err := safeRun(ctx, run); err != nil {
		logger.ErrorContext(ctx, "run failed", slog.Any("error", err))
	}
}
