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

// ErrScanNotRunning is returned, wrapped, when a scan that already completed
// or failed is completed, failed or written to again.
var ErrScanNotRunning = errors.New("scan is not running")

// ScanKind says what a scan listed.
type ScanKind string

const (
	// ScanKindRepository lists every artifact of a repository. Only a
	// complete repository scan can mark artifacts gone.
	ScanKindRepository ScanKind = "repository"
	// ScanKindWorkflowRun lists the artifacts of one workflow run.
	ScanKindWorkflowRun ScanKind = "workflow_run"
)

// ScanStatus is where a scan is in its life.
type ScanStatus string

// The statuses of a scan. A scan starts running and ends exactly once,
// complete or failed.
const (
	ScanRunning  ScanStatus = "running"
	ScanComplete ScanStatus = "complete"
	ScanFailed   ScanStatus = "failed"
)

// NewScan describes a scan that is starting.
type NewScan struct {
	Repository    artifact.Repository
	Kind          ScanKind
	WorkflowRunID int64  // required for ScanKindWorkflowRun, zero for ScanKindRepository
	RunID         *int64 // the janitor run that asked for the scan, if any
	StartedAt     time.Time
}

// ScanResult is what the scanner reports when a scan ends. TotalCount is
// GitHub's total_count; it is stored only when at least one page was read
// (Pages > 0), since otherwise it is unknown.
type ScanResult struct {
	Pages      int
	Requests   int
	TotalCount int
	FinishedAt time.Time
	// Mode is how a repository scan listed; empty means ScanFull. It is
	// ignored for workflow-run scans.
	Mode ScanMode
	// Costed is how many of Requests counted against the primary rate limit.
	Costed int
	// FirstPage is what page 1 of a repository scan answered, kept in
	// scan_state for the next scan's conditional request.
	FirstPage FirstPage
}

// ScanCounts counts what a scan found: distinct artifacts listed, artifacts
// retentiond had never seen, and artifacts marked gone because a complete
// repository scan no longer listed them.
type ScanCounts struct {
	Seen int
	New  int
	Gone int
}

// Scan is one row of the scans table. FinishedAt is zero while the scan is
// running; TotalCount is zero when no page was read.
type Scan struct {
	ID            int64
	Repository    artifact.Repository
	Kind          ScanKind
	WorkflowRunID int64
	RunID         *int64
	StartedAt     time.Time
	FinishedAt    time.Time
	Status        ScanStatus
	Pages         int
	Requests      int
	TotalCount    int
	Counts        ScanCounts
	Error         string
	// Mode is how a complete repository scan listed; empty for workflow-run
	// scans and scans that did not complete.
	Mode ScanMode
	// Costed is how many of Requests counted against the primary rate limit.
	Costed int
}

// StartScan records a running scan and returns its id.
func (s *Store) StartScan(ctx context.Context, n NewScan) (int64, error) {
	switch {
	case n.Repository.Owner() == "" || n.Repository.Name() == "":
		// A Repository comes from ParseRepository; this only catches a
		// zero value or a conversion that skipped it.
		return 0, fmt.Errorf("store: starting a scan: repository %q is not owner/name", n.Repository)
	case n.Kind != ScanKindRepository && n.Kind != ScanKindWorkflowRun:
		return 0, fmt.Errorf("store: starting a scan of %s: unknown kind %q", n.Repository, n.Kind)
	case (n.Kind == ScanKindWorkflowRun) != (n.WorkflowRunID != 0):
		return 0, fmt.Errorf("store: starting a %s scan of %s: WorkflowRunID must be set for, and only for, kind %s",
			n.Kind, n.Repository, ScanKindWorkflowRun)
	case n.StartedAt.IsZero():
		return 0, fmt.Errorf("store: starting a scan of %s: StartedAt is required", n.Repository)
	}
	var id int64
	err := s.pool.QueryRow(ctx,
		`INSERT INTO scans (repository, kind, workflow_run_id, run_id, started_at, status)
		 VALUES ($1, $2, $3, $4, $5, 'running') RETURNING id`,
		n.Repository, n.Kind, nullInt(n.WorkflowRunID), n.RunID, n.StartedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: starting a %s scan of %s: %w", n.Kind, n.Repository, err)
	}
	return id, nil
}

