// Package scanner lists the artifacts of each configured repository through
// the GitHub API and records them in PostgreSQL.
//
// Pages are staged in the database as they arrive, so memory does not grow
// with the number of artifacts. A scan only becomes the truth — artifacts
// upserted, missing ones marked gone — when every page was read; a scan that
// fails part-way leaves the artifacts table as it was, because acting on half a
// listing is how cleanup tools delete the wrong things.
package scanner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
)

// Lister pages through artifacts, calling fn once per page as it arrives.
type Lister interface {
	ListArtifacts(ctx context.Context, repo artifact.Repository, fn func([]artifact.Artifact) error) (github.ListStats, error)
	ListRunArtifacts(ctx context.Context, repo artifact.Repository, runID int64, fn func([]artifact.Artifact) error) (github.ListStats, error)
	// ListArtifactsPage fetches one page of a repository's listing, newest
	// first, conditionally when etag is set.
	ListArtifactsPage(ctx context.Context, repo artifact.Repository, page int, etag string) (github.Page, error)
}

// Store records scans and their artifacts.
type Store interface {
	StartScan(ctx context.Context, n store.NewScan) (int64, error)
	StageArtifacts(ctx context.Context, scanID int64, seenAt time.Time, arts []artifact.Artifact) error
	CompleteScan(ctx context.Context, scanID int64, r store.ScanResult) (store.ScanCounts, error)
	FailScan(ctx context.Context, scanID int64, r store.ScanResult, cause error) error
	UpsertArtifacts(ctx context.Context, scanID int64, seenAt time.Time, arts []artifact.Artifact) (store.ScanCounts, error)
	ScanStateOf(ctx context.Context, repo artifact.Repository) (store.ScanState, error)
	CompleteIncrementalScan(ctx context.Context, scanID int64, r store.ScanResult) (store.ScanCounts, store.Reconciliation, error)
	CompleteNotModifiedScan(ctx context.Context, scanID int64, etag string, r store.ScanResult) (store.Reconciliation, error)
}

// Status values of a scan, as stored in scans.status.
const (
	StatusComplete = store.ScanComplete
	StatusFailed   = store.ScanFailed
)

// Options tune a Scanner.
type Options struct {
	// Concurrency is how many repositories are scanned at once (SCAN_CONCURRENCY).
	Concurrency int
	// FullScanInterval is the longest a repository goes without a full
	// listing (FULL_SCAN_INTERVAL); in between, scans are incremental. Zero
	// makes every repository scan full.
	FullScanInterval time.Duration
	Clock            clock.Clock
	Logger           *slog.Logger
}

// Scanner scans repositories into the store.
type Scanner struct {
	lister      Lister
	store       Store
	clock       clock.Clock
	logger      *slog.Logger
	concurrency int
	fullEvery   time.Duration
}

// New returns a Scanner reading from l and writing to s.
func New(l Lister, s Store, opts Options) *Scanner {
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scanner{
		lister:      l,
		store:       s,
		clock:       opts.Clock,
		logger:      opts.Logger.With(slog.String("component", "scanner")),
		concurrency: opts.Concurrency,
		fullEvery:   opts.FullScanInterval,
	}
}

// RepoResult is the outcome of one repository's scan.
type RepoResult struct {
	Repository artifact.Repository
	ScanID     int64
	Status     store.ScanStatus // StatusComplete or StatusFailed
	Pages      int
	Requests   int
	// Costed is how many of Requests counted against the primary rate
	// limit: a 304 to a conditional request does not.
	Costed int
	// Mode is how a repository scan listed (full, incremental or
	// not_modified); empty for workflow-run scans.
	Mode store.ScanMode
	// Fallback, when set, says why an incremental or not-modified scan did
	// not reconcile and went on to list every page.
	Fallback string
	// Artifacts is the artifacts the scan vouches for, and Bytes their
	// total size_in_bytes: those listed by a full or workflow-run scan; the
	// repository's live artifacts, reconciled, for an incremental or
	// not-modified one, which lists few or none of them.
	Artifacts int
	Bytes     int64
	// Listed is how many artifacts the scan's pages held.
	Listed   int
	New      int // first seen in this scan
	Gone     int // marked gone by this scan
	Duration time.Duration
	Err      error
}

// Result is the outcome of scanning several repositories, in the order asked.
type Result struct {
	Repos []RepoResult
}

// Failed returns the number of repositories whose scan failed.
func (r Result) Failed() int {
	n := 0
	for _, rr := range r.Repos {
		if rr.Status != StatusComplete {
			n++
		}
	}
	return n
}

// Err joins the errors of every failed scan, or returns nil.
func (r Result) Err() error {
	var errs []error
	for _, rr := range r.Repos {
		if rr.Err != nil {
			errs = append(errs, rr.Err)
		}
	}
	return errors.Join(errs...)
}

// Totals sums artifacts, bytes and requests over all repositories.
func (r Result) Totals() (artifacts int, bytes int64, requests int) {
	for _, rr := range r.Repos {
		artifacts += rr.Artifacts
		bytes += rr.Bytes
		requests += rr.Requests
	}
	return artifacts, bytes, requests
}

// ScanAll scans repos, up to the configured concurrency at once. One
// repository failing does not stop the others. runID ties the scans to a
// janitor run and may be nil.
func (s *Scanner) ScanAll(ctx context.Context, repos []artifact.Repository, runID *int64) Result {
	res := Result{Repos: make([]RepoResult, len(repos))}
	sem := make(chan struct{}, s.concurrency)
	var wg sync.WaitGroup
	for i, repo := range repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				res.Repos[i] = RepoResult{Repository: repo, Status: StatusFailed, Err: fmt.Errorf("scanning %s: %w", repo, ctx.Err())}
				return
			}
			defer func() { <-sem }()
			res.Repos[i] = s.ScanRepository(ctx, repo, runID)
		}()
	}
	wg.Wait()
	return res
}

