package store

// The review page's queries (internal/ui), in one file behind a few
// functions with plain results, so that a change to the audit layout has one
// place to adapt. Every query here only reads.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/artifact"
)

// RecentRuns returns up to limit runs with an id below before (every run
// when before is 0), newest first: keyset pagination on the primary key, so
// the thousandth page costs what the first does.
func (s *Store) RecentRuns(ctx context.Context, before int64, limit int) ([]Run, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `SELECT `+runColumns+` FROM runs WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing runs before %d: %w", before, err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) { return scanRun(row) })
	if err != nil {
		return nil, fmt.Errorf("store: listing runs before %d: %w", before, err)
	}
	return runs, nil
}

// DecisionGroup is a run's decisions that share a key (a rule or a
// repository): how many were kept and planned for deletion, and their sizes.
type DecisionGroup struct {
	Key         string
	Kept        int64
	KeptBytes   int64
	Deletes     int64
	DeleteBytes int64
}

// RunBreakdown is one run's decisions grouped by rule and by repository,
// each sorted by the bytes planned for deletion, largest first.
type RunBreakdown struct {
	ByRule       []DecisionGroup
	ByRepository []DecisionGroup
}

// ReviewBreakdown groups run runID's decisions by rule and by repository.
// Both groupings come from one pass over the run's rows (GROUPING SETS),
// which the audit_log_run_idx index finds.
func (s *Store) ReviewBreakdown(ctx context.Context, runID int64) (RunBreakdown, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT grouping(rule) = 0 AS by_rule, coalesce(rule, repository) AS key,
		       count(*) FILTER (WHERE action = 'keep'),
		       coalesce(sum(size_in_bytes) FILTER (WHERE action = 'keep'), 0),
		       count(*) FILTER (WHERE action = 'delete'),
		       coalesce(sum(size_in_bytes) FILTER (WHERE action = 'delete'), 0)
		FROM audit_log WHERE run_id = $1
		GROUP BY GROUPING SETS ((rule), (repository))
		ORDER BY 1 DESC, 6 DESC, 2`, runID)
	if err != nil {
		return RunBreakdown{}, fmt.Errorf("store: grouping the decisions of run %d: %w", runID, err)
	}
	var b RunBreakdown
	var byRule bool
	var g DecisionGroup
	_, err = pgx.ForEachRow(rows, []any{&byRule, &g.Key, &g.Kept, &g.KeptBytes, &g.Deletes, &g.DeleteBytes}, func() error {
		if byRule {
			b.ByRule = append(b.ByRule, g)
		} else {
			b.ByRepository = append(b.ByRepository, g)
		}
		return nil
	})
	if err != nil {
		return RunBreakdown{}, fmt.Errorf("store: grouping the decisions of run %d: %w", runID, err)
	}
	return b, nil
}

// DecisionPage selects one page of a run's decisions. Zero fields do not
// filter. After is the keyset cursor: the last audit row id of the previous
// page.
type DecisionPage struct {
	RunID      int64
	Repository artifact.Repository
	Rule       string // exact: the page offers the run's own rule names
	Action     Action
	Outcome    Outcome
	After      int64
	Limit      int
}

// ReviewDecisions returns one page of a run's decisions matching p, in
// audit row order (the order the run recorded them). It is keyset-paginated
// on the primary key: WHERE id > After ORDER BY id LIMIT n reads about n
// index entries per page however deep the page, where OFFSET would read every
// row before it. A run's rows are contiguous in id (a run writes its own
// decisions), so the primary key walk stays inside the run.
func (s *Store) ReviewDecisions(ctx context.Context, p DecisionPage) ([]AuditEntry, error) {
	args := []any{p.RunID, p.After}
	where := "WHERE run_id = $1 AND id > $2"
	add := func(col string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND %s = $%d", col, len(args))
	}
	if p.Repository != "" {
		add("repository", p.Repository)
	}
	if p.Rule != "" {
		add("rule", p.Rule)
	}
	if p.Action != "" {
		add("action", string(p.Action))
	}
	if p.Outcome != "" {
		add("outcome", string(p.Outcome))
	}
	args = append(args, p.Limit)
	entries, err := s.auditQuery(ctx, fmt.Sprintf("%s ORDER BY id LIMIT $%d", where, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading decisions of run %d after row %d: %w", p.RunID, p.After, err)
	}
	return entries, nil
}

// ArtifactHistory returns up to limit decisions about one artifact across
// runs, newest first (the audit_log_artifact_idx index).
func (s *Store) ArtifactHistory(ctx context.Context, artifactID int64, limit int) ([]AuditEntry, error) {
	entries, err := s.auditQuery(ctx, "WHERE artifact_id = $1 ORDER BY id DESC LIMIT $2", artifactID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: reading the decision history of artifact %d: %w", artifactID, err)
	}
	return entries, nil
}

// RepositoryStorage is what one repository's live artifacts hold: Bytes is
// the storage of those not expired at now (what GitHub still bills; see
// artifact.ExpiredAt), Expired the number of expired listings.
type RepositoryStorage struct {
	Repository artifact.Repository
	Artifacts  int64
	Bytes      int64
	Expired    int64
}

// StorageByRepository returns the storage of live artifacts per repository,
// largest first, at most limit repositories.
func (s *Store) StorageByRepository(ctx context.Context, now time.Time, limit int) ([]RepositoryStorage, error) {
	rows, err := s.pool.Query(ctx, `
		WITH live AS (
			SELECT repository, size_in_bytes, expired OR coalesce(expires_at <= $1, false) AS gone_from_storage
			FROM artifacts WHERE gone_at IS NULL
		)
		SELECT repository, count(*), coalesce(sum(size_in_bytes) FILTER (WHERE NOT gone_from_storage), 0),
		       count(*) FILTER (WHERE gone_from_storage)
		FROM live GROUP BY repository ORDER BY 3 DESC, 1 LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("store: summing storage by repository: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RepositoryStorage, error) {
		var r RepositoryStorage
		err := row.Scan(&r.Repository, &r.Artifacts, &r.Bytes, &r.Expired)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: summing storage by repository: %w", err)
	}
	return out, nil
}
