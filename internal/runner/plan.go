package runner

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/policy"
)

// evaluate loads repo's live artifacts and evaluates the policy over them at
// now, splitting the decisions into keeps and deletes: the planning step
// that Run and Plan share.
func (r *Runner) evaluate(ctx context.Context, log *slog.Logger, repo artifact.Repository, now time.Time) (keeps, deletes []janitor.Item, err error) {
	arts, err := r.store.LiveArtifacts(ctx, repo)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the artifacts of %s: %w", repo, err)
	}
	if err := r.annotateBranches(ctx, repo, arts); err != nil {
		return nil, nil, err
	}
	decisions := policy.Evaluate(r.policy, arts, now)
	keeps = make([]janitor.Item, 0, len(arts))
	debug := log.Enabled(ctx, slog.LevelDebug)
	for i := range arts {
		it := janitor.Item{Artifact: arts[i], Decision: decisions[i]}
		if debug {
			log.LogAttrs(ctx, slog.LevelDebug, "decision",
				slog.String("repository", repo.String()), slog.Int64("artifact_id", arts[i].ID),
				slog.String("artifact_name", arts[i].Name), slog.String("action", string(decisions[i].Action)),
				slog.String("rule", decisions[i].Rule), slog.String("reason", decisions[i].Reason))
		}
		if decisions[i].Action == policy.Delete {
			deletes = append(deletes, it)
		} else {
			keeps = append(keeps, it)
		}
	}
	return keeps, deletes, nil
}

// Plan is what a run would delete now, from what the database holds.
type Plan struct {
	// Evaluated counts the artifacts the policy was evaluated over.
	Evaluated int
	// Deletes are the delete decisions in the order a run carries them
	// out; the first Limit of them are within the caps.
	Deletes []janitor.Item
	Limit   int
	// Cap says which cap Limit comes from, as a skipped_cap row would.
	Cap string
	// Warnings name the repositories a run would not delete in: never
	// scanned, or whose latest scan did not complete.
	Warnings []string
}

// Plan evaluates the policy over the artifacts already in the database, as
// Run would after its scans, and orders and caps the deletes as its janitor
// would (MAX_DELETIONS_PER_RUN and what the last 24 hours left of
// MAX_DELETIONS_PER_DAY). It makes no GitHub calls and records nothing.
func (r *Runner) Plan(ctx context.Context) (Plan, error) {
	now := r.cfg.Clock.Now()
	var p Plan
	scans, err := r.store.LatestScans(ctx)
	if err != nil {
		return p, err
	}
	latest := make(map[artifact.Repository]store.Scan, len(scans))
	for _, sc := range scans {
		latest[sc.Repository] = sc
	}
	for _, repo := range r.policy.Repositories {
		sc, scanned := latest[repo]
		switch {
		case !scanned:
			p.Warnings = append(p.Warnings, repo.String()+": never scanned; run 'retentiond scan' first")
			continue
		case sc.Status != store.ScanComplete:
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: latest scan %s (%s); a run would delete nothing here until a scan completes", repo, sc.Status, sc.Error))
		}
		if w, err := r.branchWarning(ctx, repo); err != nil {
			return p, err
		} else if w != "" {
			p.Warnings = append(p.Warnings, w)
		}
		keeps, deletes, err := r.evaluate(ctx, r.logger, repo, now)
		if err != nil {
			return p, err
		}
		p.Evaluated += len(keeps) + len(deletes)
		p.Deletes = append(p.Deletes, deletes...)
	}
	janitor.SortForExecution(p.Deletes, now)
	p.Limit, p.Cap, err = r.janitor(false).Limit(ctx, now)
	return p, err
}
