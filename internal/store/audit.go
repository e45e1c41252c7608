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

var (
	auditColumnList  = columnList(auditColumns)
	stagedColumnList = "s." + strings.Join(auditColumns, ", s.")
)

func auditRow(e *AuditEntry) []any {
	return []any{
		e.RunID, e.RecordedAt, e.Repository, e.ArtifactID, e.ArtifactName, e.SizeInBytes, nullString(e.Branch), nullString(e.HeadSHA),
		nullTime(e.ArtifactCreatedAt), string(e.Action), e.Rule, e.Reason, string(e.Outcome), nullInt(int64(e.HTTPStatus)), nullString(e.Error), nullTime(e.ExecutedAt),
		nullString(e.ArchivePath), nullInt(e.ArchiveBytes), nullString(e.ArchiveSHA256), e.Expired,
	}
}

// InsertAudit appends entries to audit_log: the bulk path for keep,
// dry-run and skipped decisions. Every delete decision is written; a keep
// decision (outcome kept) only when it is news: the artifact has no
// recorded decision yet, or its latest one differs in action or rule, or is
// old enough to be refreshed (see keepRefresh). The runs that evaluated a
// repository are recorded with its keeps (audit_evaluations), so the
// decisions view still answers, for every run, why each artifact was kept.
// All of it commits in one transaction. It is retried (SetRetry): a retry
// leaves out the rows an earlier try committed (its keeps are no longer
// news, and its other rows are found by run, artifact, time and outcome).
func (s *Store) InsertAudit(ctx context.Context, entries []AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.retry(ctx, "appending audit rows", func(ctx context.Context, again bool) error {
		return s.insertAudit(ctx, entries, again)
	})
}

// compactInsert moves the staged rows that are worth keeping into audit_log,
// in the order they were given, and updates audit_latest and
// audit_evaluations from them. $1: a retry; $2, $3: keepRefresh in seconds.
var compactInsert = `
WITH ins AS (
	INSERT INTO audit_log (` + auditColumnList + `)
	SELECT ` + stagedColumnList + ` FROM audit_stage s
	LEFT JOIN audit_latest l ON l.artifact_id = s.artifact_id
	WHERE (s.outcome <> 'kept' OR l.artifact_id IS NULL OR l.action <> 'keep' OR l.rule <> s.rule
	       OR l.recorded_at < s.recorded_at - make_interval(secs => $2 + (s.artifact_id % 1000) * $3))
	  AND (NOT $1 OR NOT EXISTS (
	       SELECT 1 FROM audit_log x WHERE x.artifact_id = s.artifact_id AND x.run_id = s.run_id
	         AND x.recorded_at = s.recorded_at AND x.outcome = s.outcome))
	ORDER BY s.ord
	RETURNING id, run_id, recorded_at, artifact_id, action, rule
), latest AS (
	INSERT INTO audit_latest (artifact_id, audit_id, run_id, recorded_at, action, rule)
	SELECT DISTINCT ON (artifact_id) artifact_id, id, run_id, recorded_at, action, rule
	FROM ins ORDER BY artifact_id, id DESC
	ON CONFLICT (artifact_id) DO UPDATE
	SET audit_id = EXCLUDED.audit_id, run_id = EXCLUDED.run_id, recorded_at = EXCLUDED.recorded_at,
	    action = EXCLUDED.action, rule = EXCLUDED.rule
	WHERE audit_latest.audit_id < EXCLUDED.audit_id
)
INSERT INTO audit_evaluations (run_id, repository, evaluated_at)
SELECT run_id, repository, min(recorded_at) FROM audit_stage WHERE outcome = 'kept' GROUP BY run_id, repository
ON CONFLICT (run_id, repository) DO NOTHING`

