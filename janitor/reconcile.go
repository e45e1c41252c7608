package janitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
)

// ReconcileReport counts how pending rows were resolved.
type ReconcileReport struct {
	Deleted     int // gone: the DELETE went through before the process died
	Interrupted int // still there: it will be decided again by the next run
	Unresolved  int // GitHub could not tell; left pending for the next start
}

// Reconcile resolves audit rows left "pending" by a process that died between
// recording an intent and recording its outcome. It asks GitHub: an artifact
// that is gone is recorded as deleted (our DELETE most likely went through;
// either way it is gone and marked so), one that still exists as
// interrupted, and it will be decided afresh. It must run under the run lock,
// so that it never touches the pending row of a live janitor.
func (j *Janitor) Reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	pending, err := j.store.PendingAudit(ctx)
	if err != nil {
		return rep, fmt.Errorf("listing pending deletions: %w", err)
	}
	var errs []error
	for _, p := range pending {
		_, gerr := j.gh.GetArtifact(ctx, p.Repository, p.ArtifactID)
		res := store.Resolution{ExecutedAt: j.clock.Now()}
		switch {
		case errors.Is(gerr, github.ErrNotFound):
			res.Outcome, res.HTTPStatus, res.MarkGone = store.OutcomeDeleted, 404, true
			res.Error = "resolved at start: the process stopped before recording the outcome; the artifact is gone"
			rep.Deleted++
		case gerr == nil:
			res.Outcome = store.OutcomeInterrupted
			res.Error = "resolved at start: the process stopped before deleting; the artifact still exists"
			rep.Interrupted++
		default:
			rep.Unresolved++
			errs = append(errs, fmt.Errorf("checking artifact %d of %s: %w", p.ArtifactID, p.Repository, gerr))
			continue
		}
		if err := j.store.ResolveAudit(ctx, p.ID, res); err != nil {
			return rep, fmt.Errorf("resolving pending audit row %d: %w", p.ID, err)
		}
		j.logger.LogAttrs(ctx, slog.LevelWarn, "resolved an interrupted deletion",
			slog.Int64("audit_id", p.ID), slog.Int64("run_id", p.RunID),
			slog.String("repository", p.Repository.String()), slog.Int64("artifact_id", p.ArtifactID),
			slog.String("outcome", string(res.Outcome)))
	}
	return rep, errors.Join(errs...)
}
