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

// DiscoveredRepository is one repository an owner's listing showed.
type DiscoveredRepository struct {
	ID       int64
	FullName artifact.Repository
	Archived bool
	Fork     bool
}

// KnownRepository is one row of the repositories table.
type KnownRepository struct {
	DiscoveredRepository
	Owner       string
	FirstSeenAt time.Time
	LastSeenAt  time.Time
	// RenamedFrom is the name before the latest rename seen ("" if none).
	RenamedFrom artifact.Repository
	RenamedAt   time.Time
}

// Rename is a repository that a listing showed under a new name.
type Rename struct {
	ID       int64
	From, To artifact.Repository
	// Artifacts and Scans count the rows relinked to the new name.
	Artifacts, Scans int
}

// RecordRepositories records what one owner's listing showed at seenAt,
// in one transaction. A repository whose id is known under another name
// was renamed (or transferred): its artifacts and scans are relinked to the
// new name first, so its history carries on and its next scan does not
// find everything gone. Only artifacts that belong to that id (or have no
// workflow run to say) move, in case a new repository took the old name.
func (s *Store) RecordRepositories(ctx context.Context, repos []DiscoveredRepository, seenAt time.Time) ([]Rename, error) {
	var renames []Rename
	err := s.retry(ctx, "recording discovered repositories", func(ctx context.Context, _ bool) error {
		renames = nil
		return s.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			renames, err = recordRepositories(ctx, tx, repos, seenAt)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: recording discovered repositories: %w", err)
	}
	return renames, nil
}

func recordRepositories(ctx context.Context, tx pgx.Tx, repos []DiscoveredRepository, seenAt time.Time) ([]Rename, error) {
	n := len(repos)
	ids, names, owners := make([]int64, n), make([]string, n), make([]string, n)
	archived, forks := make([]bool, n), make([]bool, n)
	for i, r := range repos {
		ids[i], names[i], owners[i] = r.ID, string(r.FullName), r.FullName.Owner()
		archived[i], forks[i] = r.Archived, r.Fork
	}
	rows, err := tx.Query(ctx, `
		SELECT r.id, r.full_name, l.full_name
		FROM repositories r JOIN unnest($1::bigint[], $2::text[]) AS l(id, full_name) ON l.id = r.id
		WHERE r.full_name <> l.full_name
		ORDER BY r.id`, ids, names)
	if err != nil {
		return nil, fmt.Errorf("finding renamed repositories: %w", err)
	}
	renames, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Rename, error) {
		var r Rename
		err := row.Scan(&r.ID, &r.From, &r.To)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("finding renamed repositories: %w", err)
	}
	for i := range renames {
		r := &renames[i]
		tag, err := tx.Exec(ctx, `UPDATE artifacts SET repository = $2
			WHERE repository = $1 AND (repository_id IS NULL OR repository_id = $3)`, r.From, r.To, r.ID)
		if err != nil {
			return nil, fmt.Errorf("relinking the artifacts of %s to %s: %w", r.From, r.To, err)
		}
		r.Artifacts = int(tag.RowsAffected())
		tag, err = tx.Exec(ctx, `UPDATE scans SET repository = $2 WHERE repository = $1`, r.From, r.To)
		if err != nil {
			return nil, fmt.Errorf("relinking the scans of %s to %s: %w", r.From, r.To, err)
		}
		r.Scans = int(tag.RowsAffected())
		// What the incremental scan and the branch listing remember was
		// learnt under the old name (its ETags are of the old URLs): the
		// repository starts afresh under the new one, with a full scan.
		if _, err := tx.Exec(ctx, `DELETE FROM scan_state WHERE repository IN ($1, $2)`, r.From, r.To); err != nil {
			return nil, fmt.Errorf("resetting the scan state of %s: %w", r.From, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM branch_listings WHERE repository IN ($1, $2)`, r.From, r.To); err != nil {
			return nil, fmt.Errorf("resetting the branch listing of %s: %w", r.From, err)
		}
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO repositories AS r (id, full_name, owner, archived, fork, first_seen_at, last_seen_at)
		SELECT l.id, l.full_name, l.owner, l.archived, l.fork, $6, $6
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::boolean[], $5::boolean[]) AS l(id, full_name, owner, archived, fork)
		ON CONFLICT (id) DO UPDATE SET
			renamed_from = CASE WHEN r.full_name <> excluded.full_name THEN r.full_name ELSE r.renamed_from END,
			renamed_at = CASE WHEN r.full_name <> excluded.full_name THEN excluded.last_seen_at ELSE r.renamed_at END,
			full_name = excluded.full_name, owner = excluded.owner, archived = excluded.archived, fork = excluded.fork,
			last_seen_at = greatest(r.last_seen_at, excluded.last_seen_at)`,
		ids, names, owners, archived, forks, seenAt)
	if err != nil {
		return nil, fmt.Errorf("recording repositories: %w", err)
	}
	return renames, nil
}

// KnownRepositories returns the recorded repositories of owner (every
// owner's when owner is ""), by name. A run whose listing of an owner
// failed uses them to say which repositories it left alone.
func (s *Store) KnownRepositories(ctx context.Context, owner string) ([]KnownRepository, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, full_name, archived, fork, owner, first_seen_at, last_seen_at, renamed_from, renamed_at
		FROM repositories WHERE $1 = '' OR owner = $1 ORDER BY full_name, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("store: loading known repositories: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (KnownRepository, error) {
		var k KnownRepository
		var from pgtype.Text
		var at pgtype.Timestamptz
		err := row.Scan(&k.ID, &k.FullName, &k.Archived, &k.Fork, &k.Owner, &k.FirstSeenAt, &k.LastSeenAt, &from, &at)
		k.FirstSeenAt, k.LastSeenAt = k.FirstSeenAt.UTC(), k.LastSeenAt.UTC()
		k.RenamedFrom, k.RenamedAt = artifact.Repository(from.String), timeOf(at)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: loading known repositories: %w", err)
	}
	return out, nil
}

// RunDiscovery is what resolving the policy's repositories found at the
// start of a run, as recorded in runs.
type RunDiscovery struct {
	// Discovered counts the repositories the patterns matched in the
	// owners' listings (archived and excluded ones included).
	Discovered int
	// Archived counts the archived repositories among them: skipped, or
	// with include_archived scanned without deletions.
	Archived int
	// Excluded counts the listed repositories a pattern matched but a
	// "!" entry excluded.
	Excluded int
	// OwnersFailed counts the owners whose listing failed.
	OwnersFailed int
}

// RecordRunDiscovery records d on run id. It is retried (SetRetry).
func (s *Store) RecordRunDiscovery(ctx context.Context, id int64, d RunDiscovery) error {
	return s.retry(ctx, "recording a run's discovery", func(ctx context.Context, _ bool) error {
		_, err := s.pool.Exec(ctx, `UPDATE runs SET repositories_discovered = $2, repositories_archived = $3,
			repositories_excluded = $4, owners_failed = $5 WHERE id = $1`, id, d.Discovered, d.Archived, d.Excluded, d.OwnersFailed)
		if err != nil {
			return fmt.Errorf("store: recording the discovery of run %d: %w", id, err)
		}
		return nil
	})
}

// RunDiscoveries returns what discovery recorded on the runs ids, by id.
func (s *Store) RunDiscoveries(ctx context.Context, ids ...int64) (map[int64]RunDiscovery, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, repositories_discovered, repositories_archived, repositories_excluded, owners_failed
		FROM runs WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: reading the discovery of runs: %w", err)
	}
	out := make(map[int64]RunDiscovery, len(ids))
	var id int64
	var d RunDiscovery
	_, err = pgx.ForEachRow(rows, []any{&id, &d.Discovered, &d.Archived, &d.Excluded, &d.OwnersFailed}, func() error {
		out[id] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading the discovery of runs: %w", err)
	}
	return out, nil
}

// OwnerListing is the latest complete listing of an owner's repositories.
type OwnerListing struct {
	Owner string
	// User reports the owner is a user account (listed by /users/…).
	User bool
	// ETags are the pages' entity tags, page 1 first; empty when GitHub
	// gave none.
	ETags []string
	// ListedAt is when the listing was made: the repositories it showed
	// have last_seen_at ListedAt.
	ListedAt time.Time
}

// LatestOwnerListing returns the latest listing recorded for owner; ok is
// false when there is none.
func (s *Store) LatestOwnerListing(ctx context.Context, owner string) (l OwnerListing, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT owner, is_user, etags, listed_at FROM owner_listings WHERE owner = $1`, owner).
		Scan(&l.Owner, &l.User, &l.ETags, &l.ListedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return OwnerListing{}, false, nil
	}
	if err != nil {
		return OwnerListing{}, false, fmt.Errorf("store: reading the latest listing of %s: %w", owner, err)
	}
	l.ListedAt = l.ListedAt.UTC()
	return l, true, nil
}

// RecordOwnerListing records a complete listing of l.Owner that showed
// repos, in one transaction: the repositories as RecordRepositories does
// (renames relinked), and the listing itself, for the next one to be
// conditional.
func (s *Store) RecordOwnerListing(ctx context.Context, l OwnerListing, repos []DiscoveredRepository) ([]Rename, error) {
	var renames []Rename
	err := s.retry(ctx, "recording an owner's listing", func(ctx context.Context, _ bool) error {
		renames = nil
		return s.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			if renames, err = recordRepositories(ctx, tx, repos, l.ListedAt); err != nil {
				return err
			}
			etags := l.ETags
			if etags == nil {
				etags = []string{}
			}
			_, err = tx.Exec(ctx, `INSERT INTO owner_listings (owner, is_user, etags, listed_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (owner) DO UPDATE SET is_user = excluded.is_user, etags = excluded.etags, listed_at = excluded.listed_at`,
				l.Owner, l.User, etags, l.ListedAt)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: recording the listing of %s: %w", l.Owner, err)
	}
	return renames, nil
}

// TouchOwnerListing records that a conditional listing of owner found
// nothing changed at seenAt: the repositories of its latest listing are
// seen again, and the listing is dated seenAt.
func (s *Store) TouchOwnerListing(ctx context.Context, owner string, seenAt time.Time) error {
	return s.retry(ctx, "recording an unchanged listing", func(ctx context.Context, _ bool) error {
		return s.InTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE repositories r SET last_seen_at = $2
				FROM owner_listings l WHERE l.owner = $1 AND r.owner = $1 AND r.last_seen_at = l.listed_at`, owner, seenAt); err != nil {
				return fmt.Errorf("store: recording an unchanged listing of %s: %w", owner, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE owner_listings SET listed_at = $2 WHERE owner = $1`, owner, seenAt); err != nil {
				return fmt.Errorf("store: recording an unchanged listing of %s: %w", owner, err)
			}
			return nil
		})
	})
}

// ListedRepositories returns the repositories the latest listing of owner
// showed, by name: what an unchanged (304) listing stands for.
func (s *Store) ListedRepositories(ctx context.Context, owner string) ([]KnownRepository, error) {
	known, err := s.KnownRepositories(ctx, owner)
	if err != nil {
		return nil, err
	}
	l, ok, err := s.LatestOwnerListing(ctx, owner)
	if err != nil || !ok {
		return nil, err
	}
	out := known[:0]
	for _, k := range known {
		if k.LastSeenAt.Equal(l.ListedAt) {
			out = append(out, k)
		}
	}
	return out, nil
}
