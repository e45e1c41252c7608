// Package janitor carries out delete decisions — or, in dry-run, only records
// them — and writes every decision and its outcome to the audit log.
//
// The order of operations is the safety argument: the audit row is written
// with outcome "pending" and committed before the DELETE is sent, and resolved
// after; a row still pending at the next start is resolved by asking GitHub
// (see Reconcile). So no artifact is ever deleted without a row saying why,
// and a crash leaves a trail rather than a guess.
//
// Between the intent and the DELETE, checks may stand in the way: with
// Config.Verify (apply) the artifact is re-read and must still be what a
// person reviewed; with Decision.Archive its archive is downloaded and
// verified first. A check that does not pass ends the decision with its own
// outcome and no DELETE is sent.
package janitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/policy"
)

// GitHub is what the janitor needs of the API.
type GitHub interface {
	DeleteArtifact(ctx context.Context, repo artifact.Repository, id int64) error
	GetArtifact(ctx context.Context, repo artifact.Repository, id int64) (artifact.Artifact, error)
	archive.Downloader
}

// Store is what the janitor needs of the database.
type Store interface {
	InsertAudit(ctx context.Context, entries []store.AuditEntry) error
	InsertPending(ctx context.Context, e store.AuditEntry) (int64, error)
	ResolveAudit(ctx context.Context, id int64, r store.Resolution) error
	PendingAudit(ctx context.Context) ([]store.AuditEntry, error)
	DeletionsSince(ctx context.Context, t time.Time) (int, error)
}

// Item is one artifact with the policy's decision about it.
type Item struct {
	Artifact artifact.Artifact
	Decision policy.Decision
}

// Config tunes a Janitor.
type Config struct {
	// DryRun records what would be deleted without deleting anything.
	DryRun bool
	// MaxDeletions caps the DELETE calls (or, in dry-run, would-be calls) of one run.
	MaxDeletions int
	// MaxDeletionsPerDay caps the deletions of every run in a rolling 24
	// hours, counted from the audit log, so that retries and restarts
	// cannot multiply MaxDeletions (MAX_DELETIONS_PER_DAY). 0 means no daily
	// cap. A dry-run spends what real runs left of it, as a real run would.
	MaxDeletionsPerDay int
	// Interval paces DELETE calls; GitHub asks for mutating requests about a second apart.
	Interval time.Duration
	// Verify re-reads each artifact before deleting it and deletes it only
	// if its name, size and creation time are still those of the Item: apply
	// uses it to carry out exactly what a person reviewed.
	Verify bool
	// Archive governs decisions whose rule says archive: true.
	Archive ArchiveConfig
	// DatabaseRetryFor is how long the store retries a write through a
	// database outage (DATABASE_RETRY_FOR). The writes that must happen
	// even after a shutdown began — an outcome, the rows saying what was
	// not done — get that long on top of the time a DELETE takes.
	DatabaseRetryFor time.Duration
	// Guard, when set, is asked right before each DELETE whether this
	// process may still delete: the runner checks that it still holds the
	// run lock. An error stops the janitor; the decision and those after it
	// are recorded as interrupted.
	Guard  func(ctx context.Context) error
	Clock  clock.Clock
	Logger *slog.Logger
}

// ArchiveConfig says where archive-before-delete downloads go, and how much
// one Execute (one run) may download.
type ArchiveConfig struct {
	// Dir is ARCHIVE_DIR. Empty means archiving is not set up, and decisions
	// that ask for it fail rather than delete unarchived.
	Dir string
	// MaxBytes is ARCHIVE_MAX_BYTES, the budget of one Execute.
	MaxBytes int64
	// StallTimeout abandons a download that receives nothing for this long;
	// 0 means archive.DefaultStallTimeout.
	StallTimeout time.Duration
}

// Janitor executes decisions.
type Janitor struct {
	gh     GitHub
	store  Store
	cfg    Config
	clock  clock.Clock
	logger *slog.Logger
}

// New returns a Janitor.
func New(gh GitHub, st Store, cfg Config) *Janitor {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Janitor{gh: gh, store: st, cfg: cfg, clock: cfg.Clock, logger: cfg.Logger.With(slog.String("component", "janitor"))}
}

