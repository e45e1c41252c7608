package janitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
)

// Carrying out the decisions within the cap, one DELETE at a time.

// deleter carries out the decisions of one ExecuteWork batch by batch.
// Once something stops it — a shutdown, a rate limit that outlasts
// GITHUB_MAX_WAIT — every decision after that point, in this batch and the
// ones still to come, is recorded with the reason and not carried out.
type deleter struct {
	j     *Janitor
	runID int64
	arch  *archive.Archiver
	rep   *Report
	sent  int // decisions reached, for pacing
	// stopped, once set, is the outcome of every decision not reached.
	stopped store.Outcome
	why     string
}

func (d *deleter) batch(ctx context.Context, items []Item) error {
	j, rep := d.j, d.rep
	for i := range items {
		if d.stopped == "" {
			if d.sent > 0 && j.cfg.Interval > 0 {
				// An error here means ctx is done, which the check below handles.
				_ = j.clock.Sleep(ctx, j.cfg.Interval)
			}
			if ctx.Err() != nil {
				rep.Stopped = true
				d.stopped, d.why = store.OutcomeInterrupted, "stopped before this deletion: "+context.Cause(ctx).Error()
			}
		}
		if d.stopped != "" {
			rest := items[i:]
			switch d.stopped {
			case store.OutcomeInterrupted:
				rep.Interrupted += len(rest)
			case store.OutcomeSkippedRateLimit:
				rep.SkippedRateLimit += len(rest)
			}
			return j.recordAll(ctx, d.runID, rest, d.stopped, d.why)
		}
		d.sent++
		res, guardErr, err := j.deleteOne(ctx, d.runID, &items[i], d.arch)
		if err != nil {
			return err
		}
		if guardErr != nil {
			// This decision is recorded as interrupted; so are the rest.
			rep.Stopped, rep.GuardError = true, guardErr.Error()
			d.stopped, d.why = store.OutcomeInterrupted, "stopped before this deletion: "+guardErr.Error()
		}
		if res.ArchivePath != "" {
			rep.Archived++
			rep.ArchivedBytes += res.ArchiveBytes
		}
		switch res.Outcome {
		case store.OutcomeDeleted:
			rep.Deleted++
			rep.count(&items[i].Artifact, res.ExecutedAt, &rep.BytesReclaimed)
		case store.OutcomeAlreadyGone:
			rep.AlreadyGone++
			rep.count(&items[i].Artifact, res.ExecutedAt, &rep.BytesReclaimed)
		case store.OutcomeFailed:
			rep.Failed++
		case store.OutcomeChanged:
			rep.Changed++
		case store.OutcomeExpiredNotArchived:
			rep.ExpiredNotArchived++
		case store.OutcomeInterrupted:
			// A check before the DELETE was cut short; the loop stops at the
			// next item.
			rep.Stopped = true
			rep.Interrupted++
		case store.OutcomeSkippedRateLimit:
			rep.RateLimited = true
			rep.SkippedRateLimit++
			d.stopped, d.why = store.OutcomeSkippedRateLimit, "the janitor stopped at a rate limit that would outlast GITHUB_MAX_WAIT"
		}
	}
	return nil
}

