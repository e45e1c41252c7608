// Package daemon runs retention runs on a schedule and serves health,
// readiness and metrics over HTTP while it does.
package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/retentiond/retentiond/internal/clock"
)

// Schedule says when the next run is due. robfig/cron's schedules satisfy
// it; keeping cron behind this one method lets the loop run on an injected
// clock.
type Schedule interface {
	Next(time.Time) time.Time
}

// ParseSchedule parses a 5-field cron spec or a descriptor such as @hourly
// or @every 30m.
func ParseSchedule(spec string) (Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("parsing schedule %q: %w", spec, err)
	}
	return s, nil
}

// RunFunc performs one run.
type RunFunc func(ctx context.Context) error

// Loop calls run at every time the schedule gives, until ctx is done. Runs
// never overlap: a tick that falls while a run is still going is skipped
// (the next time is computed after the run), and a panic in a run is logged
// and counted as a failed run instead of killing the daemon.
func Loop(ctx context.Context, sched Schedule, clk clock.Clock, logger *slog.Logger, run RunFunc) error {
	for {
		now := clk.Now()
		next := sched.Next(now)
		if next.IsZero() {
			return fmt.Errorf("the schedule has no next time after %s", now.Format(time.RFC3339))
		}
		logger.InfoContext(ctx, "next run scheduled", slog.Time("at", next), slog.Duration("in", next.Sub(now).Round(time.Second)))
		if err := clk.Sleep(ctx, next.Sub(now)); err != nil {
			return nil // shutting down
		}
		if err := safeRun(ctx, run); err != nil {
			logger.ErrorContext(ctx, "run failed", slog.Any("error", err))
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

func safeRun(ctx context.Context, run RunFunc) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("run panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return run(ctx)
}
