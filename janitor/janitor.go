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
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
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

// count adds a carried-out deletion of a to the report's storage figures.
func (r *Report) count(a *artifact.Artifact, now time.Time, bytes *int64) {
	if a.ExpiredAt(now) {
		r.ExpiredListings++
		return
	}
	*bytes += a.SizeInBytes
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
