// Package migrations embeds retentiond's database schema as versioned,
// forward-only SQL files. internal/store applies them in order; see
// store.Migrate for the rules (one transaction each, checksums, advisory lock).
package migrations

import "embed"

// FS holds every migration, named NNNN_name.sql. A file, once released, must
// never be edited: store.Migrate refuses to start when the checksum of an
// applied migration no longer matches. Change the schema with a new file.
//
//go:embed *.sql
var FS embed.FS
