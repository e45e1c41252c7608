package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/budget"
)

func load(t *testing.T, env map[string]string) (*Config, error) {
	t.Helper()
	return Load(context.Background(), envconfig.MapLookuper(env))
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Database: Database{RetryFor: time.Minute},
		GitHub:   GitHub{APIURL: "https://api.github.com", MaxWait: 15 * time.Minute},
		Policy:   Policy{File: "policies.yaml"},
		Janitor:  Janitor{DryRun: true, MaxDeletions: 500, DeleteInterval: time.Second},
		Schedule: Schedule{Spec: "@hourly", RunOnStart: RunOnStartMissed},
		Apply:    Apply{MaxAge: 7 * 24 * time.Hour},
		Scan:     Scan{Concurrency: 4, FullScanInterval: 24 * time.Hour, Reserve: "10%", RateLimitReserve: budget.DefaultReserve},
		Server:   Server{Addr: ":8080"},
		UI:       UI{Enabled: true},
		Log:      Log{Level: "info", Format: "auto"},
		Archive:  Archive{MaxBytes: 10 << 30},
		Storage:  Storage{MetricsTop: 10},
		Audit:    Audit{Retention: 400 * 24 * time.Hour},
	}
	if diff := cmp.Diff(want, *c, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if err := c.RequireDatabase(); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("RequireDatabase = %v, want an error naming DATABASE_URL", err)
	}
	if err := c.RequireToken(); err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN") {
		t.Errorf("RequireToken = %v, want an error naming GITHUB_TOKEN", err)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, value, want string
	}{
		{"bool", "DRY_RUN", "maybe", `DRY_RUN: "maybe" is not a boolean; accepted: true, false`},
		{"int", "MAX_DELETIONS_PER_RUN", "lots", `MAX_DELETIONS_PER_RUN: "lots" is not a whole number`},
		{"negative cap", "MAX_DELETIONS_PER_RUN", "-1", "MAX_DELETIONS_PER_RUN: -1 is negative"},
		{"concurrency zero", "SCAN_CONCURRENCY", "0", "SCAN_CONCURRENCY: 0 is out of range; accepted: 1 to 100"},
		{"duration", "GITHUB_MAX_WAIT", "15", `GITHUB_MAX_WAIT: "15" is not a duration`},
		{"cron", "SCHEDULE", "every hour", `SCHEDULE: "every hour" is not a schedule`},
		{"run on start", "RUN_ON_START", "yes", `RUN_ON_START: "yes" is not accepted; accepted: missed`},
		{"level", "LOG_LEVEL", "loud", `LOG_LEVEL: "loud" is not a level; accepted: debug, info, warn, error`},
		{"format", "LOG_FORMAT", "xml", `LOG_FORMAT: "xml" is not a format; accepted: auto, text, json`},
		{"api url", "GITHUB_API_URL", "api.github.com", `GITHUB_API_URL: "api.github.com" is not an http(s) URL`},
		{"api url without host", "GITHUB_API_URL", "https://", `GITHUB_API_URL: "https://" has no host`},
		{"api url with query", "GITHUB_API_URL", "https://api.github.com/?x=1", `has a query, fragment or user`},
		{"listen address without host part", "HTTP_ADDR", "8080", `HTTP_ADDR: "8080" is not host:port; accepted: host:port, like ":8080"`},
		{"listen port", "HTTP_ADDR", ":http-alt", `HTTP_ADDR: ":http-alt": port "http-alt" is not a number`},
		{"database url", "DATABASE_URL", "postgres://app:s3cret-pw@db:notaport/x", `DATABASE_URL: not a PostgreSQL connection string`},
		{"database keyword/value", "DATABASE_URL", "host=db password=s3cret-pw port=what", `DATABASE_URL: not a PostgreSQL connection string`},
		{"negative daily cap", "MAX_DELETIONS_PER_DAY", "-5", "MAX_DELETIONS_PER_DAY: -5 is negative"},
		{"daily cap", "MAX_DELETIONS_PER_DAY", "many", `MAX_DELETIONS_PER_DAY: "many" is not a whole number`},
		{"duration with spaces", "APPLY_MAX_AGE", "7 days", `APPLY_MAX_AGE: "7 days" is not a duration`},
		{"duration with a sign", "DELETE_INTERVAL", "-1s", `DELETE_INTERVAL: "-1s" is not a duration`},
		{"months", "APPLY_MAX_AGE", "6mo", `APPLY_MAX_AGE: "6mo" is not a duration`},
		{"zero apply age", "APPLY_MAX_AGE", "0s", "APPLY_MAX_AGE: must be positive"},
		{"size unit case", "ARCHIVE_MAX_BYTES", "10gb", `ARCHIVE_MAX_BYTES: "10gb" is not a size`},
		{"size", "ARCHIVE_MAX_BYTES", "lots", `ARCHIVE_MAX_BYTES: "lots" is not a size`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, map[string]string{tt.key: tt.value})
			if err == nil {
				t.Fatalf("%s=%q accepted", tt.key, tt.value)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != tt.key {
				t.Errorf("error %v is not a *config.Error for %s", err, tt.key)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

func TestGoodValues(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{
		"DRY_RUN": "false", "SCHEDULE": "*/10 * * * *", "SCAN_CONCURRENCY": "8", "LOG_FORMAT": "json",
		"GITHUB_API_URL": "https://ghe.example.com/api/v3", "MAX_DELETIONS_PER_RUN": "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Janitor.DryRun || c.Schedule.Spec != "*/10 * * * *" || c.Scan.Concurrency != 8 || c.Janitor.MaxDeletions != 0 {
		t.Errorf("values not applied: %+v", c)
	}
}

// TestUnitsAreThePolicys: durations and sizes take the policy's units, so
// APPLY_MAX_AGE=7d and ARCHIVE_MAX_BYTES=10GiB mean what they say there.
func TestUnitsAreThePolicys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env     map[string]string
		age     time.Duration
		bytes   int64
		wait    time.Duration
		perDay  int
		comment string
	}{
		{map[string]string{}, 7 * 24 * time.Hour, 10 << 30, 15 * time.Minute, 24 * 500, "defaults"},
		{map[string]string{"APPLY_MAX_AGE": "7d", "ARCHIVE_MAX_BYTES": "10GiB", "GITHUB_MAX_WAIT": "1h30m"}, 7 * 24 * time.Hour, 10 << 30, 90 * time.Minute, 24 * 500, "policy units"},
		{map[string]string{"APPLY_MAX_AGE": "2w", "ARCHIVE_MAX_BYTES": "500MB", "GITHUB_MAX_WAIT": "0"}, 14 * 24 * time.Hour, 500_000_000, 0, 24 * 500, "weeks, decimal megabytes, zero"},
		{map[string]string{"APPLY_MAX_AGE": "36h", "ARCHIVE_MAX_BYTES": "12345", "MAX_DELETIONS_PER_RUN": "10"}, 36 * time.Hour, 12345, 15 * time.Minute, 240, "Go units, bare bytes, derived daily cap"},
		{map[string]string{"MAX_DELETIONS_PER_DAY": "0", "ARCHIVE_MAX_BYTES": "1.5GiB"}, 7 * 24 * time.Hour, 3 << 29, 15 * time.Minute, 0, "daily cap set to 0"},
	}
	for _, tt := range tests {
		t.Run(tt.comment, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if c.Apply.MaxAge != tt.age || c.Archive.MaxBytes != tt.bytes || c.GitHub.MaxWait != tt.wait || c.Janitor.PerDay() != tt.perDay {
				t.Errorf("APPLY_MAX_AGE %s, ARCHIVE_MAX_BYTES %d, GITHUB_MAX_WAIT %s, per day %d; want %s, %d, %s, %d",
					c.Apply.MaxAge, c.Archive.MaxBytes, c.GitHub.MaxWait, c.Janitor.PerDay(), tt.age, tt.bytes, tt.wait, tt.perDay)
			}
		})
	}
}

func TestTokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  ghp_fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, map[string]string{"GITHUB_TOKEN_FILE": file})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.GitHub.Token.Reveal(); got != "ghp_fromfile" {
		t.Errorf("token = %q", got)
	}
	if _, err := load(t, map[string]string{"GITHUB_TOKEN_FILE": file, "GITHUB_TOKEN": "x"}); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both set: err = %v", err)
	}
	if _, err := load(t, map[string]string{"GITHUB_TOKEN_FILE": filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN_FILE") {
		t.Errorf("missing file: err = %v", err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := load(t, map[string]string{"GITHUB_TOKEN_FILE": empty}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: err = %v", err)
	}
}

// TestSecretsNeverPrint proves the token and the database password stay out of
// fmt, slog (text and JSON) and encoding/json output.
func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	const token, password = "ghp_SuperSecretToken123", "pa55w0rd-zz"
	for _, dsn := range []string{
		"postgres://app:" + password + "@db:5432/retentiond?sslmode=disable",
		"postgres://app@db/retentiond?password=" + password,
		"host=db user=app password=" + password + " dbname=retentiond",
		"host=db user=app password='" + password + "' dbname=retentiond",
	} {
		c, err := load(t, map[string]string{"GITHUB_TOKEN": token, "DATABASE_URL": dsn, "WEBHOOK_SECRET": "hook-" + password})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "%v %+v %#v %s\n", c, c, c, c.Database.URL)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("cfg", "config", c, "token", c.GitHub.Token, "db", c.Database.URL)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "token", c.GitHub.Token, "db", c.Database.URL)
		j, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(j)
		out := buf.String()
		if strings.Contains(out, token) || strings.Contains(out, password) {
			t.Fatalf("secret printed for %q:\n%s", dsn, out)
		}
		if !strings.Contains(out, "REDACTED") {
			t.Fatalf("no REDACTED marker in:\n%s", out)
		}
		if c.Database.URL.Reveal() != dsn || c.GitHub.Token.Reveal() != token {
			t.Fatal("Reveal must return the real values")
		}
	}
}

