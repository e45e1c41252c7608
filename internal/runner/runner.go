// Package runner performs one retention run: scan every configured
// repository, evaluate the policy over what the database now holds, and hand
// the decisions to the janitor, all recorded as one row in runs.
//
// Only one run executes at a time across every process sharing the database
// (a PostgreSQL advisory lock), and deletions are planned only for
// repositories whose scan in this same run completed.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/budget"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/discovery"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"

	"github.com/retentiond/retentiond/internal/artifact"
)

// What starts a run, and how it ends: the store's typed values.
const (
	TriggerSchedule = store.TriggerSchedule
	TriggerManual   = store.TriggerManual
	TriggerApply    = store.TriggerApply

	StatusSucceeded = store.RunSucceeded
	StatusPartial   = store.RunPartial
	StatusFailed    = store.RunFailed
)

// Statuses are the statuses a finished run can have.
var Statuses = []store.RunStatus{StatusSucceeded, StatusPartial, StatusFailed}

// staleScan is how old a scan outside any run (a webhook's, or the scan
// command's) must be before a run treats it as abandoned by a dead process.
const staleScan = 24 * time.Hour

// ErrBusy is returned by Run with Wait false when another run holds the lock.
var ErrBusy = errors.New("another retentiond run is in progress on this database")

// Config tunes a Runner.
type Config struct {
	DryRun       bool
	MaxDeletions int
	// MaxDeletionsPerDay caps deletions over a rolling 24 hours across runs
	// (MAX_DELETIONS_PER_DAY); 0 means none.
	MaxDeletionsPerDay int
	DeleteInterval     time.Duration
	// DatabaseRetryFor is how long the store retries writes through a
	// database outage (DATABASE_RETRY_FOR); the end of a run is given that
	// long to be recorded even after a shutdown began.
	DatabaseRetryFor time.Duration
	// Archive is where delete rules with archive: true download to, and the
	// budget of each run (ARCHIVE_DIR, ARCHIVE_MAX_BYTES).
	Archive janitor.ArchiveConfig
	// Wait makes Run wait for another process's run to finish instead of
	// returning ErrBusy.
	Wait    bool
	Clock   clock.Clock
	Logger  *slog.Logger
	Metrics *Metrics // optional
	// Resolver resolves repositories patterns at the start of each run;
	// nil scans the policy's plain repositories only.
	Resolver Resolver
	// Budget, when set, makes a run check its estimated requests against
	// the rate limit before scanning, keeping RateLimitReserve (see budget.go).
	Budget           BudgetReader
	RateLimitReserve budget.Reserve
	// Branches lists branches for policies with branch_deleted; without
	// it, every decision that depends on them is blocked.
	Branches BranchScanner
}

// Runner performs runs.
type Runner struct {
	store   *store.Store
	gh      janitor.GitHub
	scanner *scanner.Scanner
	policy  *policy.Policy
	cfg     Config
	logger  *slog.Logger
}

// New returns a Runner.
func New(st *store.Store, gh janitor.GitHub, sc *scanner.Scanner, p *policy.Policy, cfg Config) *Runner {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{store: st, gh: gh, scanner: sc, policy: p, cfg: cfg, logger: cfg.Logger.With(slog.String("component", "runner"))}
}

// Summary is what one run did.
type Summary struct {
	RunID       int64
	Trigger     store.Trigger
	DryRun      bool
	Status      store.RunStatus
	Scan        scanner.Result
	Janitor     janitor.Report
	Reconciled  janitor.ReconcileReport
	Blocked     []artifact.Repository // repositories that got no deletions because their scan failed
	Budget      budget.Plan           // the request estimate, and the repositories skipped to keep the reserve
	StartedAt   time.Time
	FinishedAt  time.Time
	Error       string
	ArtifactsIn int // artifacts evaluated
	// Discovery is what the policy's repositories resolved to.
	Discovery discovery.Resolution
	// Savings is what the run saved in GB-hours, and the storage still
	// accruing when it ended; SavingsRecorded says it was computed.
	Savings         store.RunSavings
	SavingsRecorded bool
	// Branches are the branch listings the run made (branch_deleted).
	Branches []scanner.BranchResult
}