// deleteOne records the intent, runs the checks that must pass first
// (verify, archive), sends the DELETE if they passed, and records the outcome.
//
// guardErr is Config.Guard's refusal, when it refused: the janitor must stop.
func (j *Janitor) deleteOne(ctx context.Context, runID int64, it *Item, arch *archive.Archiver) (_ store.Resolution, guardErr, _ error) {
	e := entry(runID, j.clock.Now(), it)
	e.Outcome = store.OutcomePending
	ictx, icancel := j.detached(ctx)
	id, err := j.store.InsertPending(ictx, e)
	icancel()
	if errors.Is(err, store.ErrAlreadyPending) {
		// An intent a dead process left, which this start could not resolve
		// (Reconcile logged why): no second DELETE beside it, and no reason
		// to stop the rest of the run. The decision ends failed, with why.
		msg := "not deleted: another intent to delete this artifact is still pending (left by a process that stopped; the next start resolves it)"
		e.Outcome, e.Error = store.OutcomeFailed, msg
		wctx, wcancel := j.detached(ctx)
		defer wcancel()
		if err := j.store.InsertAudit(wctx, []store.AuditEntry{e}); err != nil {
			return store.Resolution{}, nil, fmt.Errorf("recording that artifact %d of %s has a pending intent already: %w", it.Artifact.ID, it.Artifact.Repository, err)
		}
		return store.Resolution{Outcome: store.OutcomeFailed, Error: msg}, nil, nil
	}
	if err != nil {
		return store.Resolution{}, nil, fmt.Errorf("recording the intent to delete artifact %d of %s: %w", it.Artifact.ID, it.Artifact.Repository, err)
	}
	// The checks run on ctx: until the DELETE is sent nothing is final, so a
	// shutdown may cut a re-read or a download short.
	res, proceed := j.prepare(ctx, it, arch)
	if proceed && ctx.Err() != nil {
		// A shutdown began while the checks ran (a download can finish
		// after SIGTERM): no new DELETE may start. A completed archive
		// stays where it is, and the row says where.
		res.Outcome = store.OutcomeInterrupted
		res.Error = joinNotes("stopped before this deletion: "+context.Cause(ctx).Error(), res.Error)
		proceed = false
	}
	if proceed && j.cfg.Guard != nil {
		if err := j.cfg.Guard(ctx); err != nil {
			res.Outcome = store.OutcomeInterrupted
			res.Error = joinNotes("stopped before this deletion: "+err.Error(), res.Error)
			guardErr = err
			proceed = false
		}
	}
	// Once sent, the DELETE and its outcome run to the end even if a
	// shutdown begins: SIGTERM finishes the call in flight.
	wctx, cancel := j.detached(ctx)
	defer cancel()
	if proceed {
		dres := resolution(j.gh.DeleteArtifact(wctx, it.Artifact.Repository, it.Artifact.ID))
		dres.ArchivePath, dres.ArchiveBytes, dres.ArchiveSHA256 = res.ArchivePath, res.ArchiveBytes, res.ArchiveSHA256
		dres.Error = joinNotes(res.Error, dres.Error)
		res = dres
	}
	res.ExecutedAt = j.clock.Now()
	if err := j.store.ResolveAudit(wctx, id, res); err != nil {
		return store.Resolution{}, nil, fmt.Errorf("recording the outcome %s of deleting artifact %d of %s: %w", res.Outcome, it.Artifact.ID, it.Artifact.Repository, err)
	}
	attrs := []slog.Attr{
		slog.String("repository", it.Artifact.Repository.String()),
		slog.Int64("artifact_id", it.Artifact.ID),
		slog.String("artifact_name", it.Artifact.Name),
		slog.Int64("size_in_bytes", it.Artifact.SizeInBytes),
		slog.String("rule", it.Decision.Rule),
		slog.String("outcome", string(res.Outcome)),
		slog.String("error", res.Error),
	}
	if res.ArchivePath != "" {
		attrs = append(attrs, slog.String("archive_path", res.ArchivePath), slog.Int64("archive_bytes", res.ArchiveBytes))
	}
	j.logger.LogAttrs(ctx, levelOf(res.Outcome), "delete", attrs...)
	return res, guardErr, nil
}

// resolution maps the DELETE's result to its audit outcome.
func resolution(err error) store.Resolution {
	switch {
	case err == nil:
		return store.Resolution{Outcome: store.OutcomeDeleted, HTTPStatus: 204, MarkGone: true}
	case errors.Is(err, github.ErrNotFound):
		// Already gone is what we wanted; not a failure.
		return store.Resolution{Outcome: store.OutcomeAlreadyGone, HTTPStatus: 404, MarkGone: true}
	}
	// The DELETE ran to its end whatever happened to the run's context, so
	// its failure is never "interrupted": check it as if nothing stopped.
	return checkFailure(context.Background(), err, "")
}

func levelOf(o store.Outcome) slog.Level {
	switch o {
	case store.OutcomeFailed, store.OutcomeSkippedRateLimit, store.OutcomeChanged, store.OutcomeExpiredNotArchived:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
