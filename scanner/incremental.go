package scanner

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/budget"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
)

// perPage is what ListArtifactsPage asks for, and so how far each page
// reaches into the listing.
const perPage = budget.PerPage

// Incremental scanning.
//
// A repository whose last full listing is younger than FULL_SCAN_INTERVAL is
// scanned incrementally:
//
//  1. Page 1 is asked for with If-None-Match: the ETag of the latest scan
//     that could vouch for it. A 304 means page 1, and with it total_count,
//     is as it was; the store confirms the database still holds exactly that
//     many live artifacts, and the scan is complete at no rate-limit cost.
//  2. Otherwise pages are read newest first until one reaches an artifact id
//     at or below the highest seen so far. The store merges what was read and
//     reconciles: total_count must equal the live artifacts in the database,
//     and the live artifacts from the lowest id read upwards must be exactly
//     the ones read. Deletions retentiond made itself have set gone_at, so
//     they are accounted for. Expired artifacts stay listed until deleted,
//     so they count on both sides.
//  3. If either check fails — something was deleted elsewhere, expired off
//     the listing, or appeared below the known ids — the same scan goes on to
//     read the remaining pages and completes as a full scan, the only kind
//     that marks artifacts gone.
//
// Without an ETag from GitHub, step 1 is an ordinary read of page 1, so an
// unchanged repository costs exactly one request. A repository without
// state, or whose full listing is due, gets a full scan straight away.

// listing is one repository scan's progress through the pages.
type listing struct {
	s      *Scanner
	repo   artifact.Repository
	scanID int64
	rr     *RepoResult
	first  store.FirstPage
	total  int
	// next is the next page to read, 0 when the listing has ended.
	next int
	// lowest is the smallest artifact id read so far.
	lowest int64
}

func (s *Scanner) scanRepository(ctx context.Context, repo artifact.Repository, runID *int64) (rr RepoResult) {
	start := store.NewScan{Repository: repo, Kind: store.ScanKindRepository, RunID: runID}
	begin := s.clock.Now()
	start.StartedAt = begin
	rr = RepoResult{Repository: repo, Status: StatusFailed, Mode: store.ScanFull}
	defer func() {
		rr.Duration = s.clock.Now().Sub(begin)
		s.log(ctx, start, rr)
	}()

	var state store.ScanState
	if s.fullEvery > 0 {
		var err error
		if state, err = s.store.ScanStateOf(ctx, repo); err != nil {
			rr.Err = fmt.Errorf("scanning %s: loading its scan state: %w", repo, err)
			return rr
		}
	}
	id, err := s.store.StartScan(ctx, start)
	if err != nil {
		rr.Err = fmt.Errorf("scanning %s: recording the scan: %w", repo, err)
		return rr
	}
	rr.ScanID = id
	l := &listing{s: s, repo: repo, scanID: id, rr: &rr, next: 1}

	if err := l.run(ctx, state, begin); err != nil {
		rr.Err = fmt.Errorf("scanning %s: %w", repo, err)
		// The scan's own context may be what failed; recording the failure
		// must still happen, or the scan would stay "running" forever.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if ferr := s.store.FailScan(fctx, id, l.result(), rr.Err); ferr != nil {
			rr.Err = errors.Join(rr.Err, fmt.Errorf("recording the failed scan of %s: %w", repo, ferr))
		}
		return rr
	}
	rr.Status = StatusComplete
	return rr
}

// fullDue reports whether repo needs a full listing now, and why.
func (s *Scanner) fullDue(st store.ScanState, now time.Time) (bool, string) {
	switch {
	case s.fullEvery <= 0:
		return true, "incremental scans are off"
	case !st.Known:
		return true, "no scan state"
	case st.LastFullScanAt.IsZero():
		return true, "never fully listed"
	case fullPeriod(st.Repository, now, s.fullEvery) > fullPeriod(st.Repository, st.LastFullScanAt, s.fullEvery):
		return true, "FULL_SCAN_INTERVAL reached"
	}
	return false, ""
}

// fullPeriod numbers the FULL_SCAN_INTERVAL periods of repo: a full scan is
// due once a period boundary has passed since the last one, so there is at
// least one per interval, as with "the last is an interval old". Each
// repository's boundaries are offset by a hash of its name, so the full
// scans of an organisation spread evenly over the interval instead of all
// falling on one tick (which would cost the whole Σ ceil(n/100) at once).
func fullPeriod(repo artifact.Repository, t time.Time, interval time.Duration) int64 {
	h := fnv.New64a()
	h.Write([]byte(repo))
	phase := int64(h.Sum64() % uint64(interval))
	return (t.UnixNano() - phase) / int64(interval)
}