// janitor is the one place a janitor is made, for runs and applies alike.
// An apply always deletes (whatever DRY_RUN says) and re-reads each artifact
// first, so that it deletes only what a person reviewed.
//
// lock, when given, is checked before each DELETE: a run whose lock was
// lost (PostgreSQL restarted and another process took it) stops deleting.
func (r *Runner) janitor(apply bool, lock *store.RunLock) *janitor.Janitor {
	var guard func(context.Context) error
	if lock != nil {
		guard = lock.Check
	}
	return janitor.New(r.gh, r.store, janitor.Config{
		Guard:  guard,
		DryRun: r.cfg.DryRun && !apply, Verify: apply,
		MaxDeletions: r.cfg.MaxDeletions, MaxDeletionsPerDay: r.cfg.MaxDeletionsPerDay,
		Interval: r.cfg.DeleteInterval, Archive: r.cfg.Archive, DatabaseRetryFor: r.cfg.DatabaseRetryFor,
		Clock: r.cfg.Clock, Logger: r.cfg.Logger,
	})
}

// Reconcile takes the run lock and resolves deletions left pending by a
// process that died. serve calls it at start; Run does it before each run.
func (r *Runner) Reconcile(ctx context.Context) (janitor.ReconcileReport, error) {
	lock, err := r.lock(ctx)
	if err != nil {
		return janitor.ReconcileReport{}, err
	}
	defer lock.Unlock()
	return r.janitor(false, lock).Reconcile(ctx)
}

func (r *Runner) lock(ctx context.Context) (*store.RunLock, error) {
	lock, ok, err := r.store.TryRunLock(ctx)
	if err != nil {
		return nil, fmt.Errorf("taking the run lock: %w", err)
	}
	if ok {
		return lock, nil
	}
	if !r.cfg.Wait {
		return nil, ErrBusy
	}
	r.logger.InfoContext(ctx, "another run is in progress on this database; waiting for it to finish")
	lock, err = r.store.RunLock(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for the run lock: %w", err)
	}
	return lock, nil
}

// Run performs one run. The returned error is for runs that could not be
// carried out or recorded at all; a run that failed part-way is reported in
// Summary.Status and Summary.Error.
func (r *Runner) Run(ctx context.Context, trigger store.Trigger) (Summary, error) {
	j, unlock, reconciled, err := r.prepare(ctx, false)
	if err != nil {
		return Summary{}, err
	}
	defer unlock()

	sum := Summary{Trigger: trigger, DryRun: r.cfg.DryRun, Reconciled: reconciled, StartedAt: r.cfg.Clock.Now()}
	log, err := r.begin(ctx, &sum, 0)
	if err != nil {
		return sum, err
	}
	log.InfoContext(ctx, "run started", slog.String("trigger", string(trigger)), slog.Bool("dry_run", r.cfg.DryRun),
		slog.Int("repositories", len(r.policy.Repositories)))
	runErr := r.execute(ctx, log, j, &sum)
	return sum, r.record(ctx, log, &sum, runErr)
}

// prepare takes the run lock and cleans up after a process that died mid-run:
// pending deletions are resolved (their artifacts may be gone already, and
// the run must see the truth), and runs and scans left running are closed —
// none is live, since we hold the lock. j is the janitor of the run (of an
// apply when apply is set), guarded by the lock; unlock releases the lock.
func (r *Runner) prepare(ctx context.Context, apply bool) (j *janitor.Janitor, unlock func(), rec janitor.ReconcileReport, err error) {
	lock, err := r.lock(ctx)
	if err != nil {
		return nil, nil, rec, err
	}
	defer func() {
		if err != nil {
			lock.Unlock() // the caller gets no unlock func on error
		}
	}()
	j = r.janitor(apply, lock)
	rec, err = j.Reconcile(ctx)
	if err != nil {
		r.logger.WarnContext(ctx, "some interrupted deletions could not be resolved yet", slog.Any("error", err))
	}
	now := r.cfg.Clock.Now()
	n, err := r.store.AbandonRuns(ctx, now)
	if err != nil {
		return nil, nil, rec, err
	}
	if n > 0 {
		r.logger.WarnContext(ctx, "marked runs left running by a stopped process as failed", slog.Int("runs", n))
	}
	if _, err := r.store.DiscardPlans(ctx); err != nil {
		return nil, nil, rec, err
	}
	if n, err = r.store.AbandonScans(ctx, now.Add(-staleScan), now); err != nil {
		return nil, nil, rec, fmt.Errorf("closing abandoned scans: %w", err)
	}
	if n > 0 {
		r.logger.WarnContext(ctx, "marked scans left running by a stopped process as failed", slog.Int("scans", n))
	}
	// The run's audit rows must never wait on DDL: their partitions exist first.
	if _, err := r.store.EnsureAuditPartitions(ctx, now); err != nil {
		return nil, nil, rec, err
	}
	return j, lock.Unlock, rec, nil
}