func TestVarsDocumentEverything(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, v := range Vars() {
		if v.Help == "" {
			t.Errorf("%s has no help text", v.Name)
		}
		if seen[v.Name] {
			t.Errorf("%s declared twice", v.Name)
		}
		seen[v.Name] = true
	}
	for _, name := range []string{"DATABASE_URL", "GITHUB_TOKEN", "GITHUB_TOKEN_FILE", "GITHUB_API_URL", "POLICY_FILE", "SCHEDULE", "DRY_RUN", "MAX_DELETIONS_PER_RUN", "SCAN_CONCURRENCY", "HTTP_ADDR", "LOG_LEVEL", "LOG_FORMAT", "GITHUB_MAX_WAIT", "DELETE_INTERVAL"} {
		if !seen[name] {
			t.Errorf("%s missing from Vars()", name)
		}
	}
}

// TestOnlyTheConcernsAskedForAreRead: a bad value of a concern a command
// does not use cannot stop it; one it uses is reported, with every other
// bad value of the concerns it reads.
func TestOnlyTheConcernsAskedForAreRead(t *testing.T) {
	t.Parallel()
	env := envconfig.MapLookuper(map[string]string{"SCHEDULE": "every hour", "GITHUB_API_URL": "nope", "LOG_LEVEL": "loud", "DATABASE_URL": "postgres://x@h/db"})
	c, err := Load(context.Background(), env, DatabaseConcern)
	if err != nil {
		t.Fatalf("loading the database concern alone: %v", err)
	}
	if !c.Loaded(DatabaseConcern) || c.Loaded(ScheduleConcern) || c.Database.URL == "" || c.Schedule.Spec != "" {
		t.Errorf("loaded %+v", c)
	}
	_, err = Load(context.Background(), env, DatabaseConcern, ScheduleConcern, LogConcern)
	for _, want := range []string{"SCHEDULE: ", "LOG_LEVEL: "} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "GITHUB_API_URL") {
		t.Errorf("err = %v names a concern that was not asked for", err)
	}
	var names []string
	for _, v := range Vars(DatabaseConcern, ScheduleConcern) {
		names = append(names, v.Name)
	}
	if diff := cmp.Diff([]string{"DATABASE_URL", "DATABASE_RETRY_FOR", "SCHEDULE", "RUN_ON_START"}, names); diff != "" {
		t.Errorf("Vars (-want +got):\n%s", diff)
	}
}

func TestAuditRetention(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, value string
		want        time.Duration
		err         string
	}{
		{name: "days", value: "90d", want: 90 * 24 * time.Hour},
		{name: "weeks", value: "8w", want: 56 * 24 * time.Hour},
		{name: "too short", value: "400s", err: "AUDIT_RETENTION: must be at least 31d"},
		{name: "not a duration", value: "forever", err: "AUDIT_RETENTION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(context.Background(), envconfig.MapLookuper(map[string]string{"AUDIT_RETENTION": tc.value}), AuditConcern)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || c.Audit.Retention != tc.want {
				t.Fatalf("AUDIT_RETENTION=%s: %v, %v; want %v", tc.value, c.Audit.Retention, err, tc.want)
			}
		})
	}
}