// CompleteScan ends a running scan successfully. In one transaction it
// merges the scan's staged artifacts into artifacts (see the comment in
// migrations/0001_artifacts_and_scans.sql), and, for a repository scan only,
// marks gone the repository's live artifacts the scan did not list and that
// were last seen before it started. It then deletes the staging rows and
// records the result. It returns the scan's counts.
func (s *Store) CompleteScan(ctx context.Context, scanID int64, r ScanResult) (ScanCounts, error) {
	if r.FinishedAt.IsZero() {
		return ScanCounts{}, fmt.Errorf("store: completing scan %d: FinishedAt is required", scanID)
	}
	var counts ScanCounts
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		sc, err := lockRunningScan(ctx, tx, scanID)
		if err != nil {
			return err
		}
		seen, inserted, err := mergeStaged(ctx, tx, scanID, sc.Repository)
		if err != nil {
			return err
		}
		counts = ScanCounts{Seen: sc.Counts.Seen + seen, New: sc.Counts.New + inserted}
		var mode any
		if sc.Kind == ScanKindRepository {
			if r.Mode != "" && r.Mode != ScanFull {
				return fmt.Errorf("a %s scan completes through its own method, not CompleteScan", r.Mode)
			}
			mode = ScanFull
			tag, err := tx.Exec(ctx, markGoneSQL, sc.Repository, scanID, sc.StartedAt, r.FinishedAt)
			if err != nil {
				return fmt.Errorf("marking gone artifacts: %w", err)
			}
			counts.Gone = int(tag.RowsAffected())
			if err := saveScanState(ctx, tx, sc, r, true); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM scan_artifacts WHERE scan_id = $1`, scanID); err != nil {
			return fmt.Errorf("deleting staged artifacts: %w", err)
		}
		_, err = tx.Exec(ctx,
			`UPDATE scans SET status = 'complete', finished_at = $2, pages = $3, requests = $4, total_count = $5,
			        artifacts_seen = $6, artifacts_new = $7, artifacts_gone = $8, mode = $9, costed_requests = $10
			 WHERE id = $1`,
			scanID, r.FinishedAt, r.Pages, r.Requests, totalCount(r), counts.Seen, counts.New, counts.Gone, mode, r.Costed)
		if err != nil {
			return fmt.Errorf("recording the result: %w", err)
		}
		return nil
	})
	if err != nil {
		return ScanCounts{}, fmt.Errorf("store: completing scan %d: %w", scanID, err)
	}
	return counts, nil
}

// markGoneSQL marks gone the live artifacts of repository $1 that scan $2 did
// not list, as of $4. The last_seen_at condition spares artifacts that
// another scan saw after this one started ($3): this listing may simply have
// passed their page before they were created.
const markGoneSQL = `
UPDATE artifacts AS a SET gone_at = $4
WHERE a.repository = $1 AND a.gone_at IS NULL AND a.last_seen_at < $3
  AND NOT EXISTS (SELECT 1 FROM scan_artifacts AS s WHERE s.scan_id = $2 AND s.id = a.id)`

// FailScan ends a running scan unsuccessfully: it deletes the scan's staged
// artifacts and records cause. The artifacts table is not touched, because a
// partial listing says nothing about which artifacts are gone.
func (s *Store) FailScan(ctx context.Context, scanID int64, r ScanResult, cause error) error {
	if r.FinishedAt.IsZero() {
		return fmt.Errorf("store: failing scan %d: FinishedAt is required", scanID)
	}
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockRunningScan(ctx, tx, scanID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM scan_artifacts WHERE scan_id = $1`, scanID); err != nil {
			return fmt.Errorf("deleting staged artifacts: %w", err)
		}
		_, err := tx.Exec(ctx,
			`UPDATE scans SET status = 'failed', finished_at = $2, pages = $3, requests = $4, total_count = $5, error = $6,
			        costed_requests = $7
			 WHERE id = $1`,
			scanID, r.FinishedAt, r.Pages, r.Requests, totalCount(r), msg, r.Costed)
		if err != nil {
			return fmt.Errorf("recording the failure: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: failing scan %d: %w", scanID, err)
	}
	return nil
}