// begin records the runs row of sum (reviewedID for an apply) and returns
// the logger of the run.
func (r *Runner) begin(ctx context.Context, sum *Summary, reviewedID int64) (*slog.Logger, error) {
	runID, err := r.store.CreateRun(ctx, store.NewRun{
		StartedAt: sum.StartedAt, Trigger: sum.Trigger, DryRun: sum.DryRun, PolicyFile: r.policy.File,
		PolicySHA256: r.policy.SHA256, MaxDeletions: r.cfg.MaxDeletions, ReviewedRunID: reviewedID,
	})
	if err != nil {
		return nil, fmt.Errorf("recording the run: %w", err)
	}
	sum.RunID = runID
	return r.logger.With(slog.Int64("run_id", runID)), nil
}

// record concludes the run, writes its totals and metrics, and logs its end.
// It writes even when ctx is done: a run interrupted by a shutdown is still
// recorded as such.
func (r *Runner) record(ctx context.Context, log *slog.Logger, sum *Summary, runErr error) error {
	sum.FinishedAt = r.cfg.Clock.Now()
	r.conclude(sum, runErr)
	noteBudget(sum)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second+r.cfg.DatabaseRetryFor)
	defer cancel()
	if err := r.store.FinishRun(fctx, sum.RunID, totals(sum)); err != nil {
		return fmt.Errorf("recording the end of run %d: %w", sum.RunID, err)
	}
	if err := r.store.RecordRunRequests(fctx, sum.RunID, requests(sum)); err != nil {
		return fmt.Errorf("recording the end of run %d: %w", sum.RunID, err)
	}
	r.cfg.Metrics.observe(sum)
	r.recordSavings(fctx, log, sum)
	level := slog.LevelInfo
	if sum.Status != StatusSucceeded {
		level = slog.LevelWarn
	}
	arts, bytes, reqs := sum.Scan.Totals()
	jr := sum.Janitor
	log.LogAttrs(ctx, level, "run finished",
		slog.String("trigger", string(sum.Trigger)), slog.String("status", string(sum.Status)),
		slog.Int("artifacts", arts), slog.Int64("bytes", bytes), slog.Int("requests", reqs),
		slog.Int("costed_requests", requests(sum).Costed), slog.Int("repositories_skipped", len(sum.Budget.Skipped)),
		slog.Int("planned_deletions", jr.Planned), slog.Int("deleted", jr.Deleted),
		slog.Int("already_gone", jr.AlreadyGone), slog.Int("failed", jr.Failed),
		slog.Int("changed", jr.Changed), slog.Int("expired_not_archived", jr.ExpiredNotArchived),
		slog.Int("skipped", jr.Skipped()), slog.Int("archived", jr.Archived),
		slog.Int64("would_reclaim", jr.WouldReclaim), slog.Int64("bytes_reclaimed", jr.BytesReclaimed),
		slog.Int("expired_listings", jr.ExpiredListings), slog.Bool("cap_hit", jr.CapHit),
		slog.Float64("gb_hours_saved", sum.Savings.Saved.GBHours), slog.Float64("gb_hours_would_save", sum.Savings.WouldSave.GBHours),
		slog.Duration("duration", sum.FinishedAt.Sub(sum.StartedAt)), slog.String("error", sum.Error))
	return nil
}

