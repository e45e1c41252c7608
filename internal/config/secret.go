package config

import (
	"log/slog"
	"net/url"
	"regexp"
)

// redacted is what a secret prints as, everywhere.
const redacted = "REDACTED"

// Secret is a string that never prints itself: fmt, slog and JSON all see
// REDACTED. Call Reveal where the value is really needed (an HTTP header).
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String returns REDACTED, or "" when the secret is empty so a missing token still reads as missing.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue makes slog print REDACTED.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText makes encoders print REDACTED.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// DatabaseURL is a PostgreSQL connection string whose password never prints.
type DatabaseURL string

// Reveal returns the connection string with its password, for the driver only.
func (u DatabaseURL) Reveal() string { return string(u) }

var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// String returns the connection string with any password replaced by REDACTED.
// It handles both URL and keyword/value forms.
func (u DatabaseURL) String() string { return RedactDSN(string(u)) }

// GoString keeps %#v from printing the password.
func (u DatabaseURL) GoString() string { return u.String() }

// LogValue makes slog print the redacted form.
func (u DatabaseURL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// MarshalText makes encoders print the redacted form.
func (u DatabaseURL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// RedactDSN replaces the password in a PostgreSQL URL or keyword/value
// connection string (and in a password query parameter) with REDACTED.
func RedactDSN(dsn string) string {
	if p, err := url.Parse(dsn); err == nil && (p.Scheme == "postgres" || p.Scheme == "postgresql") {
		if p.User != nil {
			if _, has := p.User.Password(); has {
				p.User = url.UserPassword(p.User.Username(), redacted)
			}
		}
		q := p.Query()
		if q.Has("password") {
			q.Set("password", redacted)
			p.RawQuery = q.Encode()
		}
		s := p.String()
		// url.String escapes nothing in REDACTED, so the marker reads as is.
		return s
	}
	return dsnPassword.ReplaceAllString(dsn, "${1}"+redacted)
}
