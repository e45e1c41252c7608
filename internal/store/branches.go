package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/retentiond/retentiond/internal/artifact"
)

// BranchPage is one page of a repository's latest complete branch listing.
type BranchPage struct {
	Page  int
	ETag  string
	Names []string
}

// BranchListing is a complete listing of a repository's branches.
type BranchListing struct {
	ListedAt    time.Time
	Pages       []BranchPage // pages 1..n, in order
	Requests    int
	NotModified int // pages GitHub answered 304 for
}

// Branches is what the database knows of a repository's branches.
type Branches struct {
	// Complete reports that the latest listing completed; when false (no
	// listing yet, or the latest failed), Names is empty and nothing may
	// be concluded about any branch.
	Complete bool
	Names    map[string]bool
	ListedAt time.Time
	Error    string // the latest listing's failure
}

// BranchPages returns the pages of repo's latest complete listing (even
// when a later listing failed), for the next listing's conditional
// requests; none when it was never listed.
func (s *Store) BranchPages(ctx context.Context, repo artifact.Repository) ([]BranchPage, error) {
	rows, err := s.pool.Query(ctx, `SELECT page, coalesce(etag, ''), names FROM branch_pages WHERE repository = $1 ORDER BY page`, repo)
	if err != nil {
		return nil, fmt.Errorf("store: branch pages of %s: %w", repo, err)
	}
	pages, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BranchPage, error) {
		var p BranchPage
		err := r.Scan(&p.Page, &p.ETag, &p.Names)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: branch pages of %s: %w", repo, err)
	}
	return pages, nil
}

// RecordBranchListing replaces repo's branch pages with a complete listing,
// in one transaction. It is retried (SetRetry) and idempotent.
func (s *Store) RecordBranchListing(ctx context.Context, repo artifact.Repository, l BranchListing) error {
	if len(l.Pages) == 0 {
		return fmt.Errorf("store: recording the branches of %s: a listing has at least one page", repo)
	}
	for i, p := range l.Pages {
		if p.Page != i+1 {
			return fmt.Errorf("store: recording the branches of %s: page %d where page %d belongs", repo, p.Page, i+1)
		}
	}
	n := 0
	for _, p := range l.Pages {
		n += len(p.Names)
	}
	return s.retry(ctx, "recording a branch listing", func(ctx context.Context, _ bool) error {
		return s.InTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `
				INSERT INTO branch_listings (repository, listed_at, status, pages, branches, requests, not_modified, error)
				VALUES ($1, $2, 'complete', $3, $4, $5, $6, NULL)
				ON CONFLICT (repository) DO UPDATE SET listed_at = $2, status = 'complete', pages = $3, branches = $4,
					requests = $5, not_modified = $6, error = NULL`,
				repo, l.ListedAt, len(l.Pages), n, l.Requests, l.NotModified); err != nil {
				return fmt.Errorf("store: recording the branches of %s: %w", repo, err)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM branch_pages WHERE repository = $1`, repo); err != nil {
				return fmt.Errorf("store: recording the branches of %s: %w", repo, err)
			}
			for _, p := range l.Pages {
				names := p.Names
				if names == nil {
					names = []string{}
				}
				if _, err := tx.Exec(ctx, `INSERT INTO branch_pages (repository, page, etag, names) VALUES ($1, $2, $3, $4)`,
					repo, p.Page, nullString(p.ETag), names); err != nil {
					return fmt.Errorf("store: recording the branches of %s page %d: %w", repo, p.Page, err)
				}
			}
			return nil
		})
	})
}

// FailBranchListing records that listing repo's branches failed. The pages
// of the last complete listing stay for the next conditional requests, but
// Branches reports the repository as not known until a listing completes:
// a branch list that could not be read proves nothing about which branches
// are gone.
func (s *Store) FailBranchListing(ctx context.Context, repo artifact.Repository, at time.Time, cause error) error {
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	return s.retry(ctx, "recording a failed branch listing", func(ctx context.Context, _ bool) error {
		_, err := s.pool.Exec(ctx, `
			INSERT INTO branch_listings (repository, listed_at, status, error) VALUES ($1, $2, 'failed', $3)
			ON CONFLICT (repository) DO UPDATE SET listed_at = $2, status = 'failed', error = $3`, repo, at, msg)
		if err != nil {
			return fmt.Errorf("store: recording the failed branch listing of %s: %w", repo, err)
		}
		return nil
	})
}

// Branches returns what the latest branch listing of repo says.
func (s *Store) Branches(ctx context.Context, repo artifact.Repository) (Branches, error) {
	var b Branches
	var status string
	var errText pgtype.Text
	err := s.pool.QueryRow(ctx, `SELECT listed_at, status, error FROM branch_listings WHERE repository = $1`, repo).
		Scan(&b.ListedAt, &status, &errText)
	if errors.Is(err, pgx.ErrNoRows) {
		return Branches{Error: "never listed"}, nil
	}
	if err != nil {
		return Branches{}, fmt.Errorf("store: branches of %s: %w", repo, err)
	}
	b.ListedAt, b.Error = b.ListedAt.UTC(), errText.String
	if status != "complete" {
		return b, nil
	}
	pages, err := s.BranchPages(ctx, repo)
	if err != nil {
		return Branches{}, err
	}
	b.Complete = true
	b.Names = map[string]bool{}
	for _, p := range pages {
		for _, n := range p.Names {
			b.Names[n] = true
		}
	}
	return b, nil
}

// Annotate sets the BranchState of each of arts (all of one repository)
// from b.
func (b Branches) Annotate(arts []artifact.Artifact) {
	for i := range arts {
		switch {
		case !b.Complete || arts[i].Branch == "":
			arts[i].BranchState = artifact.BranchUnknown
		case b.Names[arts[i].Branch]:
			arts[i].BranchState = artifact.BranchExists
		default:
			arts[i].BranchState = artifact.BranchDeleted
		}
	}
}