// AbandonScans fails every scan still running that started before
// startedBefore or that belongs to a run that has ended, as of finishedAt,
// and deletes their staged artifacts, along with any rows staged for scans
// that had already ended. The runner calls it under the run lock, after
// AbandonRuns, for scans a previous process left behind; scans outside runs
// (webhooks, the scan command) are not under that lock, so startedBefore
// must be old enough not to catch one another replica is still running. It
// returns how many scans it failed.
func (s *Store) AbandonScans(ctx context.Context, startedBefore, finishedAt time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		WITH failed AS (
			UPDATE scans SET status = 'failed', finished_at = $2, error = 'abandoned: still running when a new retentiond process started'
			WHERE status = 'running'
			  AND (started_at < $1 OR run_id IN (SELECT id FROM runs WHERE status <> 'running'))
			RETURNING id
		), unstaged AS (
			-- The statement's snapshot still shows the scans in failed as
			-- running, hence both conditions.
			DELETE FROM scan_artifacts AS s
			WHERE s.scan_id IN (SELECT id FROM failed)
			   OR NOT EXISTS (SELECT 1 FROM scans AS c WHERE c.id = s.scan_id AND c.status = 'running')
		)
		SELECT count(*) FROM failed`, startedBefore, finishedAt).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: abandoning scans started before %s: %w", startedBefore.Format(time.RFC3339), err)
	}
	return n, nil
}

// lockRunningScan locks scan scanID's row for the rest of tx, so that two
// callers cannot both end it, and returns it if it is still running.
func lockRunningScan(ctx context.Context, tx pgx.Tx, scanID int64) (Scan, error) {
	sc, err := scanScan(tx.QueryRow(ctx, `SELECT `+scanColumns+` FROM scans WHERE id = $1 FOR UPDATE`, scanID))
	if err != nil {
		return Scan{}, fmt.Errorf("loading the scan: %w", notFound(err))
	}
	if sc.Status != ScanRunning {
		return Scan{}, fmt.Errorf("scan of %s is %s: %w", sc.Repository, sc.Status, ErrScanNotRunning)
	}
	return sc, nil
}

// Scan returns the scan with id id, or an error wrapping ErrNotFound.
func (s *Store) Scan(ctx context.Context, id int64) (Scan, error) {
	sc, err := scanScan(s.pool.QueryRow(ctx, `SELECT `+scanColumns+` FROM scans WHERE id = $1`, id))
	if err != nil {
		return Scan{}, fmt.Errorf("store: loading scan %d: %w", id, notFound(err))
	}
	return sc, nil
}

// LatestScan returns the most recently started scan of the given kind of
// repo, or an error wrapping ErrNotFound if there is none.
func (s *Store) LatestScan(ctx context.Context, repo artifact.Repository, kind ScanKind) (Scan, error) {
	sc, err := scanScan(s.pool.QueryRow(ctx,
		`SELECT `+scanColumns+` FROM scans WHERE repository = $1 AND kind = $2
		 ORDER BY started_at DESC, id DESC LIMIT 1`, repo, kind))
	if err != nil {
		return Scan{}, fmt.Errorf("store: loading the latest %s scan of %s: %w", kind, repo, notFound(err))
	}
	return sc, nil
}

// LatestScans returns the most recently started repository scan (kind
// ScanKindRepository) of every repository ever scanned, ordered by
// repository. Run-scoped scans are left out: they are frequent and say
// nothing about whether the repository's listing as a whole is fresh.
func (s *Store) LatestScans(ctx context.Context) ([]Scan, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT DISTINCT ON (repository) `+scanColumns+` FROM scans WHERE kind = 'repository'
		 ORDER BY repository, started_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: loading the latest scans: %w", err)
	}
	scans, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Scan, error) { return scanScan(row) })
	if err != nil {
		return nil, fmt.Errorf("store: loading the latest scans: %w", err)
	}
	return scans, nil
}

const scanColumns = `id, repository, kind, workflow_run_id, run_id, started_at, finished_at, status,
	pages, requests, total_count, artifacts_seen, artifacts_new, artifacts_gone, error, mode, costed_requests`

func scanScan(row pgx.Row) (Scan, error) {
	var (
		sc                   Scan
		workflowRunID, runID pgtype.Int8
		finishedAt           pgtype.Timestamptz
		totalCount           pgtype.Int4
		errText, mode        pgtype.Text
		seen, inserted, gone int32
		pages, requests      int32
		costed               int32
		kind, status         string
	)
	err := row.Scan(&sc.ID, &sc.Repository, &kind, &workflowRunID, &runID, &sc.StartedAt, &finishedAt, &status,
		&pages, &requests, &totalCount, &seen, &inserted, &gone, &errText, &mode, &costed)
	if err != nil {
		return Scan{}, err
	}
	sc.Kind, sc.Status = ScanKind(kind), ScanStatus(status)
	sc.WorkflowRunID = workflowRunID.Int64
	if runID.Valid {
		sc.RunID = &runID.Int64
	}
	sc.StartedAt = sc.StartedAt.UTC()
	sc.FinishedAt = timeOf(finishedAt)
	sc.Pages, sc.Requests, sc.TotalCount = int(pages), int(requests), int(totalCount.Int32)
	sc.Counts = ScanCounts{Seen: int(seen), New: int(inserted), Gone: int(gone)}
	sc.Error = errText.String
	sc.Mode, sc.Costed = ScanMode(mode.String), int(costed)
	return sc, nil
}

// totalCount is r.TotalCount, or NULL when no page was read.
func totalCount(r ScanResult) any {
	if r.Pages == 0 {
		return nil
	}
	return r.TotalCount
}
