package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/retentiond/retentiond/internal/artifact"
)

// StorageKey is what the storage report groups artifacts by.
type StorageKey string

// The groupings.
const (
	ByRepository StorageKey = "repository"
	ByName       StorageKey = "name"
	ByBranch     StorageKey = "branch"
)

// ParseStorageKey reads a --by value.
func ParseStorageKey(s string) (StorageKey, error) {
	switch k := StorageKey(s); k {
	case ByRepository, ByName, ByBranch:
		return k, nil
	}
	return "", fmt.Errorf("unknown grouping %q; accepted: repository, name, branch", s)
}

// StorageGroup is the storage of one group of artifacts retentiond knows
// as not gone. Live artifacts are billed by the hour; expired ones are
// listings whose storage GitHub has already freed.
type StorageGroup struct {
	// Key is the repository, artifact name or branch ("" for artifacts
	// without a branch). Other is set on the row that sums every group
	// past the top N.
	Key            string
	Other          bool
	Groups         int // how many groups the row stands for (1, or more for Other)
	Live           int
	LiveBytes      int64
	Expired        int
	ExpiredBytes   int64
	LargestBytes   int64     // the largest live artifact
	OldestCreated  time.Time // the oldest live artifact's created_at; zero when unknown
	NewestCreated  time.Time
	RepositoryKeys int // distinct repositories in the group
}

// StorageFilter selects the storage report's artifacts.
type StorageFilter struct {
	By         StorageKey
	Repository artifact.Repository // only this one, when set
	Top        int                 // at most this many groups, then one Other row; 0 for all
	Now        time.Time           // what counts as expired
}