func (s *Store) insertAudit(ctx context.Context, entries []AuditEntry, again bool) error {
	base, step := s.keepRefresh()
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if err := ensurePartitionsOf(ctx, tx, entries); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE audit_stage ON COMMIT DROP AS
			SELECT `+auditColumnList+`, 0 AS ord FROM audit_log WITH NO DATA`); err != nil {
			return err
		}
		i := 0
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_stage"}, append(slices.Clone(auditColumns), "ord"), pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(entries) {
				return nil, nil
			}
			i++
			return append(auditRow(&entries[i-1]), i), nil
		}))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, compactInsert, again, base.Seconds(), step.Seconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: appending %d audit rows: %w", len(entries), err)
	}
	return nil
}

// DefaultAuditRetention is AUDIT_RETENTION's default.
const DefaultAuditRetention = 400 * 24 * time.Hour

// SetAuditRetention tells the store how long audit partitions are kept
// (AUDIT_RETENTION), which decides how often an unchanged keep decision is
// written again (keepRefresh). Call it before the store is used; the
// default is DefaultAuditRetention.
func (s *Store) SetAuditRetention(d time.Duration) { s.auditRetention = d }

// keepRefresh says when an unchanged keep decision is written again: once
// the artifact's latest row is older than base + (artifact id mod 1000) ×
// step, that is between 1/16 and 1/8 of the retention. Without it, the one
// row saying why a long-lived artifact is kept would eventually be pruned;
// with it, every decision of a run stays answerable for at least 7/8 of the
// retention. Spreading by id keeps artifacts first recorded together from
// being rewritten together, so no single run pays for the refresh.
func (s *Store) keepRefresh() (base, step time.Duration) {
	r := s.auditRetention
	if r <= 0 {
		r = DefaultAuditRetention
	}
	return r / 16, r / 16 / 1000
}

// ensurePartitionsOf makes sure audit_log has a partition for the month of
// each entry. Partitions are created ahead of time (EnsureAuditPartitions);
// this covers writes dated otherwise (a very late resolution, a test clock).
func ensurePartitionsOf(ctx context.Context, tx pgx.Tx, entries []AuditEntry) error {
	var months []time.Time
	for i := range entries {
		m := monthOf(entries[i].RecordedAt)
		if !slices.ContainsFunc(months, m.Equal) {
			months = append(months, m)
		}
	}
	for _, m := range months {
		if _, err := tx.Exec(ctx, `SELECT audit_log_ensure_partition($1)`, m); err != nil {
			return fmt.Errorf("creating the audit_log partition of %s: %w", m.Format("2006-01"), err)
		}
	}
	return nil
}

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
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
			     + (SELECT count(*) FROM audit_pending)`, t).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: counting the deletions since %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	return n, nil
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

// AuditEntries returns the decisions matching f (the decisions view: a
// run's own rows, its pending intents and the keeps it made without writing
// a row), oldest artifact first unless f.LargestFirst.
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
	return s.auditQuery(ctx, "decisions", q, args...)
}

// RunRules returns the rule names of run runID's decisions, ignoring the
// empty one of "no delete rule matched", sorted regardless of case.
func (s *Store) RunRules(ctx context.Context, runID int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT rule FROM decisions WHERE run_id = $1 AND rule <> '' GROUP BY rule ORDER BY lower(rule), rule`, runID)
	if err != nil {
		return nil, fmt.Errorf("store: listing the rules of run %d: %w", runID, err)
	}
	rules, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: listing the rules of run %d: %w", runID, err)
	}
	return rules, nil
}

// auditQuery reads audit rows from relation from (audit_log, audit_pending,
// decisions or an alias of one), with the SQL tail after FROM.
func (s *Store) auditQuery(ctx context.Context, from, tail string, args ...any) ([]AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, `+auditColumnList+` FROM `+from+` `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading the audit log: %w", err)
	}
	out, err := scanAudit(rows)
	if err != nil {
		return nil, fmt.Errorf("store: reading the audit log: %w", err)
	}
	return out, nil
}

// scanAudit reads rows of id and auditColumns, and closes them.
func scanAudit(rows pgx.Rows) ([]AuditEntry, error) {
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
			return nil, err
		}
		e.RecordedAt = e.RecordedAt.UTC()
		e.Branch, e.HeadSHA, e.Error = branch.String, headSHA.String, errText.String
		e.ArtifactCreatedAt, e.ExecutedAt = timeOf(created), timeOf(executed)
		e.Action, e.Outcome, e.HTTPStatus = Action(action), Outcome(outcome), int(httpStatus.Int32)
		e.ArchivePath, e.ArchiveBytes, e.ArchiveSHA256 = archivePath.String, archiveBytes.Int64, archiveSHA.String
		e.Expired = expired.Bool
		out = append(out, e)
	}
	return out, rows.Err()
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

func placeholders(n int) string { return placeholdersFrom(1, n) }

// placeholdersFrom returns n placeholders, the first $first.
func placeholdersFrom(first, n int) string {
	s := ""
	for i := first; i < first+n; i++ {
		if i > first {
			s += ", "
		}
		s += fmt.Sprintf("$%d", i)
	}
	return s
}
