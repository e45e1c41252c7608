package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// audit_log is partitioned by month of recorded_at (migration 0005). The
// partitions are created ahead of time — at migrate and before each run,
// for the current month and PartitionsAhead after it — so that writes
// never wait on DDL, and dropped a whole month at a time once they are
// older than AUDIT_RETENTION (PruneAudit). Dropping an expired partition is
// the only way rows leave the log; the triggers refuse DELETE, UPDATE and
// TRUNCATE. Pending intents are in audit_pending and are never pruned.

// PartitionsAhead is how many months after the current one have their
// audit_log partition created ahead of time.
const PartitionsAhead = 2

// EnsureAuditPartitions creates the partitions of audit_log for the month
// of now and the PartitionsAhead months after it, unless they exist, and
// returns the names of those it created.
func (s *Store) EnsureAuditPartitions(ctx context.Context, now time.Time) ([]string, error) {
	var created []string
	m := monthOf(now)
	for i := 0; i <= PartitionsAhead; i++ {
		month := m.AddDate(0, i, 0)
		var made bool
		err := s.retry(ctx, "creating audit partitions", func(ctx context.Context, _ bool) error {
			return s.pool.QueryRow(ctx, `SELECT audit_log_ensure_partition($1)`, month).Scan(&made)
		})
		if err != nil {
			return created, fmt.Errorf("store: creating the audit_log partition of %s: %w", month.Format("2006-01"), err)
		}
		if made {
			created = append(created, partitionName(month))
		}
	}
	return created, nil
}

func partitionName(month time.Time) string { return "audit_log_p" + month.Format("200601") }

// AuditPartition is one partition of audit_log.
type AuditPartition struct {
	Name string
	// RangeStart is zero for the partition that holds everything written
	// before migration 0005 (audit_log_legacy), which has no lower bound.
	RangeStart, RangeEnd time.Time
	Rows                 int64
}

// AuditPartitions returns the partitions of audit_log, oldest first, with
// their exact row counts (a count(*) each).
func (s *Store) AuditPartitions(ctx context.Context) ([]AuditPartition, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, range_start, range_end FROM audit_partitions
		ORDER BY range_end`)
	if err != nil {
		return nil, fmt.Errorf("store: listing audit partitions: %w", err)
	}
	parts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditPartition, error) {
		var p AuditPartition
		var start pgtype.Timestamptz
		err := row.Scan(&p.Name, &start, &p.RangeEnd)
		p.RangeStart, p.RangeEnd = timeOf(start), p.RangeEnd.UTC()
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: listing audit partitions: %w", err)
	}
	for i := range parts {
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{parts[i].Name}.Sanitize()).Scan(&parts[i].Rows); err != nil {
			return nil, fmt.Errorf("store: counting the rows of %s: %w", parts[i].Name, err)
		}
	}
	return parts, nil
}

// Prune says what PruneAudit drops and on whose behalf.
type Prune struct {
	// Horizon: partitions whose whole range ends at or before it are
	// dropped (now - AUDIT_RETENTION).
	Horizon time.Time
	// DryRun only reports what would be dropped.
	DryRun bool
	// At is when the prune happens, as recorded.
	At time.Time
	// By says who pruned ("retentiond audit prune", "retentiond serve");
	// Host the machine it ran on. The database user is recorded as well.
	By, Host string
	// LockTimeout bounds the wait for the table lock a drop needs, so a
	// long-running reader delays a prune instead of a prune queueing every
	// writer behind it. 0 means 10s.
	LockTimeout time.Duration
}

// ErrPruneBusy is returned, wrapped, when a partition could not be locked
// within Prune.LockTimeout; the next prune tries again.
var ErrPruneBusy = errors.New("the audit partition is in use")

// PruneAudit drops every audit_log partition that lies wholly before
// p.Horizon, oldest first, and records each drop in audit_prunes (with
// the rows it held) in the same transaction. With p.DryRun it returns
// what it would drop and changes nothing. It never touches audit_pending:
// intents still pending are not in the log's partitions.
func (s *Store) PruneAudit(ctx context.Context, p Prune) ([]AuditPartition, error) {
	parts, err := s.expiredPartitions(ctx, p.Horizon)
	if err != nil {
		return nil, err
	}
	if p.DryRun {
		for i := range parts {
			if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{parts[i].Name}.Sanitize()).Scan(&parts[i].Rows); err != nil {
				return nil, fmt.Errorf("store: counting the rows of %s: %w", parts[i].Name, err)
			}
		}
		return parts, nil
	}
	timeout := p.LockTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var done []AuditPartition
	for _, part := range parts {
		if err := s.dropPartition(ctx, &part, p, timeout); err != nil {
			return done, err
		}
		done = append(done, part)
	}
	return done, nil
}

func (s *Store) expiredPartitions(ctx context.Context, horizon time.Time) ([]AuditPartition, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, range_start, range_end FROM audit_partitions
		WHERE range_end <= $1 ORDER BY range_end`, horizon)
	if err != nil {
		return nil, fmt.Errorf("store: listing expired audit partitions: %w", err)
	}
	parts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditPartition, error) {
		var p AuditPartition
		var start pgtype.Timestamptz
		err := row.Scan(&p.Name, &start, &p.RangeEnd)
		p.RangeStart, p.RangeEnd = timeOf(start), p.RangeEnd.UTC()
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: listing expired audit partitions: %w", err)
	}
	return parts, nil
}