// Report counts what a run's janitor did.
type Report struct {
	Kept             int
	Planned          int // delete decisions
	DryRun           int
	Deleted          int
	AlreadyGone      int
	Failed           int
	SkippedCap       int
	SkippedRateLimit int
	Interrupted      int
	// Changed counts artifacts that differed from the reviewed decision
	// (Config.Verify) and were left alone.
	Changed int
	// ExpiredNotArchived counts artifacts kept because their rule requires
	// an archive and theirs had expired.
	ExpiredNotArchived int
	// Archived counts archives saved (and ArchivedBytes their size), whether
	// or not the DELETE that followed succeeded.
	Archived      int
	ArchivedBytes int64
	// BytesReclaimed is the storage freed: the size of the artifacts
	// deleted or found already gone, except expired ones, whose storage
	// GitHub had freed already.
	BytesReclaimed int64
	// WouldReclaim is, in dry-run, the storage the run would have freed,
	// counted the same way.
	WouldReclaim int64
	// ExpiredListings counts the delete decisions carried out (or, in
	// dry-run, that would have been) on expired artifacts: listings whose
	// storage was already freed. Their sizes are in neither byte count.
	ExpiredListings int
	CapHit          bool
	// Cap names the cap that was hit, e.g. "MAX_DELETIONS_PER_RUN=500".
	Cap         string
	RateLimited bool
	// Stopped is set when the context ended the janitor before it finished,
	// or Config.Guard stopped it; then GuardError says why.
	Stopped    bool
	GuardError string
}

// Skipped counts decisions that were not carried out for a reason other than
// failure: the cap, a rate limit, a shutdown, a change since the review or an
// expired archive that the rule required.
func (r Report) Skipped() int {
	return r.SkippedCap + r.SkippedRateLimit + r.Interrupted + r.Changed + r.ExpiredNotArchived
}

// RecordKeeps writes keep decisions to the audit log (outcome kept) in bulk.
func (j *Janitor) RecordKeeps(ctx context.Context, runID int64, items []Item) error {
	now := j.clock.Now()
	entries := make([]store.AuditEntry, 0, len(items))
	for i := range items {
		e := entry(runID, now, &items[i])
		e.Outcome = store.OutcomeKept
		entries = append(entries, e)
	}
	if err := j.store.InsertAudit(ctx, entries); err != nil {
		return fmt.Errorf("recording %d keep decisions: %w", len(entries), err)
	}
	return nil
}

