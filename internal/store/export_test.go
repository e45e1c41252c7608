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
