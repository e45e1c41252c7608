package store

import (
	"context"
	"io/fs"
)

// MigrateFS applies the migrations in fsys instead of the embedded ones, so
// tests can play out edited, renamed and missing migrations.
func (s *Store) MigrateFS(ctx context.Context, fsys fs.FS) error { return s.migrate(ctx, fsys) }

// LoadMigrations exposes loadMigrations' validation of file names.
func LoadMigrations(fsys fs.FS) error {
	_, err := loadMigrations(fsys)
	return err
}

// The retried writes as their second try runs them: after a first try that
// may have committed before its reply was lost.
func (s *Store) InsertAuditAgain(ctx context.Context, entries []AuditEntry) error {
	return s.insertAudit(ctx, entries, true)
}

func (s *Store) InsertPendingAgain(ctx context.Context, e AuditEntry) (int64, error) {
	return s.insertPending(ctx, e, true)
}

func (s *Store) ResolveAuditAgain(ctx context.Context, id int64, r Resolution) error {
	return s.resolveAuditOnce(ctx, id, r, true)
}

func (s *Store) FinishRunAgain(ctx context.Context, id int64, t RunTotals) error {
	return s.finishRunOnce(ctx, id, t, true)
}

// AddPlanAgain is DeletionPlan.Add as its retry after a lost connection.
func AddPlanAgain(ctx context.Context, p *DeletionPlan, ds []PlannedDeletion) error {
	return p.retry(ctx, "test", func(ctx context.Context, _ bool) error { return p.addOnce(ctx, ds, true) })
}