// run lists and completes the scan; an error leaves it to be failed.
func (l *listing) run(ctx context.Context, st store.ScanState, now time.Time) error {
	rr := l.rr
	if full, _ := l.s.fullDue(st, now); full {
		return l.full(ctx)
	}

	// 1. Page 1, conditionally.
	p, err := l.fetch(ctx, 1, st.ETag)
	if err != nil {
		return err
	}
	if p.NotModified {
		rec, err := l.s.store.CompleteNotModifiedScan(ctx, l.scanID, st.ETag, l.result())
		if err != nil {
			return err
		}
		if rec.OK {
			rr.Mode, rr.Artifacts, rr.Bytes = store.ScanNotModified, rec.Live, rec.LiveBytes
			return nil
		}
		rr.Fallback = "304, but " + rec.String()
		l.next = 1
		return l.full(ctx)
	}

	// 2. Newer pages, down to the known ids.
	for l.next != 0 && l.lowest > st.MaxArtifactID {
		if _, err := l.fetch(ctx, l.next, ""); err != nil {
			return err
		}
	}
	res := l.result()
	res.Mode = store.ScanIncremental
	counts, rec, err := l.s.store.CompleteIncrementalScan(ctx, l.scanID, res)
	if err != nil {
		return err
	}
	if rec.OK {
		rr.Mode, rr.New, rr.Artifacts, rr.Bytes = store.ScanIncremental, counts.New, rec.Live, rec.LiveBytes
		return nil
	}

	// 3. Not reconciled: the rest of the listing, as a full scan.
	rr.Fallback = rec.String()
	return l.full(ctx)
}

// full reads the pages from l.next to the end and completes a full scan.
func (l *listing) full(ctx context.Context) error {
	l.rr.Mode = store.ScanFull
	for l.next != 0 {
		if _, err := l.fetch(ctx, l.next, ""); err != nil {
			return err
		}
	}
	res := l.result()
	res.Mode = store.ScanFull
	counts, err := l.s.store.CompleteScan(ctx, l.scanID, res)
	if err != nil {
		return fmt.Errorf("completing the scan: %w", err)
	}
	l.rr.New, l.rr.Gone = counts.New, counts.Gone
	return nil
}

// fetch reads one page, stages it and works out the next.
func (l *listing) fetch(ctx context.Context, page int, etag string) (github.Page, error) {
	rr := l.rr
	p, err := l.s.lister.ListArtifactsPage(ctx, l.repo, page, etag)
	rr.Requests += p.Requests
	rr.Costed += p.Charged
	if err != nil {
		return p, err
	}
	if p.NotModified {
		return p, nil
	}
	if err := l.s.store.StageArtifacts(ctx, l.scanID, l.s.clock.Now(), p.Artifacts); err != nil {
		return p, fmt.Errorf("staging page %d: %w", page, err)
	}
	rr.Pages++
	rr.Artifacts += len(p.Artifacts)
	rr.Listed += len(p.Artifacts)
	if page == 1 {
		l.first = store.FirstPage{ETag: p.ETag, TotalCount: p.TotalCount}
		l.lowest = 1<<63 - 1
	}
	for i := range p.Artifacts {
		rr.Bytes += p.Artifacts[i].SizeInBytes
		l.lowest = min(l.lowest, p.Artifacts[i].ID)
	}
	l.total = p.TotalCount
	switch through := (page-1)*perPage + p.Listed(); {
	case p.NextPage == 0 && through < p.TotalCount:
		// go-github skips a Link entry it cannot read, so a garbled
		// header would otherwise end the listing early without a word.
		return p, fmt.Errorf("page %d: GitHub counts %d artifacts, this page ends at %d, and there is no next page",
			page, p.TotalCount, through)
	case p.NextPage == 0:
		l.next = 0
	case p.NextPage <= page:
		return p, fmt.Errorf("page %d: the next page is %d, not a later one", page, p.NextPage)
	default:
		l.next = p.NextPage
	}
	if len(p.Artifacts) == 0 {
		l.lowest = 0 // an empty page is the end of the listing: nothing newer is left
	}
	return p, nil
}

// result is what the scan has done so far, as the store records it.
func (l *listing) result() store.ScanResult {
	return store.ScanResult{
		Pages: l.rr.Pages, Requests: l.rr.Requests, Costed: l.rr.Costed, TotalCount: l.total,
		FinishedAt: l.s.clock.Now(), FirstPage: l.first,
	}
}

// EstimateRequests is the requests a scan of a repository in state st is
// expected to cost at now, for the budget: its full page count when a full
// listing is due, else one (page 1; free if it answers 304, but not counted
// on).
func (s *Scanner) EstimateRequests(st store.ScanState, now time.Time) int {
	if full, _ := s.fullDue(st, now); full {
		return budget.FullScanCost(st.Live)
	}
	return 1
}
