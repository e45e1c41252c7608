// Package discovery resolves the policy's repositories list — plain
// owner/name entries, owner/glob patterns and !owner/glob exclusions — to
// the repositories a run or a scan works on, by listing the repositories of
// each owner that a pattern names.
//
// Resolution is where the safety rules about repositories a run cannot see
// clearly are decided: archived repositories are skipped (or, with
// include_archived, scanned without deletions), and when an owner's listing
// fails, none of that owner's pattern-matched repositories is scanned, so
// none gets a deletion and nothing of theirs is marked gone.
package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/policy"
)

// Lister lists the repositories of an owner. *github.Client meets it with
// GET /orgs/{owner}/repos (or /users/{owner}/repos), asking the pages of
// prev conditionally; a GitHub App's lister (GET /installation/repositories)
// can meet it as well, filtering by owner, and may ignore prev.
type Lister interface {
	ListOwnerRepositories(ctx context.Context, owner string, prev github.ListingState) (github.OwnerListing, error)
}

// Store records what listings showed, and recalls it when a listing is
// unchanged or fails.
type Store interface {
	LatestOwnerListing(ctx context.Context, owner string) (store.OwnerListing, bool, error)
	RecordOwnerListing(ctx context.Context, l store.OwnerListing, repos []store.DiscoveredRepository) ([]store.Rename, error)
	TouchOwnerListing(ctx context.Context, owner string, seenAt time.Time) error
	ListedRepositories(ctx context.Context, owner string) ([]store.KnownRepository, error)
	KnownRepositories(ctx context.Context, owner string) ([]store.KnownRepository, error)
}

// FullListingEvery bounds how long conditional listings are trusted: an
// owner whose latest full listing is older is listed in full again, even
// if GitHub would answer 304.
const FullListingEvery = 24 * time.Hour

// Status is what a run does with one repository.
type Status string

// The statuses.
const (
	// Scan: scanned and decided on.
	Scan Status = "scan"
	// ArchivedScanOnly: archived, and include_archived is set: scanned and
	// reported, but it gets no deletions (GitHub refuses them).
	ArchivedScanOnly Status = "archived_scan_only"
	// ArchivedSkipped: archived, so not scanned (the default).
	ArchivedSkipped Status = "archived_skipped"
	// Excluded: a "!" entry excludes it.
	Excluded Status = "excluded"
	// OwnerFailed: a pattern matched it in an earlier listing, but this
	// time the owner's listing failed, so it is left alone this run: not
	// scanned, no decisions, nothing marked gone.
	OwnerFailed Status = "owner_listing_failed"
)

// Repo is one repository the policy's list reaches.
type Repo struct {
	Repository artifact.Repository
	// ID is GitHub's repository id; 0 for a plain entry whose owner was
	// not listed.
	ID             int64
	Archived, Fork bool
	Status         Status
	// By is the entry that includes it ("acme/*"), ExcludedBy the one
	// that excludes it.
	By, ExcludedBy string
	// Reason says in words why the status is not Scan.
	Reason string
}

// Owner is the listing of one owner that patterns needed.
type Owner struct {
	Owner string
	// User reports that the owner is a user account, not an organisation.
	User bool
	// Listed counts the repositories the listing showed, matching or not.
	Listed int
	// NotModified reports that every page answered 304: the repositories
	// of the previous listing stand.
	NotModified bool
	Pages       int
	Requests    int
	// Counted is the requests that cost rate limit (a 304 does not).
	Counted int
	Err     error
}

// Resolution is what the policy's repositories list resolves to now.
type Resolution struct {
	// Repos lists every repository reached: plain entries in file order,
	// then each listed owner's pattern matches by name.
	Repos []Repo
	// Owners are the owners listed, in the order the patterns name them.
	Owners []Owner
	// Renames are the repositories the listings showed under a new name;
	// their stored artifacts and scans now carry it.
	Renames []store.Rename
}

// Scan returns the repositories to scan, in order.
func (r Resolution) Scan() []artifact.Repository {
	var out []artifact.Repository
	for _, rp := range r.Repos {
		if rp.Status == Scan || rp.Status == ArchivedScanOnly {
			out = append(out, rp.Repository)
		}
	}
	return out
}

// NoDeletions returns the scanned repositories that must get no deletions,
// each with the reason.
func (r Resolution) NoDeletions() map[artifact.Repository]string {
	out := map[artifact.Repository]string{}
	for _, rp := range r.Repos {
		if rp.Status == ArchivedScanOnly {
			out[rp.Repository] = rp.Reason
		}
	}
	return out
}

