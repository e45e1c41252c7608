package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// RecreateDatabase drops database name if it exists and creates it afresh on
// the server adminURL points at, then returns a URL for it. It is for
// throwaway databases such as the demo's; name must be a plain identifier.
func RecreateDatabase(ctx context.Context, adminURL, name string) (string, error) {
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return "", fmt.Errorf("store: the admin database URL could not be parsed")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("store: connecting to %s: %w", describeConfig(&cfg.Config), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
		return "", fmt.Errorf("store: dropping database %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+ident); err != nil {
		return "", fmt.Errorf("store: creating database %s: %w", name, err)
	}
	return WithDatabase(adminURL, name)
}

// WithDatabase returns connURL (a URL or key=value string) pointing at
// database name instead.
func WithDatabase(connURL, name string) (string, error) {
	if strings.HasPrefix(connURL, "postgres://") || strings.HasPrefix(connURL, "postgresql://") {
		u, err := url.Parse(connURL)
		if err != nil {
			return "", fmt.Errorf("store: the database URL could not be parsed (not shown: it may hold a password)")
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In key=value form a later key overrides an earlier one.
	return connURL + " dbname=" + name, nil
}

// DatabaseName returns the database a connection string names, or "" when
// it cannot be parsed (or names none: the server's default, the user's name).
func DatabaseName(connURL string) string {
	cfg, err := pgx.ParseConfig(connURL)
	if err != nil {
		return ""
	}
	return cfg.Database
}
