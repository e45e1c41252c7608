package scanner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
)

// BranchLister fetches one page of a repository's branch list,
// conditionally when given the page's ETag.
type BranchLister interface {
	ListBranchesPage(ctx context.Context, repo artifact.Repository, page int, etag string) (github.BranchPage, error)
}

// BranchStore keeps each repository's latest branch listing.
type BranchStore interface {
	BranchPages(ctx context.Context, repo artifact.Repository) ([]store.BranchPage, error)
	RecordBranchListing(ctx context.Context, repo artifact.Repository, l store.BranchListing) error
	FailBranchListing(ctx context.Context, repo artifact.Repository, at time.Time, cause error) error
}

// maxBranchPages bounds a listing, so a server whose Link headers never
// end cannot keep a scan going; 1,000 pages are 100,000 branches.
const maxBranchPages = 1000

// branchAttempts is how often a listing that changed while it was read is
// read again before it counts as failed.
const branchAttempts = 3

// errBranchesMoving is a listing that changed under every attempt.
var errBranchesMoving = errors.New("the branch list changed while it was being read")

// Branches lists repositories' branches into the store, for policies with
// branch_deleted.
type Branches struct {
	lister BranchLister
	store  BranchStore
	clock  clock.Clock
	logger *slog.Logger
}

// NewBranches returns a branch scanner reading from l and writing to s.
// Only opts.Clock and opts.Logger are used.
func NewBranches(l BranchLister, s BranchStore, opts Options) *Branches {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Branches{lister: l, store: s, clock: opts.Clock, logger: opts.Logger.With(slog.String("component", "scanner"))}
}

// BranchResult is the outcome of one repository's branch listing.
type BranchResult struct {
	Repository  artifact.Repository
	Pages       int
	Branches    int
	Requests    int
	NotModified int // pages answered 304: unchanged, and free
	Err         error
}

// Scan lists repo's branches and records them. Every page is asked for
// with the ETag the last listing got for it, so an unchanged page costs
// no rate limit. Pages are offsets, like the artifact list's: a branch
// created or deleted while the pages are read shifts the later ones, and a
// branch could slip from page 2 to page 1 unseen and be taken for deleted.
// So a listing of several pages is read again, conditionally (free when
// nothing changed), and only counts when every page is still the same. A
// failure is recorded, and makes the repository's branches unknown until
// a listing completes: no decision that depends on them is taken.
func (b *Branches) Scan(ctx context.Context, repo artifact.Repository) BranchResult {
	res := BranchResult{Repository: repo}
	err := b.scan(ctx, repo, &res)
	if err != nil {
		res.Err = fmt.Errorf("listing the branches of %s: %w", repo, err)
		// Recorded even when ctx is done: a listing cut short is a
		// failed one, and must not leave the previous one looking current.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if ferr := b.store.FailBranchListing(fctx, repo, b.clock.Now(), res.Err); ferr != nil {
			res.Err = errors.Join(res.Err, ferr)
		}
		b.logger.WarnContext(ctx, "branch listing failed: deletions that depend on branch_deleted are blocked",
			slog.String("repository", repo.String()), slog.Any("error", res.Err))
		return res
	}
	b.logger.InfoContext(ctx, "branches listed", slog.String("repository", repo.String()),
		slog.Int("branches", res.Branches), slog.Int("pages", res.Pages), slog.Int("requests", res.Requests),
		slog.Int("not_modified", res.NotModified))
	return res
}

func (b *Branches) scan(ctx context.Context, repo artifact.Repository, res *BranchResult) error {
	stored, err := b.store.BranchPages(ctx, repo)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		pages, err := b.read(ctx, repo, stored, res)
		if err != nil {
			return err
		}
		same := len(pages) == 1
		if !same {
			if same, err = b.unchanged(ctx, repo, pages, res); err != nil {
				return err
			}
		}
		if same {
			res.Pages, res.Branches = len(pages), 0
			for _, p := range pages {
				res.Branches += len(p.Names)
			}
			return b.store.RecordBranchListing(ctx, repo, store.BranchListing{
				ListedAt: b.clock.Now(), Pages: pages, Requests: res.Requests, NotModified: res.NotModified,
			})
		}
		if attempt == branchAttempts {
			return errBranchesMoving
		}
		stored = pages
	}
}

// read fetches every page, conditionally where stored has the page.
func (b *Branches) read(ctx context.Context, repo artifact.Repository, stored []store.BranchPage, res *BranchResult) ([]store.BranchPage, error) {
	var pages []store.BranchPage
	for page := 1; ; {
		if page > maxBranchPages {
			return nil, fmt.Errorf("more than %d pages", maxBranchPages)
		}
		var known *store.BranchPage
		if page <= len(stored) && stored[page-1].Page == page {
			known = &stored[page-1]
		}
		etag := ""
		if known != nil {
			etag = known.ETag
		}
		p, err := b.lister.ListBranchesPage(ctx, repo, page, etag)
		res.Requests += p.Requests
		if err != nil {
			return nil, err
		}
		next := p.NextPage
		if p.NotModified {
			// A 304 has no Link header; the stored listing says whether
			// a page followed this one.
			res.NotModified++
			pages = append(pages, store.BranchPage{Page: page, ETag: p.ETag, Names: known.Names})
			next = 0
			if page < len(stored) {
				next = page + 1
			}
		} else {
			pages = append(pages, store.BranchPage{Page: page, ETag: p.ETag, Names: p.Names})
		}
		if next == 0 {
			return pages, nil
		}
		if next <= page {
			return nil, fmt.Errorf("page %d: the next page is %d, not a later one", page, next)
		}
		page = next
	}
}

// unchanged asks for every page again with the ETag just received; it
// reports whether all of them answered 304.
func (b *Branches) unchanged(ctx context.Context, repo artifact.Repository, pages []store.BranchPage, res *BranchResult) (bool, error) {
	for _, pg := range pages {
		if pg.ETag == "" {
			return false, fmt.Errorf("page %d came without an ETag, so a listing of several pages cannot be checked for changes", pg.Page)
		}
		p, err := b.lister.ListBranchesPage(ctx, repo, pg.Page, pg.ETag)
		res.Requests += p.Requests
		if err != nil {
			return false, err
		}
		if !p.NotModified {
			return false, nil
		}
	}
	return true, nil
}