// ScanRepository scans repo and records the scan: a full listing when one
// is due (see Options.FullScanInterval), else an incremental one that falls
// back to a full listing unless it reconciles (see incremental.go).
func (s *Scanner) ScanRepository(ctx context.Context, repo artifact.Repository, runID *int64) RepoResult {
	return s.scanRepository(ctx, repo, runID)
}

// ScanWorkflowRun lists the artifacts of one workflow run and upserts them.
// It is far cheaper than a repository scan when a single run just finished,
// but it never marks anything gone: it does not see the whole repository.
func (s *Scanner) ScanWorkflowRun(ctx context.Context, repo artifact.Repository, workflowRunID int64) RepoResult {
	return s.scan(ctx, store.NewScan{Repository: repo, Kind: store.ScanKindWorkflowRun, WorkflowRunID: workflowRunID},
		func(fn func([]artifact.Artifact) error) (github.ListStats, error) {
			return s.lister.ListRunArtifacts(ctx, repo, workflowRunID, fn)
		})
}

// scan returns a named result so that the deferred Duration reaches the
// caller: a deferred assignment to a local is lost once "return rr" has copied it.
func (s *Scanner) scan(ctx context.Context, start store.NewScan, list func(func([]artifact.Artifact) error) (github.ListStats, error)) (rr RepoResult) {
	repo := start.Repository
	begin := s.clock.Now()
	start.StartedAt = begin
	rr = RepoResult{Repository: repo, Status: StatusFailed}
	defer func() {
		rr.Duration = s.clock.Now().Sub(begin)
		s.log(ctx, start, rr)
	}()

	id, err := s.store.StartScan(ctx, start)
	if err != nil {
		rr.Err = fmt.Errorf("scanning %s: recording the scan: %w", repo, err)
		return rr
	}
	rr.ScanID = id

	stats, err := list(func(page []artifact.Artifact) error {
		seen := s.clock.Now()
		if start.Kind == store.ScanKindWorkflowRun {
			counts, err := s.store.UpsertArtifacts(ctx, id, seen, page)
			if err != nil {
				return fmt.Errorf("storing page %d: %w", rr.Pages+1, err)
			}
			rr.New += counts.New
		} else if err := s.store.StageArtifacts(ctx, id, seen, page); err != nil {
			return fmt.Errorf("staging page %d: %w", rr.Pages+1, err)
		}
		rr.Pages++
		rr.Artifacts += len(page)
		rr.Listed += len(page)
		for i := range page {
			rr.Bytes += page[i].SizeInBytes
		}
		return nil
	})
	rr.Requests, rr.Costed = stats.Requests, stats.Requests // no conditional requests here
	result := store.ScanResult{Pages: rr.Pages, Requests: stats.Requests, TotalCount: stats.TotalCount, Costed: rr.Costed}
	if err != nil {
		rr.Err = fmt.Errorf("scanning %s: %w", repo, err)
		result.FinishedAt = s.clock.Now()
		// The scan's own context may be what failed; recording the failure
		// must still happen, or the scan would stay "running" forever.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if ferr := s.store.FailScan(fctx, id, result, rr.Err); ferr != nil {
			rr.Err = errors.Join(rr.Err, fmt.Errorf("recording the failed scan of %s: %w", repo, ferr))
		}
		return rr
	}
	result.FinishedAt = s.clock.Now()
	counts, err := s.store.CompleteScan(ctx, id, result)
	if err != nil {
		rr.Err = fmt.Errorf("scanning %s: completing the scan: %w", repo, err)
		return rr
	}
	rr.Status = StatusComplete
	if start.Kind == store.ScanKindRepository {
		rr.New, rr.Gone = counts.New, counts.Gone
	}
	return rr
}

func (s *Scanner) log(ctx context.Context, start store.NewScan, rr RepoResult) {
	attrs := []slog.Attr{
		slog.String("repository", rr.Repository.String()),
		slog.String("kind", string(start.Kind)),
		slog.String("status", string(rr.Status)),
		slog.Int("artifacts", rr.Artifacts),
		slog.Int("listed", rr.Listed),
		slog.Int64("bytes", rr.Bytes),
		slog.Int("pages", rr.Pages),
		slog.Int("requests", rr.Requests),
		slog.Int("costed_requests", rr.Costed),
		slog.Duration("duration", rr.Duration),
	}
	if rr.Mode != "" {
		attrs = append(attrs, slog.String("mode", string(rr.Mode)))
	}
	if rr.Fallback != "" {
		attrs = append(attrs, slog.String("fallback", rr.Fallback))
	}
	if start.Kind == store.ScanKindWorkflowRun {
		attrs = append(attrs, slog.Int64("workflow_run_id", start.WorkflowRunID))
	}
	if rr.Status == StatusComplete {
		attrs = append(attrs, slog.Int("new", rr.New), slog.Int("gone", rr.Gone))
		s.logger.LogAttrs(ctx, slog.LevelInfo, "scan complete", attrs...)
		return
	}
	attrs = append(attrs, slog.Any("error", rr.Err))
	s.logger.LogAttrs(ctx, slog.LevelError, "scan failed", attrs...)
}
