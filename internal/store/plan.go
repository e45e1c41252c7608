package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/retentiond/retentiond/internal/artifact"
)

// policyColumns are artifactColumns in their order, with the URLs, node id
// and digest (most of a row's bytes) left empty: evaluating the policy and
// recording a keep decision read none of them, and the janitor reads the
// whole row back from artifacts when it reaches a delete decision.
const policyColumns = `id, repository, '', name, size_in_bytes, '', '', expired,
	created_at, expires_at, updated_at, NULL::text,
	workflow_run_id, repository_id, head_repository_id, branch, head_sha`

// PolicyArtifacts returns every artifact of repo that is not gone, newest
// first, with the fields the policy and the audit log need (see
// policyColumns): LiveArtifacts for the planning step, which holds a whole
// repository at once.
func (s *Store) PolicyArtifacts(ctx context.Context, repo artifact.Repository) ([]artifact.Artifact, error) {
	var arts []artifact.Artifact
	err := s.retry(ctx, "loading live artifacts", func(ctx context.Context, _ bool) error {
		rows, err := s.pool.Query(ctx,
			`SELECT `+policyColumns+` FROM artifacts WHERE repository = $1 AND gone_at IS NULL ORDER BY id DESC`, repo)
		if err != nil {
			return err
		}
		arts, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (artifact.Artifact, error) {
			var a artifact.Artifact
			err := scanArtifact(row, &a)
			return a, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: loading live artifacts of %s: %w", repo, err)
	}
	return arts, nil
}

// PlannedDeletion is one delete decision waiting in a DeletionPlan: the
// artifact as artifacts holds it when the decision is read back, and what the
// policy said of it.
type PlannedDeletion struct {
	Artifact        artifact.Artifact
	Rule            string
	Reason          string
	Archive         bool
	ArchiveRequired bool
}

// A DeletionPlan holds the delete decisions of one run (or of `plan`) in the
// database while they wait for the janitor, so that neither holds an
// organisation's decisions in memory: they are added a repository at a time
// and read back in execution order a batch at a time.
//
// A run's plan lives in run_plan under its run id and survives a lost
// connection (the store's retries go on across a PostgreSQL restart). The
// plan of the read-only `plan` command is a temporary table on a connection
// of its own, so it writes nothing that outlives the command.
type DeletionPlan struct {
	db      planDB
	table   string // run_plan, or the temporary plan
	runID   int64
	retry   func(ctx context.Context, what string, op func(ctx context.Context, again bool) error) error
	release func()
}

// planDB is what a plan's statements need: the pool or one connection.
type planDB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

var planColumns = []string{"run_id", "artifact_id", "rule", "reason", "archive", "archive_required"}

// RunPlan returns the plan of run runID, in run_plan.
func (s *Store) RunPlan(runID int64) *DeletionPlan {
	return &DeletionPlan{db: s.pool, table: "run_plan", runID: runID, retry: s.retry, release: func() {}}
}

// TempPlan returns a plan in a temporary table on a connection of its own,
// for commands that must not write to the database. Close releases it.
// Creating a temporary table needs the TEMPORARY privilege on the database,
// which PostgreSQL grants to every role by default.
func (s *Store) TempPlan(ctx context.Context) (*DeletionPlan, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: acquiring a connection for the plan: %w", err)
	}
	const create = `CREATE TEMPORARY TABLE IF NOT EXISTS plan_work (LIKE run_plan INCLUDING ALL) ON COMMIT PRESERVE ROWS`
	if _, err := conn.Exec(ctx, create); err != nil {
		conn.Release()
		return nil, fmt.Errorf("store: creating the plan's temporary table (it needs the TEMPORARY privilege): %w", err)
	}
	if _, err := conn.Exec(ctx, `TRUNCATE plan_work`); err != nil {
		conn.Release()
		return nil, fmt.Errorf("store: emptying the plan's temporary table: %w", err)
	}
	// A lost connection loses the temporary table with it, so retrying
	// elsewhere would read an empty plan: no retries.
	noRetry := func(ctx context.Context, _ string, op func(context.Context, bool) error) error { return op(ctx, false) }
	p := &DeletionPlan{db: conn, table: "plan_work", retry: noRetry}
	p.release = func() {
		// DISCARD TEMP drops the table before the connection returns to the
		// pool, where another caller would otherwise find it.
		if _, err := conn.Exec(context.Background(), `DISCARD TEMP`); err != nil {
			conn.Conn().Close(context.Background())
		}
		conn.Release()
	}
	return p, nil
}

// Add writes delete decisions to the plan. The artifact of each must be in
// artifacts (only its id is stored; it is read back from there).
func (p *DeletionPlan) Add(ctx context.Context, ds []PlannedDeletion) error {
	if len(ds) == 0 {
		return nil
	}
	err := p.retry(ctx, "adding to the deletion plan", func(ctx context.Context, again bool) error {
		return p.addOnce(ctx, ds, again)
	})
	if err != nil {
		return fmt.Errorf("store: adding %d decisions to the deletion plan: %w", len(ds), err)
	}
	return nil
}

func (p *DeletionPlan) addOnce(ctx context.Context, ds []PlannedDeletion, again bool) error {
	if again {
		// The COPY may have committed before the connection broke.
		ids := make([]int64, len(ds))
		for i := range ds {
			ids[i] = ds[i].Artifact.ID
		}
		if _, err := p.db.Exec(ctx, `DELETE FROM `+p.table+` WHERE run_id = $1 AND artifact_id = ANY($2)`, p.runID, ids); err != nil {
			return err
		}
	}
	src := pgx.CopyFromSlice(len(ds), func(i int) ([]any, error) {
		d := &ds[i]
		return []any{p.runID, d.Artifact.ID, d.Rule, d.Reason, d.Archive, d.ArchiveRequired}, nil
	})
	_, err := p.db.CopyFrom(ctx, pgx.Identifier{p.table}, planColumns, src)
	return err
}

// Order fixes the plan's execution order at now — artifacts that still hold
// storage first, then expired listings, each oldest first, ties by id (the
// order of janitor.SortForExecution) — and returns how many decisions the
// plan holds. Decisions whose artifact is no longer in artifacts are dropped.
func (p *DeletionPlan) Order(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := p.retry(ctx, "ordering the deletion plan", func(ctx context.Context, _ bool) error {
		// One statement, so a retry simply orders again.
		return p.db.QueryRow(ctx, `
WITH ordered AS (
	SELECT w.artifact_id, row_number() OVER (
		ORDER BY (a.expired OR COALESCE(a.expires_at <= $2, false)), a.created_at ASC NULLS FIRST, a.id) AS n
	FROM `+p.table+` w JOIN artifacts a ON a.id = w.artifact_id
	WHERE w.run_id = $1
), numbered AS (
	UPDATE `+p.table+` w SET seq = o.n FROM ordered o
	WHERE w.run_id = $1 AND w.artifact_id = o.artifact_id
	RETURNING 1
)
SELECT count(*) FROM numbered`, p.runID, now).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: ordering the deletion plan: %w", err)
	}
	return n, nil
}

// Read calls fn with the decisions at positions [from, to) of the order
// Order fixed (0-based), at most batch at a time, and stops at fn's first
// error, which it returns as it is.
func (p *DeletionPlan) Read(ctx context.Context, from, to, batch int, fn func([]PlannedDeletion) error) error {
	if batch <= 0 {
		return errors.New("store: a plan is read in batches of at least one")
	}
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		var page []PlannedDeletion
		err := p.retry(ctx, "reading the deletion plan", func(ctx context.Context, _ bool) (err error) {
			page, err = p.page(ctx, lo, hi)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: reading decisions %d to %d of the deletion plan: %w", lo, hi, err)
		}
		if len(page) != hi-lo {
			// run_plan is unlogged: a PostgreSQL crash empties it. The
			// decisions not read would silently get no audit rows.
			return fmt.Errorf("store: the deletion plan holds %d of decisions %d to %d: it was emptied while the run read it (a PostgreSQL crash empties unlogged tables)", len(page), lo, hi)
		}
		if err := fn(page); err != nil {
			return err
		}
	}
	return nil
}

func (p *DeletionPlan) page(ctx context.Context, lo, hi int) ([]PlannedDeletion, error) {
	// seq is 1-based.
	rows, err := p.db.Query(ctx, `SELECT `+prefixed("a.", artifactColumns)+`, w.rule, w.reason, w.archive, w.archive_required
		FROM `+p.table+` w JOIN artifacts a ON a.id = w.artifact_id
		WHERE w.run_id = $1 AND w.seq > $2 AND w.seq <= $3 ORDER BY w.seq`, p.runID, lo, hi)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PlannedDeletion, error) {
		var d PlannedDeletion
		err := scanArtifact(row, &d.Artifact, &d.Rule, &d.Reason, &d.Archive, &d.ArchiveRequired)
		return d, err
	})
}

// Close deletes the plan's rows (a run's) or drops its temporary table. It
// runs even when ctx is done, since a run's plan must not outlive it.
func (p *DeletionPlan) Close(ctx context.Context) error {
	defer p.release()
	if p.table != "run_plan" {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	err := p.retry(ctx, "discarding the deletion plan", func(ctx context.Context, _ bool) error {
		_, err := p.db.Exec(ctx, `DELETE FROM run_plan WHERE run_id = $1`, p.runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: discarding the deletion plan of run %d: %w", p.runID, err)
	}
	return nil
}

// DiscardPlans deletes the plans of runs that are no longer running: what
// a process that died mid-run left. It runs under the run lock.
func (s *Store) DiscardPlans(ctx context.Context) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM run_plan w WHERE NOT EXISTS (
		SELECT 1 FROM runs r WHERE r.id = w.run_id AND r.status = 'running')`)
	if err != nil {
		return 0, fmt.Errorf("store: discarding the plans of finished runs: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// prefixed qualifies each column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
