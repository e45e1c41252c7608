package store

// The review page's queries (internal/ui), in one file behind a few
// functions with plain results, so that a change to the audit layout has one
// place to adapt. Every query here only reads.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/artifact"
)

// RecentRuns returns up to limit runs with an id below before (every run
// when before is 0), newest first, with their savings: keyset pagination on
// the primary key, so the thousandth page costs what the first does.
func (s *Store) RecentRuns(ctx context.Context, before int64, limit int) ([]RunWithSavings, error) {
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
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	// The savings columns (0009) in one more query, rather than one per run.
	srows, err := s.pool.Query(ctx, `SELECT id, gb_hours_saved, gb_months_saved, gb_hours_would_save, gb_months_would_save,
		coalesce(storage_live_bytes, -1) FROM runs WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: the savings of runs before %d: %w", before, err)
	}
	saved := map[int64]RunSavings{}
	var id int64
	var rs RunSavings
	if _, err := pgx.ForEachRow(srows, []any{&id, &rs.Saved.GBHours, &rs.Saved.GBMonths, &rs.WouldSave.GBHours, &rs.WouldSave.GBMonths, &rs.LiveBytes}, func() error {
		saved[id] = rs
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: the savings of runs before %d: %w", before, err)
	}
	out := make([]RunWithSavings, len(runs))
	for i, r := range runs {
		out[i] = RunWithSavings{Run: r, Savings: saved[r.ID]}
	}
	return out, nil
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
// each sorted by the bytes planned for deletion, largest first. FirstID and
// LastID are the lowest and highest ids of the run's decisions (0 without
// any): bounds that keep ReviewDecisions' walk inside the run.
type RunBreakdown struct {
	ByRule       []DecisionGroup
	ByRepository []DecisionGroup
	FirstID      int64
	LastID       int64
}

// ReviewBreakdown groups run runID's decisions (the decisions view, keeps
// carried from earlier runs included) by rule and by repository.
// One pass over the run's decisions groups them by
// the pair (rule, repository), a hash aggregate of a few hundred groups at
// most; the two groupings are summed from those here. (GROUPING SETS would
// sort the rows twice: three times slower on 100,000 decisions.)
func (s *Store) ReviewBreakdown(ctx context.Context, runID int64) (RunBreakdown, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT rule, repository,
		       count(*) FILTER (WHERE action = 'keep'),
		       coalesce(sum(size_in_bytes) FILTER (WHERE action = 'keep'), 0),
		       count(*) FILTER (WHERE action = 'delete'),
		       coalesce(sum(size_in_bytes) FILTER (WHERE action = 'delete'), 0),
		       min(id), max(id)
		FROM decisions WHERE run_id = $1
		GROUP BY rule, repository`, runID)
	if err != nil {
		return RunBreakdown{}, fmt.Errorf("store: grouping the decisions of run %d: %w", runID, err)
	}
	byRule, byRepo := map[string]*DecisionGroup{}, map[string]*DecisionGroup{}
	add := func(m map[string]*DecisionGroup, key string, g DecisionGroup) {
		t := m[key]
		if t == nil {
			t = &DecisionGroup{Key: key}
			m[key] = t
		}
		t.Kept += g.Kept
		t.KeptBytes += g.KeptBytes
		t.Deletes += g.Deletes
		t.DeleteBytes += g.DeleteBytes
	}
	var rule, repo string
	var g DecisionGroup
	var b RunBreakdown
	var first, last int64
	_, err = pgx.ForEachRow(rows, []any{&rule, &repo, &g.Kept, &g.KeptBytes, &g.Deletes, &g.DeleteBytes, &first, &last}, func() error {
		add(byRule, rule, g)
		add(byRepo, repo, g)
		if b.FirstID == 0 || first < b.FirstID {
			b.FirstID = first
		}
		b.LastID = max(b.LastID, last)
		return nil
	})
	if err != nil {
		return RunBreakdown{}, fmt.Errorf("store: grouping the decisions of run %d: %w", runID, err)
	}
	b.ByRule, b.ByRepository = sortedGroups(byRule), sortedGroups(byRepo)
	return b, nil
}

// sortedGroups returns m's groups by bytes planned for deletion, largest
// first, then by key.
func sortedGroups(m map[string]*DecisionGroup) []DecisionGroup {
	out := make([]DecisionGroup, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b DecisionGroup) int {
		if c := cmp.Compare(b.DeleteBytes, a.DeleteBytes); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// DecisionPage selects one page of a run's decisions. Zero fields do not
// filter. After is the keyset cursor: the last audit row id of the previous
// page (for the first page, RunBreakdown.FirstID-1). Through, when set, is
// the run's last row id (RunBreakdown.LastID): with both bounds, a filter
// that matches little reads at most the run's own rows.
type DecisionPage struct {
	RunID      int64
	Repository artifact.Repository
	Rule       string // exact: the page offers the run's own rule names
	Action     Action
	Outcome    Outcome
	After      int64
	Through    int64
	Limit      int
}

// ReviewDecisions returns one page of a run's decisions matching p (the
// decisions view: the rows the run recorded, and the keeps it carried over
// unchanged from earlier runs, which keep the id of the row that recorded
// them), in id order. It is keyset-paginated on id: WHERE id > After ORDER
// BY id LIMIT n, where OFFSET would read every row before the page. The
// run's rows lie between RunBreakdown's FirstID and LastID, bounds that keep
// the walk of the recorded rows inside the run (without them the first page
// walked the rows of every older run first: BenchmarkReview/first_page_unbounded).
// A filter on action delete, or an outcome other than kept, reads only the
// run's recorded rows: carried decisions are all keeps.
func (s *Store) ReviewDecisions(ctx context.Context, p DecisionPage) ([]AuditEntry, error) {
	args := []any{p.RunID, p.After}
	where := "WHERE run_id = $1 AND id > $2"
	if p.Through > 0 {
		args = append(args, p.Through)
		where += fmt.Sprintf(" AND id <= $%d", len(args))
	}
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
	entries, err := s.auditQuery(ctx, "decisions", fmt.Sprintf("%s ORDER BY id LIMIT $%d", where, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading decisions of run %d after row %d: %w", p.RunID, p.After, err)
	}
	return entries, nil
}

// ReviewStorage is what one repository's live artifacts hold: Bytes is
// the storage of those not expired at now (what GitHub still bills; see
// artifact.ExpiredAt), Expired the number of expired listings.
type ReviewStorage struct {
	Repository artifact.Repository
	Artifacts  int64
	Bytes      int64
	Expired    int64
}

// StorageByRepository returns the storage of live artifacts per repository,
// largest first, at most limit repositories.
func (s *Store) StorageByRepository(ctx context.Context, now time.Time, limit int) ([]ReviewStorage, error) {
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
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ReviewStorage, error) {
		var r ReviewStorage
		err := row.Scan(&r.Repository, &r.Artifacts, &r.Bytes, &r.Expired)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: summing storage by repository: %w", err)
	}
	return out, nil
}