// Counts returns what a run records about the resolution.
func (r Resolution) Counts() store.RunDiscovery {
	var d store.RunDiscovery
	for _, rp := range r.Repos {
		if rp.ID != 0 && rp.Status != OwnerFailed {
			d.Discovered++
		}
		switch rp.Status {
		case ArchivedSkipped, ArchivedScanOnly:
			d.Archived++
		case Excluded:
			d.Excluded++
		}
	}
	for _, o := range r.Owners {
		if o.Err != nil {
			d.OwnersFailed++
		}
	}
	return d
}

// Problems says, one line per failed owner, why some repositories got
// nothing this run; a run with problems is partial.
func (r Resolution) Problems() []string {
	var out []string
	for _, o := range r.Owners {
		if o.Err == nil {
			continue
		}
		n := 0
		for _, rp := range r.Repos {
			if rp.Status == OwnerFailed && rp.Repository.Owner() == o.Owner {
				n++
			}
		}
		out = append(out, fmt.Sprintf("repositories of %s: listing failed, so none of its pattern-matched repositories was scanned or got deletions (%d known from earlier runs): %v",
			o.Owner, n, o.Err))
	}
	return out
}

// Err joins the owners' listing errors, or returns nil.
func (r Resolution) Err() error {
	var errs []error
	for _, o := range r.Owners {
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
	}
	return errors.Join(errs...)
}

// Resolver resolves policies' repositories lists.
type Resolver struct {
	lister Lister
	store  Store // may be nil: nothing recorded, nothing recalled
	clock  clock.Clock
	logger *slog.Logger
}