// execute scans, evaluates and runs the janitor. Its error is a failure of
// the run as a whole (the audit log could not be written, the database went
// away); per-repository problems are recorded in sum.
func (r *Runner) execute(ctx context.Context, log *slog.Logger, j *janitor.Janitor, sum *Summary) error {
	runID := sum.RunID
	repos, held, err := r.resolveRepositories(ctx, log, sum)
	if err != nil {
		return err
	}
	sum.Scan = r.scanner.ScanAll(ctx, r.budget(ctx, log, sum, repos), &runID)
	r.listBranches(ctx, log, sum)

	// One repository at a time: its decisions are evaluated, its keeps
	// recorded and its deletes added to the run's plan in the database, so
	// memory holds one repository, never the organisation.
	plan := r.store.RunPlan(runID)
	defer func() {
		if err := plan.Close(ctx); err != nil {
			log.WarnContext(ctx, "the run's deletion plan could not be discarded; the next run discards it", slog.Any("error", err))
		}
	}()
	// A shutdown stops the planning at the next repository, but what was
	// planned still goes to the janitor: every decision whose repository was
	// evaluated gets its row (interrupted, once ctx is done), so none is
	// left for the decisions view to fill with an earlier keep.
	var stopped error
	for _, rr := range sum.Scan.Repos {
		if rr.Status != scanner.StatusComplete {
			sum.Blocked = append(sum.Blocked, rr.Repository)
			log.WarnContext(ctx, "no deletions for this repository: its scan did not complete",
				slog.String("repository", rr.Repository.String()), slog.Any("error", rr.Err))
			continue
		}
		if ctx.Err() != nil {
			stopped = context.Cause(ctx)
			break
		}
		n, err := r.planRepository(ctx, log, j, runID, plan, rr.Repository, held[rr.Repository], r.cfg.Clock.Now())
		if err != nil {
			return err
		}
		sum.ArtifactsIn += n.evaluated
		sum.Janitor.Kept += n.kept
	}
	if stopped == nil && ctx.Err() != nil {
		stopped = context.Cause(ctx)
	}
	kept := sum.Janitor.Kept
	rep, err := j.ExecuteWork(ctx, runID, planWork{plan})
	rep.Kept = kept
	sum.Janitor = rep
	return errors.Join(stopped, err)
}

// conclude sets the run's status and error text. Reaching a deletion cap
// is normal operation, not a failure: the run is still succeeded (cap_hit
// and the text say it), so a Job that retries failed runs does not retry it
// and spend the cap again. What makes a run partial is work that did not
// happen or went wrong.
func (r *Runner) conclude(sum *Summary, runErr error) {
	var why []string
	if runErr != nil {
		why = append(why, runErr.Error())
	}
	why = append(why, sum.Discovery.Problems()...)
	for _, rr := range sum.Scan.Repos {
		if rr.Err != nil {
			why = append(why, fmt.Sprintf("%s: no deletions: %v", rr.Repository, rr.Err))
		}
	}
	why = append(why, branchProblems(sum)...)
	jr := sum.Janitor
	if jr.RateLimited {
		why = append(why, fmt.Sprintf("stopped at a GitHub rate limit: %d decisions skipped", jr.SkippedRateLimit))
	}
	switch {
	case jr.GuardError != "":
		why = append(why, fmt.Sprintf("stopped: %s: %d decisions not carried out", jr.GuardError, jr.Interrupted))
	case jr.Stopped:
		why = append(why, fmt.Sprintf("stopped by shutdown: %d decisions not carried out", jr.Interrupted))
	}
	if jr.Failed > 0 {
		why = append(why, fmt.Sprintf("%d deletions failed", jr.Failed))
	}
	if jr.Changed > 0 {
		why = append(why, fmt.Sprintf("%d artifact(s) changed since the review and were not deleted", jr.Changed))
	}
	if jr.ExpiredNotArchived > 0 {
		why = append(why, fmt.Sprintf("%d artifact(s) kept because their archive expired and their rule requires one", jr.ExpiredNotArchived))
	}
	problems := len(why)
	if jr.CapHit {
		why = append(why, fmt.Sprintf("deletion cap reached (%s): %d decisions skipped, left for the next run", jr.Cap, jr.SkippedCap))
	}
	sum.Error = strings.Join(why, "; ")
	switch {
	case runErr != nil, len(sum.Scan.Repos) > 0 && sum.Scan.Failed() == len(sum.Scan.Repos):
		sum.Status = StatusFailed
	case problems > 0:
		sum.Status = StatusPartial
	default:
		sum.Status = StatusSucceeded
	}
}

func totals(sum *Summary) store.RunTotals {
	arts, _, _ := sum.Scan.Totals()
	jr := sum.Janitor
	return store.RunTotals{
		FinishedAt:          sum.FinishedAt,
		Status:              sum.Status,
		RepositoriesScanned: len(sum.Scan.Repos) - sum.Scan.Failed(),
		RepositoriesFailed:  sum.Scan.Failed(),
		ArtifactsSeen:       arts,
		Kept:                jr.Kept,
		PlannedDeletions:    jr.Planned,
		Deleted:             jr.Deleted,
		AlreadyGone:         jr.AlreadyGone,
		Failed:              jr.Failed,
		Skipped:             jr.Skipped(),
		CapHit:              jr.CapHit,
		BytesReclaimed:      jr.BytesReclaimed,
		WouldReclaim:        jr.WouldReclaim,
		ExpiredListings:     jr.ExpiredListings,
		Error:               sum.Error,
	}
}
