package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/retentiond/retentiond/internal/artifact"
)

// Outcome is what became of one decision, as stored in audit_log.outcome.
type Outcome string

// The outcomes. Keep decisions end as kept; delete decisions as one of the rest.
const (
	OutcomeKept               Outcome = "kept"
	OutcomeDryRun             Outcome = "dry_run"
	OutcomePending            Outcome = "pending"
	OutcomeDeleted            Outcome = "deleted"
	OutcomeAlreadyGone        Outcome = "already_gone"
	OutcomeFailed             Outcome = "failed"
	OutcomeSkippedCap         Outcome = "skipped_cap"
	OutcomeSkippedRateLimit   Outcome = "skipped_rate_limit"
	OutcomeInterrupted        Outcome = "interrupted"
	OutcomeChanged            Outcome = "changed"
	OutcomeExpiredNotArchived Outcome = "expired_not_archived"
)

// Outcomes returns every outcome, in the order of the constants above: what
// the database's CHECK on audit_log.outcome accepts.
func Outcomes() []Outcome {
	return []Outcome{
		OutcomeKept, OutcomeDryRun, OutcomePending, OutcomeDeleted, OutcomeAlreadyGone, OutcomeFailed,
		OutcomeSkippedCap, OutcomeSkippedRateLimit, OutcomeInterrupted, OutcomeChanged, OutcomeExpiredNotArchived,
	}
}

// ParseOutcome reads an outcome, ignoring case; an unknown one is an error
// that lists the outcomes there are.
func ParseOutcome(s string) (Outcome, error) {
	all := Outcomes()
	if i := slices.Index(all, Outcome(strings.ToLower(s))); i >= 0 {
		return all[i], nil
	}
	names := make([]string, len(all))
	for i, o := range all {
		names[i] = string(o)
	}
	return "", fmt.Errorf("unknown outcome %q; accepted: %s", s, strings.Join(names, ", "))
}

// Action is the policy's verdict, as stored in audit_log.action.
type Action string

// The actions.
const (
	ActionKeep   Action = "keep"
	ActionDelete Action = "delete"
)

// AuditEntry is one row of audit_log: a decision about one artifact in one
// run, copied from the artifact as it was then, and what became of it.
// Zero values stand for NULL (HTTPStatus 0, empty strings, zero times).
type AuditEntry struct {
	ID                int64
	RunID             int64
	RecordedAt        time.Time
	Repository        artifact.Repository
	ArtifactID        int64
	ArtifactName      string
	SizeInBytes       int64
	Branch            string
	HeadSHA           string
	ArtifactCreatedAt time.Time
	Action            Action
	Rule              string
	Reason            string
	Outcome           Outcome
	HTTPStatus        int
	Error             string
	ExecutedAt        time.Time
	ArchivePath       string
	ArchiveBytes      int64
	ArchiveSHA256     string
	// Expired: when the decision was made, GitHub had already freed the
	// artifact's storage; only its listing remained (see
	// artifact.ExpiredAt). Rows written before migration 0004 read false.
	Expired bool
}

// Resolution is the outcome of a pending deletion.
type Resolution struct {
	Outcome    Outcome
	HTTPStatus int
	Error      string
	ExecutedAt time.Time
	// MarkGone sets artifacts.gone_at, in the same transaction, for outcomes
	// that mean the artifact no longer exists.
	MarkGone      bool
	ArchivePath   string
	ArchiveBytes  int64
	ArchiveSHA256 string
}

// ErrNotPending is returned when resolving an audit row that is not pending.
var ErrNotPending = errors.New("audit row is not pending")

var auditColumns = []string{
	"run_id", "recorded_at", "repository", "artifact_id", "artifact_name", "size_in_bytes", "branch", "head_sha",
	"artifact_created_at", "action", "rule", "reason", "outcome", "http_status", "error", "executed_at",
	"archive_path", "archive_bytes", "archive_sha256", "expired",
}