func (s *Store) dropPartition(ctx context.Context, part *AuditPartition, p Prune, timeout time.Duration) error {
	ident := pgx.Identifier{part.Name}.Sanitize()
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, timeout.Milliseconds())); err != nil {
			return err
		}
		// Parent first, then the partition: the order DROP TABLE locks
		// them in, so two prunes cannot deadlock each other. Holding the
		// lock, the count is exactly what the drop removes.
		if _, err := tx.Exec(ctx, `LOCK TABLE audit_log, `+ident+` IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		var still bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_partitions WHERE name = $1 AND range_end <= $2)`,
			part.Name, p.Horizon).Scan(&still); err != nil {
			return err
		}
		if !still {
			return nil // another process pruned it meanwhile
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+ident).Scan(&part.Rows); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+ident); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM audit_partitions WHERE name = $1`, part.Name); err != nil {
			return err
		}
		// The latest decisions of artifacts last decided about in that
		// partition went with it; forgetting them only makes the next keep
		// of such an artifact (were it ever evaluated again) write a row.
		if _, err := tx.Exec(ctx, `DELETE FROM audit_latest WHERE recorded_at < $1`, part.RangeEnd); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO audit_prunes (partition, range_start, range_end, rows, horizon, pruned_at, pruned_by, hostname)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			part.Name, nullTime(part.RangeStart), part.RangeEnd, part.Rows, p.Horizon, p.At, p.By, p.Host)
		return err
	})
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "55P03" { // lock_not_available
		return fmt.Errorf("store: pruning %s: %w (waited %s): %w", part.Name, ErrPruneBusy, timeout, err)
	}
	if err != nil {
		return fmt.Errorf("store: pruning %s: %w", part.Name, err)
	}
	return nil
}

// PruneRecord is one row of audit_prunes.
type PruneRecord struct {
	ID                   int64
	Partition            string
	RangeStart, RangeEnd time.Time
	Rows                 int64
	Horizon, PrunedAt    time.Time
	PrunedBy, DBUser     string
	Hostname             string
}

// AuditPrunes returns the recorded prunes, newest first.
func (s *Store) AuditPrunes(ctx context.Context, limit int) ([]PruneRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, partition, range_start, range_end, rows, horizon, pruned_at, pruned_by, db_user, hostname
		FROM audit_prunes ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing audit prunes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PruneRecord, error) {
		var r PruneRecord
		var start pgtype.Timestamptz
		err := row.Scan(&r.ID, &r.Partition, &start, &r.RangeEnd, &r.Rows, &r.Horizon, &r.PrunedAt, &r.PrunedBy, &r.DBUser, &r.Hostname)
		r.RangeStart, r.RangeEnd, r.Horizon, r.PrunedAt = timeOf(start), r.RangeEnd.UTC(), r.Horizon.UTC(), r.PrunedAt.UTC()
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: listing audit prunes: %w", err)
	}
	return out, nil
}