// New returns a Resolver listing owners through l and recording them in s
// (nil for a read-only resolution, as `retentiond repos` makes).
func New(l Lister, s Store, c clock.Clock, logger *slog.Logger) *Resolver {
	if c == nil {
		c = clock.Real{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Resolver{lister: l, store: s, clock: c, logger: logger.With(slog.String("component", "discovery"))}
}

// Resolve lists the owners p's patterns name, one after the other (a
// listing costs ceil(repositories/100) requests), and resolves p's list.
// A failed listing is reported in the Resolution, not as an error: the
// error is for the store failing, when the run cannot know what it found.
func (r *Resolver) Resolve(ctx context.Context, p *policy.Policy) (Resolution, error) {
	var res Resolution
	sel := p.Selector
	listed := map[artifact.Repository]store.DiscoveredRepository{}
	failed := map[string]bool{}
	for _, owner := range sel.PatternOwners() {
		o, found, err := r.listOwner(ctx, owner, &res)
		if err != nil {
			return res, err
		}
		res.Owners = append(res.Owners, o)
		if o.Err != nil {
			failed[owner] = true
			continue
		}
		for _, rp := range found {
			if _, dup := listed[rp.FullName]; !dup {
				listed[rp.FullName] = rp
			}
		}
	}

	seen := map[artifact.Repository]bool{}
	// Plain entries first, in file order. Their owner needs no listing;
	// when it was listed anyway, its flags apply to them too.
	for _, e := range sel.Entries() {
		if e.Kind != policy.SelectRepository {
			continue
		}
		name := artifact.Repository(e.Owner + "/" + e.Name)
		if seen[name] {
			continue
		}
		seen[name] = true
		rp := Repo{Repository: name, By: e.Text}
		if lr, ok := listed[name]; ok {
			rp.ID, rp.Archived, rp.Fork = lr.ID, lr.Archived, lr.Fork
		}
		res.Repos = append(res.Repos, r.classify(sel, p.IncludeArchived, rp))
	}
	// Then each owner's pattern matches, by name.
	for _, o := range res.Owners {
		var matches []Repo
		if failed[o.Owner] {
			matches = r.recall(ctx, sel, o.Owner, seen)
		} else {
			for name, lr := range listed {
				if name.Owner() != o.Owner || seen[name] {
					continue
				}
				if s := sel.Explain(string(name)); s.By != nil {
					rp := Repo{Repository: name, ID: lr.ID, Archived: lr.Archived, Fork: lr.Fork, By: s.By.Text}
					matches = append(matches, r.classify(sel, p.IncludeArchived, rp))
				}
			}
		}
		slices.SortFunc(matches, func(a, b Repo) int { return cmp.Compare(a.Repository, b.Repository) })
		for _, m := range matches {
			seen[m.Repository] = true
		}
		res.Repos = append(res.Repos, matches...)
	}
	return res, nil
}

// classify sets a repository's status from the exclusions and its flags.
func (r *Resolver) classify(sel *policy.Selector, includeArchived bool, rp Repo) Repo {
	if s := sel.Explain(string(rp.Repository)); s.ExcludedBy != nil {
		rp.Status, rp.ExcludedBy = Excluded, s.ExcludedBy.Text
		rp.Reason = "excluded by " + s.ExcludedBy.Text
		return rp
	}
	switch {
	case rp.Archived && includeArchived:
		rp.Status = ArchivedScanOnly
		rp.Reason = "archived: scanned and reported (include_archived), never deleted from, since GitHub refuses to delete its artifacts"
	case rp.Archived:
		rp.Status = ArchivedSkipped
		rp.Reason = "archived: skipped (GitHub refuses to delete its artifacts; include_archived: true scans it)"
	default:
		rp.Status = Scan
	}
	return rp
}

// recall returns the repositories of owner that the patterns matched in
// earlier listings, as left alone this run: the listing failed, and a run
// that cannot see the owner's repositories must not decide on them.
func (r *Resolver) recall(ctx context.Context, sel *policy.Selector, owner string, seen map[artifact.Repository]bool) []Repo {
	if r.store == nil {
		return nil
	}
	known, err := r.store.KnownRepositories(ctx, owner)
	if err != nil {
		// Only the report loses detail: nothing of this owner is scanned
		// either way.
		r.logger.WarnContext(ctx, "recalling an owner's known repositories", slog.String("owner", owner), slog.Any("error", err))
		return nil
	}
	var out []Repo
	for _, k := range known {
		s := sel.Explain(string(k.FullName))
		if seen[k.FullName] || s.By == nil || s.ExcludedBy != nil {
			continue
		}
		out = append(out, Repo{Repository: k.FullName, ID: k.ID, Archived: k.Archived, Fork: k.Fork, By: s.By.Text,
			Status: OwnerFailed, Reason: "the listing of " + owner + " failed: not scanned this run, no decisions, nothing marked gone"})
	}
	return out
}

// listOwner lists one owner, conditionally when the store has a recent
// listing, and records what it found. A failed listing is in Owner.Err;
// the error is for the store failing.
func (r *Resolver) listOwner(ctx context.Context, owner string, res *Resolution) (Owner, []store.DiscoveredRepository, error) {
	now := r.clock.Now()
	var prev github.ListingState
	if r.store != nil {
		l, ok, err := r.store.LatestOwnerListing(ctx, owner)
		if err != nil {
			return Owner{}, nil, err
		}
		if ok && now.Sub(l.ListedAt) < FullListingEvery {
			prev = github.ListingState{User: l.User, ETags: l.ETags}
		}
	}
	l, err := r.lister.ListOwnerRepositories(ctx, owner, prev)
	o := Owner{Owner: owner, User: l.State.User, NotModified: l.NotModified, Pages: l.Pages, Requests: l.Requests, Counted: l.Counted, Err: err}
	if err != nil {
		r.logger.WarnContext(ctx, "listing an owner's repositories failed: its pattern-matched repositories get nothing this run",
			slog.String("owner", owner), slog.Int("requests", l.Requests), slog.Any("error", err))
		return o, nil, nil
	}
	var found []store.DiscoveredRepository
	if l.NotModified {
		known, err := r.store.ListedRepositories(ctx, owner)
		if err != nil {
			return o, nil, fmt.Errorf("recalling the repositories of %s: %w", owner, err)
		}
		for _, k := range known {
			found = append(found, k.DiscoveredRepository)
		}
		if err := r.store.TouchOwnerListing(ctx, owner, now); err != nil {
			return o, nil, fmt.Errorf("recording the unchanged listing of %s: %w", owner, err)
		}
	} else {
		ids := map[int64]bool{}
		for _, rp := range l.Repositories {
			if !ids[rp.ID] {
				ids[rp.ID] = true
				found = append(found, store.DiscoveredRepository{ID: rp.ID, FullName: rp.FullName, Archived: rp.Archived, Fork: rp.Fork})
			}
		}
		if r.store != nil {
			renames, err := r.store.RecordOwnerListing(ctx, store.OwnerListing{Owner: owner, User: l.State.User, ETags: l.State.ETags, ListedAt: now}, found)
			if err != nil {
				return o, nil, fmt.Errorf("recording the repositories of %s: %w", owner, err)
			}
			for _, rn := range renames {
				r.logger.InfoContext(ctx, "repository renamed: its stored artifacts and scans now carry the new name",
					slog.Int64("repository_id", rn.ID), slog.String("from", rn.From.String()), slog.String("to", rn.To.String()),
					slog.Int("artifacts", rn.Artifacts), slog.Int("scans", rn.Scans))
			}
			res.Renames = append(res.Renames, renames...)
		}
	}
	o.Listed = len(found)
	r.logger.InfoContext(ctx, "listed an owner's repositories", slog.String("owner", owner), slog.Bool("user", o.User),
		slog.Bool("not_modified", o.NotModified), slog.Int("repositories", o.Listed), slog.Int("requests", o.Requests),
		slog.Int("counted_requests", o.Counted))
	return o, found, nil
}
