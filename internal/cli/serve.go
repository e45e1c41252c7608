package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/retentiond/retentiond/internal/daemon"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/ui"

	"github.com/retentiond/retentiond/internal/config"
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "Run on SCHEDULE and serve /healthz, /readyz, /metrics (the container's default)",
		help: `Migrates the database, resolves deletions left pending by a previous process,
then runs on SCHEDULE until SIGTERM or SIGINT. A shutdown lets the DELETE in
flight finish and be recorded, records the rest of the run as interrupted, and
exits within seconds. Runs never overlap: across replicas sharing the
database, a tick that finds another run in progress is skipped.

HTTP on HTTP_ADDR: /healthz (process up), /readyz (database reachable,
policy loaded, GitHub accepting the token: asked at most once a minute),
/metrics (Prometheus), POST /webhook when WEBHOOK_SECRET is set, and the
read-only review page at / unless UI=false.

At start it logs the checks 'retentiond check' prints, and with
RUN_ON_START=missed (the default) runs at once when the latest run started
before the last tick of SCHEDULE (or there is none), so a misconfiguration
shows within a minute of a deploy, not at the next tick.`,
		config: []config.Concern{config.DatabaseConcern, config.GitHubConcern, config.ScanConcern, config.PolicyConcern,
			config.JanitorConcern, config.ScheduleConcern, config.ServerConcern, config.ArchiveConcern, config.StorageConcern, config.AuditConcern, config.LogConcern, config.UIConcern},
		bind: func(*flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) != 0 {
					return usagef("serve takes no arguments")
				}
				a, closeFn, err := setup(ctx, e, needs{db: true, migrate: true, github: true, policy: true})
				if err != nil {
					return err
				}
				defer closeFn()
				if err := a.checkExamplePolicy(ctx, a.cfg.Janitor.DryRun); err != nil {
					return err
				}
				if err := a.checkArchiveDir(ctx, a.cfg.Janitor.DryRun); err != nil {
					return err
				}
				return a.serve(ctx, e)
			}
		},
	}
}

func (a *app) serve(ctx context.Context, e *Env) error {
	sched, err := daemon.ParseSchedule(a.cfg.Schedule.Spec)
	if err != nil {
		return err
	}
	rm, metricsHandler := newMetrics(a.gh, a.logger, newPendingCollector(a.store, a.logger))
	rm.SetStorageTop(a.cfg.Storage.MetricsTop)
	a.seedLastSuccess(ctx, rm)
	r := a.runner(e, rm, false)

	if rep, err := r.Reconcile(ctx); err != nil {
		a.logger.WarnContext(ctx, "could not resolve every interrupted deletion yet", slog.Any("error", err))
	} else if rep.Deleted+rep.Interrupted > 0 {
		a.logger.InfoContext(ctx, "resolved interrupted deletions", slog.Int("deleted", rep.Deleted), slog.Int("interrupted", rep.Interrupted))
	}

	// Webhook scans stop with serve's context and are drained before the
	// store closes, so every delivery's outcome is recorded.
	wctx, stopWebhook := context.WithCancel(ctx)
	defer stopWebhook()
	extra := map[string]http.Handler{}
	wh := a.webhookHandler(wctx, e)
	if wh != nil {
		extra["POST /webhook"] = wh
	}
	if h := a.uiHandler(e); h != nil {
		for _, p := range ui.Patterns { // the read-only review page
			extra[p] = h
		}
	}
	handler := daemon.Handler(metricsHandler, map[string]daemon.Checker{
		"database": a.store.Ping,
		"policy": func(context.Context) error {
			if a.policy == nil {
				return errors.New("not loaded")
			}
			return nil
		},
		"github": (&githubReadiness{gh: a.gh, clock: e.Clock}).check,
	}, extra)

	a.logger.InfoContext(ctx, "retentiond serving",
		slog.String("schedule", a.cfg.Schedule.Spec), slog.Bool("dry_run", a.cfg.Janitor.DryRun),
		slog.Int("repositories", len(a.policy.Repositories)), slog.String("policy_sha256", a.policy.SHA256))

	hctx, stopHTTP := context.WithCancel(ctx)
	defer stopHTTP()
	lctx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	httpDone := make(chan error, 1)
	go func() {
		err := daemon.Serve(hctx, a.cfg.Server.Addr, handler, a.logger, e.Listening)
		if err != nil {
			stopLoop() // a server that cannot listen is fatal
		}
		httpDone <- err
	}()
	tick := func(ctx context.Context) error {
		a.servePrune(ctx, e.Clock.Now())
		sum, err := r.Run(ctx, runner.TriggerSchedule)
		if errors.Is(err, runner.ErrBusy) {
			a.logger.InfoContext(ctx, "skipping this tick: another replica's run is in progress")
			return nil
		}
		if err != nil {
			return err
		}
		if sum.Status != runner.StatusSucceeded {
			return fmt.Errorf("run %d %s: %s", sum.RunID, sum.Status, sum.Error)
		}
		return nil
	}
	// After the HTTP server is up, so that /healthz answers while the
	// checks wait out GitHub's retries.
	a.startupChecks(lctx)
	if a.runAtStart(lctx, sched, e.Clock.Now()) {
		daemon.RunOnce(lctx, a.logger, tick)
	}
	loopErr := daemon.Loop(lctx, sched, e.Clock, a.logger, tick)
	stopHTTP()
	herr := <-httpDone
	if wh != nil {
		stopWebhook()
		wh.Wait()
	}
	if herr != nil {
		return herr
	}
	a.logger.InfoContext(ctx, "retentiond stopped")
	return loopErr
}
