package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// DecisionSpan is one recorded decision about an artifact, with the runs
// that made it: the run that wrote the row, and for a keep, the later runs
// that made the same decision and wrote nothing (see InsertAudit).
type DecisionSpan struct {
	AuditEntry
	// Runs is how many runs made this decision: 1 + the runs that carried it.
	Runs int
	// LastRunID is the latest of those runs (RunID when none carried it).
	LastRunID int64
}

// artifactHistory lists the artifact's rows (the log and any pending
// intent) in the order they were recorded and, for each keep, counts the
// runs that evaluated the artifact's repository while it was live, after
// that row and before the artifact's next row: the runs the decisions view
// carries it into.
var artifactHistory = `
WITH own AS (
	SELECT id, ` + auditColumnList + ` FROM audit_log WHERE artifact_id = $1
	UNION ALL
	SELECT id, ` + auditColumnList + ` FROM audit_pending WHERE artifact_id = $1
), r AS (
	SELECT own.*, lead(run_id) OVER (ORDER BY id) AS next_run FROM own
), a AS (
	SELECT repository, first_seen_at, gone_at FROM artifacts WHERE id = $1
)
SELECT r.id, ` + rColumnList + `, 1 + coalesce(c.n, 0), greatest(r.run_id, coalesce(c.last, 0))
FROM r
LEFT JOIN LATERAL (
	SELECT count(*) AS n, max(e.run_id) AS last
	FROM audit_evaluations e, a
	WHERE r.action = 'keep' AND e.repository = a.repository
	  AND e.run_id > r.run_id AND (r.next_run IS NULL OR e.run_id < r.next_run)
	  AND e.evaluated_at >= r.recorded_at
	  AND a.first_seen_at <= e.evaluated_at AND (a.gone_at IS NULL OR a.gone_at > e.evaluated_at)
) c ON true
ORDER BY r.id`

var rColumnList = "r." + strings.Join(auditColumns, ", r.")

// ArtifactHistory returns every recorded decision about artifact id across
// runs, oldest first, each with the runs that made it. It answers from the
// rows still in the log: partitions pruned by AUDIT_RETENTION are gone.
func (s *Store) ArtifactHistory(ctx context.Context, id int64) ([]DecisionSpan, error) {
	rows, err := s.pool.Query(ctx, artifactHistory, id)
	if err != nil {
		return nil, fmt.Errorf("store: reading the decisions about artifact %d: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DecisionSpan, error) {
		var d DecisionSpan
		e := &d.AuditEntry
		var branch, headSHA, errText, archivePath, archiveSHA pgtype.Text
		var created, executed pgtype.Timestamptz
		var httpStatus pgtype.Int4
		var archiveBytes pgtype.Int8
		var expired pgtype.Bool
		var action, outcome string
		err := row.Scan(&e.ID, &e.RunID, &e.RecordedAt, &e.Repository, &e.ArtifactID, &e.ArtifactName, &e.SizeInBytes,
			&branch, &headSHA, &created, &action, &e.Rule, &e.Reason, &outcome, &httpStatus, &errText, &executed,
			&archivePath, &archiveBytes, &archiveSHA, &expired, &d.Runs, &d.LastRunID)
		e.RecordedAt = e.RecordedAt.UTC()
		e.Branch, e.HeadSHA, e.Error = branch.String, headSHA.String, errText.String
		e.ArtifactCreatedAt, e.ExecutedAt = timeOf(created), timeOf(executed)
		e.Action, e.Outcome, e.HTTPStatus = Action(action), Outcome(outcome), int(httpStatus.Int32)
		e.ArchivePath, e.ArchiveBytes, e.ArchiveSHA256 = archivePath.String, archiveBytes.Int64, archiveSHA.String
		e.Expired = expired.Bool
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading the decisions about artifact %d: %w", id, err)
	}
	return out, nil
}