func auditRow(e *AuditEntry) []any {
	return []any{
		e.RunID, e.RecordedAt, e.Repository, e.ArtifactID, e.ArtifactName, e.SizeInBytes, nullString(e.Branch), nullString(e.HeadSHA),
		nullTime(e.ArtifactCreatedAt), string(e.Action), e.Rule, e.Reason, string(e.Outcome), nullInt(int64(e.HTTPStatus)), nullString(e.Error), nullTime(e.ExecutedAt),
		nullString(e.ArchivePath), nullInt(e.ArchiveBytes), nullString(e.ArchiveSHA256), e.Expired,
	}
}

// InsertAudit appends entries to audit_log with COPY: the bulk path for keep,
// dry-run and skipped decisions. It is retried (SetRetry); COPY commits all
// rows or none, so a retry first looks for the first row of a try that may
// have committed before its reply was lost.
func (s *Store) InsertAudit(ctx context.Context, entries []AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.retry(ctx, "appending audit rows", func(ctx context.Context, again bool) error {
		return s.insertAudit(ctx, entries, again)
	})
}

func (s *Store) insertAudit(ctx context.Context, entries []AuditEntry, again bool) error {
	if again {
		first := &entries[0]
		var done bool
		err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log
			WHERE run_id = $1 AND artifact_id = $2 AND recorded_at = $3 AND outcome = $4)`,
			first.RunID, first.ArtifactID, first.RecordedAt, string(first.Outcome)).Scan(&done)
		if err != nil {
			return fmt.Errorf("store: appending %d audit rows: %w", len(entries), err)
		}
		if done {
			return nil
		}
	}
	i := 0
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"audit_log"}, auditColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(entries) {
			return nil, nil
		}
		i++
		return auditRow(&entries[i-1]), nil
	}))
	if err != nil {
		return fmt.Errorf("store: appending %d audit rows: %w", len(entries), err)
	}
	return nil
}

// ErrAlreadyPending is returned by InsertPending when another intent to
// delete the same artifact is still pending.
var ErrAlreadyPending = errors.New("a deletion of this artifact is already pending")

// InsertPending records the intent to delete one artifact and returns the
// row's id. It commits before returning, so the intent is durable before the
// DELETE is sent. A second pending row for the same artifact is refused
// (ErrAlreadyPending), except that a retry finds the row its own earlier
// try committed.
func (s *Store) InsertPending(ctx context.Context, e AuditEntry) (int64, error) {
	if e.Outcome != OutcomePending {
		return 0, fmt.Errorf("store: InsertPending with outcome %q", e.Outcome)
	}
	var id int64
	err := s.retry(ctx, "recording an intent", func(ctx context.Context, again bool) (err error) {
		id, err = s.insertPending(ctx, e, again)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: recording the intent to delete artifact %d: %w", e.ArtifactID, err)
	}
	return id, nil
}

func (s *Store) insertPending(ctx context.Context, e AuditEntry, again bool) (id int64, _ error) {
	err := s.pool.QueryRow(ctx, `INSERT INTO audit_log (`+columnList(auditColumns)+`) VALUES (`+placeholders(len(auditColumns))+`)
		ON CONFLICT (artifact_id) WHERE outcome = 'pending' DO NOTHING RETURNING id`,
		auditRow(&e)...).Scan(&id)
	if !errors.Is(err, pgx.ErrNoRows) {
		return id, err
	}
	var runID int64
	var recordedAt time.Time
	err = s.pool.QueryRow(ctx, `SELECT id, run_id, recorded_at FROM audit_log WHERE artifact_id = $1 AND outcome = 'pending'`,
		e.ArtifactID).Scan(&id, &runID, &recordedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Resolved between the two statements: it was not ours, since
		// ours would still be pending.
		return 0, fmt.Errorf("%w (and was resolved since)", ErrAlreadyPending)
	case err != nil:
		return 0, err
	case again && runID == e.RunID && sameStoredTime(recordedAt, e.RecordedAt):
		return id, nil // our own earlier try committed
	}
	return 0, fmt.Errorf("%w: audit row %d of run %d", ErrAlreadyPending, id, runID)
}

// ResolveAudit sets the outcome of pending row id and, when r.MarkGone, marks
// the artifact gone, in one transaction. It is retried (SetRetry); a retry
// that finds the row already resolved exactly so, by a try whose reply was
// lost, succeeds.
func (s *Store) ResolveAudit(ctx context.Context, id int64, r Resolution) error {
	return s.retry(ctx, "recording an outcome", func(ctx context.Context, again bool) error {
		return s.resolveAuditOnce(ctx, id, r, again)
	})
}

func (s *Store) resolveAuditOnce(ctx context.Context, id int64, r Resolution, again bool) error {
	err := s.resolveAudit(ctx, id, r)
	if !again || !errors.Is(err, ErrNotPending) {
		return err
	}
	var outcome string
	var executed pgtype.Timestamptz
	if qerr := s.pool.QueryRow(ctx, `SELECT outcome, executed_at FROM audit_log WHERE id = $1`, id).Scan(&outcome, &executed); qerr != nil {
		return errors.Join(err, qerr)
	}
	if Outcome(outcome) == r.Outcome && sameStoredTime(timeOf(executed), r.ExecutedAt) {
		return nil
	}
	return err
}

func (s *Store) resolveAudit(ctx context.Context, id int64, r Resolution) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		var artifactID int64
		err := tx.QueryRow(ctx, `
			UPDATE audit_log
			SET outcome = $2, http_status = $3, error = $4, executed_at = $5,
			    archive_path = $6, archive_bytes = $7, archive_sha256 = $8
			WHERE id = $1 AND outcome = 'pending'
			RETURNING artifact_id`,
			id, string(r.Outcome), nullInt(int64(r.HTTPStatus)), nullString(r.Error), nullTime(r.ExecutedAt),
			nullString(r.ArchivePath), nullInt(r.ArchiveBytes), nullString(r.ArchiveSHA256)).Scan(&artifactID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("store: resolving audit row %d: %w", id, ErrNotPending)
		}
		if err != nil {
			return fmt.Errorf("store: resolving audit row %d: %w", id, err)
		}
		if r.MarkGone {
			if _, err := tx.Exec(ctx, `UPDATE artifacts SET gone_at = $2 WHERE id = $1 AND gone_at IS NULL`, artifactID, r.ExecutedAt); err != nil {
				return fmt.Errorf("store: marking artifact %d gone: %w", artifactID, err)
			}
		}
		return nil
	})
}

// DeletionsSince counts the deletions attempted since t, for
// MAX_DELETIONS_PER_DAY: the delete decisions of real runs that got as far
// as their recorded intent and may have sent a DELETE (deleted, already
// gone, failed, or still pending). It counts rather too many than too few:
// a failure before the DELETE counts too.
func (s *Store) DeletionsSince(ctx context.Context, t time.Time) (int, error) {
	var n int
	err := s.retry(ctx, "counting deletions", func(ctx context.Context, _ bool) error {
		return s.pool.QueryRow(ctx, `
			SELECT (SELECT count(*) FROM audit_log WHERE action = 'delete' AND executed_at IS NOT NULL AND executed_at >= $1
			          AND outcome IN ('deleted', 'already_gone', 'failed'))
			     + (SELECT count(*) FROM audit_log WHERE outcome = 'pending')`, t).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: counting the deletions since %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

// PendingAudit returns every audit row still pending, oldest first.
func (s *Store) PendingAudit(ctx context.Context) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.retry(ctx, "listing pending deletions", func(ctx context.Context, _ bool) (err error) {
		out, err = s.auditQuery(ctx, `WHERE outcome = 'pending' ORDER BY id`)
		return err
	})
	return out, err
}

// AuditFilter narrows AuditEntries. Zero fields do not filter.
type AuditFilter struct {
	RunID      int64
	Outcome    Outcome
	Repository artifact.Repository
	Rule       string // compared ignoring case
	Action     Action
	Limit      int
	// LargestFirst orders by the storage a deletion frees, largest first
	// (size_in_bytes, with expired artifacts, which free nothing, last),
	// instead of by the artifact's creation time, oldest first.
	LargestFirst bool
}

// AuditEntries returns audit rows matching f, oldest artifact first unless
// f.LargestFirst.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	where, args := "WHERE true", []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND %s = $%d", cond, len(args))
	}
	if f.RunID != 0 {
		add("run_id", f.RunID)
	}
	if f.Outcome != "" {
		add("outcome", string(f.Outcome))
	}
	if f.Repository != "" {
		add("repository", f.Repository)
	}
	if f.Rule != "" {
		// Rule names are unique regardless of case, so they match regardless of case.
		args = append(args, f.Rule)
		where += fmt.Sprintf(" AND lower(rule) = lower($%d)", len(args))
	}
	if f.Action != "" {
		add("action", string(f.Action))
	}
	q := where + " ORDER BY artifact_created_at NULLS LAST, artifact_id, id"
	if f.LargestFirst {
		q = where + " ORDER BY coalesce(expired, false), size_in_bytes DESC, artifact_id, id"
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return s.auditQuery(ctx, q, args...)
}

// RunRules returns the rule names run runID's audit log records, ignoring
// the empty one of "no delete rule matched", sorted regardless of case.
func (s *Store) RunRules(ctx context.Context, runID int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT rule FROM audit_log WHERE run_id = $1 AND rule <> '' GROUP BY rule ORDER BY lower(rule), rule`, runID)
	if err != nil {
		return nil, fmt.Errorf("store: listing the rules of run %d: %w", runID, err)
	}
	rules, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: listing the rules of run %d: %w", runID, err)
	}
	return rules, nil
}

