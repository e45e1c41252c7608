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

// planned counts what planRepository did.
type planned struct{ evaluated, kept, deletes int }

// planChunk is how many decisions planRepository writes at once.
const planChunk = 1000

// planRepository is the planning step that Run and Plan share: it loads
// repo's live artifacts, evaluates the policy over them at now, records the
// keep decisions (j is nil for `plan`, which records nothing) and adds the
// delete decisions to plan — or, when held is a reason (an archived
// repository included for reporting), records them as keeps that say so.
// Only the artifacts and their decisions are held:
// keeps and deletes are written a chunk at a time, never copied whole.
func (r *Runner) planRepository(ctx context.Context, log *slog.Logger, j *janitor.Janitor, runID int64, plan *store.DeletionPlan, repo artifact.Repository, held string, now time.Time) (planned, error) {
	arts, err := r.store.PolicyArtifacts(ctx, repo)
	if err != nil {
		return planned{}, fmt.Errorf("loading the artifacts of %s: %w", repo, err)
	}
	if err := r.annotateBranches(ctx, repo, arts); err != nil {
		return planned{}, err
	}
	decisions := policy.Evaluate(r.policy, arts, now)
	if held != "" {
		for i := range decisions {
			holdDecision(&decisions[i], held)
		}
	}
	n := planned{evaluated: len(arts)}
	keeps := make([]janitor.Item, 0, min(planChunk, len(arts)))
	deletes := make([]store.PlannedDeletion, 0, min(planChunk, len(arts)))
	flushKeeps := func() error {
		if j != nil && len(keeps) > 0 {
			if err := j.RecordKeeps(ctx, runID, keeps); err != nil {
				return err
			}
		}
		keeps = keeps[:0]
		return nil
	}
	flushDeletes := func() error {
		if err := plan.Add(ctx, deletes); err != nil {
			return fmt.Errorf("planning the deletions of %s: %w", repo, err)
		}
		deletes = deletes[:0]
		return nil
	}
	debug := log.Enabled(ctx, slog.LevelDebug)
	for i := range arts {
		a, d := &arts[i], &decisions[i]
		if debug {
			log.LogAttrs(ctx, slog.LevelDebug, "decision",
				slog.String("repository", repo.String()), slog.Int64("artifact_id", a.ID),
				slog.String("artifact_name", a.Name), slog.String("action", string(d.Action)),
				slog.String("rule", d.Rule), slog.String("reason", d.Reason))
		}
		if d.Action == policy.Delete {
			n.deletes++
			deletes = append(deletes, store.PlannedDeletion{Artifact: *a, Rule: d.Rule, Reason: d.Reason,
				Archive: d.Archive, ArchiveRequired: d.ArchiveRequired})
			if len(deletes) == planChunk {
				if err := flushDeletes(); err != nil {
					return n, err
				}
			}
			continue
		}
		n.kept++
		keeps = append(keeps, janitor.Item{Artifact: *a, Decision: *d})
		if len(keeps) == planChunk {
			if err := flushKeeps(); err != nil {
				return n, err
			}
		}
	}
	if err := flushKeeps(); err != nil {
		return n, err
	}
	return n, flushDeletes()
}

// planWork is a DeletionPlan as the janitor's Work.
type planWork struct{ p *store.DeletionPlan }

func (w planWork) Order(ctx context.Context, now time.Time) (int, error) { return w.p.Order(ctx, now) }

func (w planWork) Read(ctx context.Context, from, to int, fn func([]janitor.Item) error) error {
	return w.p.Read(ctx, from, to, planBatch, func(ds []store.PlannedDeletion) error {
		items := make([]janitor.Item, len(ds))
		for i := range ds {
			d := &ds[i]
			items[i] = janitor.Item{Artifact: d.Artifact, Decision: policy.Decision{Action: policy.Delete,
				Rule: d.Rule, Reason: d.Reason, Archive: d.Archive, ArchiveRequired: d.ArchiveRequired}}
		}
		return fn(items)
	})
}

// planBatch is how many planned deletions are read back at once.
const planBatch = 1000

// Plan is what a run would delete now, from what the database holds. Its
// delete decisions wait in a temporary table; Each reads them back, and
// Close drops them.
type Plan struct {
	// Evaluated counts the artifacts the policy was evaluated over.
	Evaluated int
	// Total counts the delete decisions; the first Limit of them, in the
	// order a run carries them out, are within the caps.
	Total int
	Limit int
	// Cap says which cap Limit comes from, as a skipped_cap row would.
	Cap string
	// Warnings name the repositories a run would not delete in: never
	// scanned, or whose latest scan did not complete.
	Warnings []string

	work *store.DeletionPlan
}

// Each calls fn with every delete decision in the order a run carries them
// out (i from 0), stopping at fn's first error.
func (p *Plan) Each(ctx context.Context, fn func(i int, it janitor.Item) error) error {
	i := 0
	return planWork{p.work}.Read(ctx, 0, p.Total, func(items []janitor.Item) error {
		for _, it := range items {
			if err := fn(i, it); err != nil {
				return err
			}
			i++
		}
		return nil
	})
}

// Close releases the plan's temporary table.
func (p *Plan) Close() {
	if p.work != nil {
		_ = p.work.Close(context.Background())
	}
}

// Plan evaluates the policy over the artifacts already in the database, as
// Run would after its scans, and orders and caps the deletes as its janitor
// would (MAX_DELETIONS_PER_RUN and what the last 24 hours left of
// MAX_DELETIONS_PER_DAY). It makes no GitHub calls and records nothing; like
// a run, it holds one repository in memory at a time. The caller must Close
// the plan.
func (r *Runner) Plan(ctx context.Context) (*Plan, error) {
	now := r.cfg.Clock.Now()
	scans, err := r.store.LatestScans(ctx)
	if err != nil {
		return nil, err
	}
	latest := make(map[artifact.Repository]store.Scan, len(scans))
	for _, sc := range scans {
		latest[sc.Repository] = sc
	}
	work, err := r.store.TempPlan(ctx)
	if err != nil {
		return nil, err
	}
	p := &Plan{work: work}
	fail := func(err error) (*Plan, error) {
		p.Close()
		return nil, err
	}
	repos, err := r.planRepositories(ctx)
	if err != nil {
		return fail(err)
	}
	for _, repo := range repos {
		sc, scanned := latest[repo]
		switch {
		case !scanned:
			p.Warnings = append(p.Warnings, repo.String()+": never scanned; run 'retentiond scan' first")
			continue
		case sc.Status != store.ScanComplete:
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: latest scan %s (%s); a run would delete nothing here until a scan completes", repo, sc.Status, sc.Error))
		}
		if w, err := r.branchWarning(ctx, repo); err != nil {
			return fail(err)
		} else if w != "" {
			p.Warnings = append(p.Warnings, w)
		}
		n, err := r.planRepository(ctx, r.logger, nil, 0, work, repo, "", now)
		if err != nil {
			return fail(err)
		}
		p.Evaluated += n.evaluated
	}
	if p.Total, err = work.Order(ctx, now); err != nil {
		return fail(err)
	}
	if p.Limit, p.Cap, err = r.janitor(false, nil).Limit(ctx, now); err != nil {
		return fail(err)
	}
	return p, nil
}