// Storage returns the storage of the artifacts that are not gone, grouped
// by f.By, the largest live storage first (ties by key), with the groups
// past f.Top summed into one row with Other set.
func (s *Store) Storage(ctx context.Context, f StorageFilter) ([]StorageGroup, error) {
	col := map[StorageKey]string{ByRepository: "repository", ByName: "name", ByBranch: "coalesce(branch, '')"}[f.By]
	if col == "" {
		return nil, fmt.Errorf("store: storage by %q: unknown grouping", f.By)
	}
	rows, err := s.pool.Query(ctx, `
		WITH a AS (
			SELECT `+col+` AS key, repository, size_in_bytes, created_at,
			       (expired OR (expires_at IS NOT NULL AND expires_at <= $1)) AS gone_storage
			FROM artifacts WHERE gone_at IS NULL AND ($2 = '' OR repository = $2)
		)
		SELECT key,
		       count(*) FILTER (WHERE NOT gone_storage),
		       coalesce(sum(size_in_bytes) FILTER (WHERE NOT gone_storage), 0)::bigint,
		       count(*) FILTER (WHERE gone_storage),
		       coalesce(sum(size_in_bytes) FILTER (WHERE gone_storage), 0)::bigint,
		       coalesce(max(size_in_bytes) FILTER (WHERE NOT gone_storage), 0),
		       min(created_at) FILTER (WHERE NOT gone_storage),
		       max(created_at) FILTER (WHERE NOT gone_storage),
		       count(DISTINCT repository)
		FROM a GROUP BY key
		ORDER BY 3 DESC, 5 DESC, key`, f.Now, string(f.Repository))
	if err != nil {
		return nil, fmt.Errorf("store: storage by %s: %w", f.By, err)
	}
	var (
		g              StorageGroup
		oldest, newest pgtype.Timestamptz
		out            []StorageGroup
	)
	_, err = pgx.ForEachRow(rows, []any{&g.Key, &g.Live, &g.LiveBytes, &g.Expired, &g.ExpiredBytes, &g.LargestBytes,
		&oldest, &newest, &g.RepositoryKeys}, func() error {
		g.Groups, g.OldestCreated, g.NewestCreated = 1, timeOf(oldest), timeOf(newest)
		if f.Top > 0 && len(out) == f.Top {
			out = append(out, StorageGroup{Other: true})
		}
		if f.Top > 0 && len(out) > f.Top {
			o := &out[f.Top]
			o.Groups++
			o.Live += g.Live
			o.LiveBytes += g.LiveBytes
			o.Expired += g.Expired
			o.ExpiredBytes += g.ExpiredBytes
			o.LargestBytes = max(o.LargestBytes, g.LargestBytes)
			o.OldestCreated = earliest(o.OldestCreated, g.OldestCreated)
			if g.NewestCreated.After(o.NewestCreated) {
				o.NewestCreated = g.NewestCreated
			}
			return nil
		}
		out = append(out, g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: storage by %s: %w", f.By, err)
	}
	return out, nil
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// StoredOrder is how ListStored orders artifacts.
type StoredOrder int

// The orders.
const (
	LargestFirst StoredOrder = iota
	OldestFirst
)

// ListStored returns at most limit live artifacts whose storage is still
// billed (not expired at now), of repo or of every repository, in order.
// Oldest first puts unknown creation times last.
func (s *Store) ListStored(ctx context.Context, repo artifact.Repository, order StoredOrder, limit int, now time.Time) ([]artifact.Artifact, error) {
	by := "size_in_bytes DESC, id"
	if order == OldestFirst {
		by = "created_at NULLS LAST, id"
	}
	rows, err := s.pool.Query(ctx, `SELECT `+artifactColumns+` FROM artifacts
		WHERE gone_at IS NULL AND NOT expired AND (expires_at IS NULL OR expires_at > $1) AND ($2 = '' OR repository = $2)
		ORDER BY `+by+` LIMIT $3`, now, string(repo), limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing stored artifacts: %w", err)
	}
	defer rows.Close()
	var out []artifact.Artifact
	for rows.Next() {
		var a artifact.Artifact
		if err := scanArtifact(rows, &a); err != nil {
			return nil, fmt.Errorf("store: listing stored artifacts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing stored artifacts: %w", err)
	}
	return out, nil
}

// TrendPoint is the live storage at the end of one day's last complete
// repository scan.
type TrendPoint struct {
	Day       time.Time // midnight UTC
	At        time.Time // when that scan finished
	Live      int
	LiveBytes int64
}

// StorageTrend returns, for each day since since (UTC) on which a complete
// repository scan (of repo, when set) finished, the live storage as the
// artifacts table records it at the end of that day's last such scan: an
// artifact counts from when a scan first saw it until it was found gone or
// expired. Oldest day first.
func (s *Store) StorageTrend(ctx context.Context, repo artifact.Repository, since time.Time) ([]TrendPoint, error) {
	// One pass, not days × artifacts: every artifact becomes an event that
	// adds it when first seen and one that removes it when it went (gone
	// or expired); the day markers sort in among the events, after those
	// at the same instant, and a running sum gives the live storage at
	// each. An artifact that went the instant a scan finished is not live
	// at it, as the query's "gone_at > at" reads.
	rows, err := s.pool.Query(ctx, `
		WITH days AS (
			SELECT date_trunc('day', finished_at AT TIME ZONE 'UTC') AS day, max(finished_at) AS at
			FROM scans
			WHERE status = 'complete' AND kind = 'repository' AND finished_at >= $1 AND ($2 = '' OR repository = $2)
			GROUP BY 1
		),
		x AS (
			SELECT size_in_bytes AS size, first_seen_at AS seen,
			       CASE WHEN gone_at IS NULL THEN expires_at
			            WHEN expires_at IS NULL THEN gone_at
			            ELSE least(gone_at, expires_at) END AS went
			FROM artifacts
			WHERE ($2 = '' OR repository = $2) AND first_seen_at <= (SELECT max(at) FROM days)
		),
		marks AS (
			SELECT seen AS t, 0 AS o, size AS db, 1 AS dn, NULL::timestamp AS day FROM x WHERE went IS NULL OR went > seen
			UNION ALL
			SELECT went, 0, -size, -1, NULL FROM x WHERE went > seen
			UNION ALL
			SELECT at, 1, 0, 0, day FROM days
		),
		run AS (
			SELECT t, day, sum(dn) OVER w AS live, sum(db) OVER w AS bytes FROM marks
			WINDOW w AS (ORDER BY t, o ROWS UNBOUNDED PRECEDING)
		)
		SELECT day AT TIME ZONE 'UTC', t, live, bytes::bigint FROM run WHERE day IS NOT NULL ORDER BY day`, since, string(repo))
	if err != nil {
		return nil, fmt.Errorf("store: storage trend: %w", err)
	}
	var (
		p   TrendPoint
		out []TrendPoint
	)
	_, err = pgx.ForEachRow(rows, []any{&p.Day, &p.At, &p.Live, &p.LiveBytes}, func() error {
		p.Day, p.At = p.Day.UTC(), p.At.UTC()
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: storage trend: %w", err)
	}
	return out, nil
}

// RepositoryStorage is one repository's live storage, for metrics.
type RepositoryStorage struct {
	Repository artifact.Repository
	LiveBytes  int64
}

// LiveStorageByRepository returns every repository's storage still billed
// at now (live, unexpired artifacts), largest first.
func (s *Store) LiveStorageByRepository(ctx context.Context, now time.Time) ([]RepositoryStorage, error) {
	rows, err := s.pool.Query(ctx, `SELECT repository, coalesce(sum(size_in_bytes) FILTER (
			WHERE NOT expired AND (expires_at IS NULL OR expires_at > $1)), 0)::bigint
		FROM artifacts WHERE gone_at IS NULL GROUP BY repository ORDER BY 2 DESC, 1`, now)
	if err != nil {
		return nil, fmt.Errorf("store: live storage by repository: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RepositoryStorage, error) {
		var rs RepositoryStorage
		err := r.Scan(&rs.Repository, &rs.LiveBytes)
		return rs, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: live storage by repository: %w", err)
	}
	return out, nil
}