func (s *Store) auditQuery(ctx context.Context, tail string, args ...any) ([]AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, `+columnList(auditColumns)+` FROM audit_log `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading the audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var branch, headSHA, errText, archivePath, archiveSHA pgtype.Text
		var created, executed pgtype.Timestamptz
		var httpStatus pgtype.Int4
		var archiveBytes pgtype.Int8
		var expired pgtype.Bool
		var action, outcome string
		if err := rows.Scan(&e.ID, &e.RunID, &e.RecordedAt, &e.Repository, &e.ArtifactID, &e.ArtifactName, &e.SizeInBytes,
			&branch, &headSHA, &created, &action, &e.Rule, &e.Reason, &outcome, &httpStatus, &errText, &executed,
			&archivePath, &archiveBytes, &archiveSHA, &expired); err != nil {
			return nil, fmt.Errorf("store: reading the audit log: %w", err)
		}
		e.RecordedAt = e.RecordedAt.UTC()
		e.Branch, e.HeadSHA, e.Error = branch.String, headSHA.String, errText.String
		e.ArtifactCreatedAt, e.ExecutedAt = timeOf(created), timeOf(executed)
		e.Action, e.Outcome, e.HTTPStatus = Action(action), Outcome(outcome), int(httpStatus.Int32)
		e.ArchivePath, e.ArchiveBytes, e.ArchiveSHA256 = archivePath.String, archiveBytes.Int64, archiveSHA.String
		e.Expired = expired.Bool
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading the audit log: %w", err)
	}
	return out, nil
}

func columnList(cols []string) string {
	s := ""
	for i, c := range cols {
		if i > 0 {
			s += ", "
		}
		s += c
	}
	return s
}

func placeholders(n int) string {
	s := ""
	for i := 1; i <= n; i++ {
		if i > 1 {
			s += ", "
		}
		s += fmt.Sprintf("$%d", i)
	}
	return s
}