// SortForExecution orders delete decisions the way they are executed:
// artifacts that still hold storage first, then expired listings (whose
// storage GitHub has freed already, so deleting them saves nothing), and
// within each, oldest first (ties by id). So the cap is spent on storage
// before listings, and a cap or a stop always spares the newest.
func SortForExecution(items []Item, now time.Time) {
	slices.SortStableFunc(items, func(a, b Item) int {
		if c := cmp.Compare(b2i(a.Artifact.ExpiredAt(now)), b2i(b.Artifact.ExpiredAt(now))); c != 0 {
			return c
		}
		if c := a.Artifact.CreatedAt.Compare(b.Artifact.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Artifact.ID, b.Artifact.ID)
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// count adds a carried-out deletion of a to the report's storage figures.
func (r *Report) count(a *artifact.Artifact, now time.Time, bytes *int64) {
	if a.ExpiredAt(now) {
		r.ExpiredListings++
		return
	}
	*bytes += a.SizeInBytes
}

// Work is a run's delete decisions in execution order, read a batch at a
// time, so that the janitor of a run over a whole organisation never holds
// them all (the runner's comes from the database; Items wraps a slice).
type Work interface {
	// Order fixes the execution order at now (SortForExecution's) and
	// returns how many decisions there are.
	Order(ctx context.Context, now time.Time) (int, error)
	// Read calls fn with the decisions at positions [from, to) of that
	// order, in batches, and returns fn's first error as it is.
	Read(ctx context.Context, from, to int, fn func([]Item) error) error
}

// batchSize is how many decisions the janitor reads, and records, at once:
// large enough that a dry-run of a million decisions is a thousand COPYs,
// small enough that a batch is a few hundred kilobytes.
const batchSize = 1000

// Items is Work over decisions already in memory (apply's, and tests').
func Items(items []Item) Work { return &sliceWork{items: slices.Clone(items)} }

type sliceWork struct{ items []Item }

func (w *sliceWork) Order(_ context.Context, now time.Time) (int, error) {
	SortForExecution(w.items, now)
	return len(w.items), nil
}

func (w *sliceWork) Read(_ context.Context, from, to int, fn func([]Item) error) error {
	for lo := from; lo < to; lo += batchSize {
		if err := fn(w.items[lo:min(lo+batchSize, to)]); err != nil {
			return err
		}
	}
	return nil
}

// Execute carries out delete decisions, oldest first, up to the cap: see
// ExecuteWork.
func (j *Janitor) Execute(ctx context.Context, runID int64, deletes []Item) (Report, error) {
	return j.ExecuteWork(ctx, runID, Items(deletes))
}

// ExecuteWork carries out delete decisions in w's order up to the cap.
// Every decision ends with an audit row: dry_run, deleted, already_gone,
// failed, skipped_cap, skipped_rate_limit, interrupted, changed or
// expired_not_archived. It returns an error only when the audit log itself
// (or w) cannot be read or written; GitHub failures are outcomes. In dry-run
// nothing is downloaded or re-read. Each call has its own archive budget.
//
// w is read on a context that survives ctx's end: after a shutdown the
// decisions not carried out still get their rows.
func (j *Janitor) ExecuteWork(ctx context.Context, runID int64, w Work) (Report, error) {
	var rep Report
	now := j.clock.Now()
	// Ordering and counting run even after a shutdown began: the decisions
	// not carried out must still be recorded.
	rctx := context.WithoutCancel(ctx)
	n, err := w.Order(rctx, now)
	if err != nil {
		return rep, err
	}
	rep.Planned = n
	limit, why, err := j.Limit(rctx, now)
	if err != nil {
		return rep, err
	}
	if n > limit {
		rep.CapHit, rep.Cap = true, strings.TrimPrefix(why, "over ")
		rep.SkippedCap = n - limit
		err := w.Read(rctx, limit, n, func(over []Item) error {
			return j.recordAll(ctx, runID, over, store.OutcomeSkippedCap, why)
		})
		if err != nil {
			return rep, err
		}
		n = limit
	}
	if j.cfg.DryRun {
		err := w.Read(rctx, 0, n, func(items []Item) error {
			for i := range items {
				rep.count(&items[i].Artifact, now, &rep.WouldReclaim)
			}
			rep.DryRun += len(items)
			return j.recordAll(ctx, runID, items, store.OutcomeDryRun, "")
		})
		return rep, err
	}
	d := &deleter{j: j, runID: runID, arch: j.archiver(), rep: &rep}
	err = w.Read(rctx, 0, n, func(items []Item) error { return d.batch(ctx, items) })
	return rep, err
}

// Limit returns how many deletions an Execute at now may make, and the text
// that explains the cap to the decisions past it: the smaller of the
// per-run cap and what the last 24 hours left of the daily one.
func (j *Janitor) Limit(ctx context.Context, now time.Time) (int, string, error) {
	limit := max(j.cfg.MaxDeletions, 0)
	why := fmt.Sprintf("over MAX_DELETIONS_PER_RUN=%d", limit)
	if j.cfg.MaxDeletionsPerDay <= 0 {
		return limit, why, nil
	}
	used, err := j.store.DeletionsSince(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return 0, "", fmt.Errorf("counting the deletions of the last 24 hours for MAX_DELETIONS_PER_DAY: %w", err)
	}
	if left := max(j.cfg.MaxDeletionsPerDay-used, 0); left < limit {
		limit = left
		why = fmt.Sprintf("over MAX_DELETIONS_PER_DAY=%d: %d deletions in the last 24 hours, %d left", j.cfg.MaxDeletionsPerDay, used, left)
	}
	return limit, why, nil
}

// archiver returns the Archiver of one Execute, or nil when archiving is not
// set up.
func (j *Janitor) archiver() *archive.Archiver {
	if j.cfg.Archive.Dir == "" {
		return nil
	}
	return &archive.Archiver{Dir: j.cfg.Archive.Dir, MaxBytes: j.cfg.Archive.MaxBytes, StallTimeout: j.cfg.Archive.StallTimeout}
}

// recordAll writes one audit row per item with the same outcome.
func (j *Janitor) recordAll(ctx context.Context, runID int64, items []Item, outcome store.Outcome, msg string) error {
	if len(items) == 0 {
		return nil
	}
	now := j.clock.Now()
	entries := make([]store.AuditEntry, len(items))
	for i := range items {
		entries[i] = entry(runID, now, &items[i])
		entries[i].Outcome = outcome
		entries[i].Error = msg
	}
	// Written even when ctx is done: these rows say what was not done and why.
	wctx, cancel := j.detached(ctx)
	defer cancel()
	if err := j.store.InsertAudit(wctx, entries); err != nil {
		return fmt.Errorf("recording %d %s decisions: %w", len(entries), outcome, err)
	}
	return nil
}

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

func entry(runID int64, now time.Time, it *Item) store.AuditEntry {
	a := &it.Artifact
	action := store.ActionKeep
	if it.Decision.Action == policy.Delete {
		action = store.ActionDelete
	}
	return store.AuditEntry{
		RunID:             runID,
		RecordedAt:        now,
		Repository:        a.Repository,
		ArtifactID:        a.ID,
		ArtifactName:      a.Name,
		SizeInBytes:       a.SizeInBytes,
		Branch:            a.Branch,
		HeadSHA:           a.HeadSHA,
		ArtifactCreatedAt: a.CreatedAt,
		Action:            action,
		Rule:              it.Decision.Rule,
		Reason:            it.Decision.Reason,
		Expired:           a.ExpiredAt(now),
	}
}

// detached returns a context that survives ctx's cancellation for long
// enough to finish one DELETE and write its outcome, retries included.
func (j *Janitor) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second+j.cfg.DatabaseRetryFor)
}
