// Package config reads retentiond's settings from the environment.
//
// Every variable is declared once, as a tagged struct field: the tag gives the
// name and default for go-envconfig, and a help tag gives the text that
// `retentiond help` prints. Values are checked by variable name before
// conversion, so a bad value is reported as the variable a user set, with what
// it accepts, rather than as a Go field.
package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/budget"
)

// Config is every setting retentiond reads, grouped by concern. A command
// loads only the concerns it uses (see Load), so a bad SCHEDULE cannot stop
// audit and a missing GITHUB_TOKEN cannot stop plan; the fields of a concern
// that was not loaded are zero.
type Config struct {
	Database Database
	GitHub   GitHub
	Policy   Policy
	Janitor  Janitor
	Schedule Schedule
	Apply    Apply
	Scan     Scan
	Server   Server
	UI       UI
	Log      Log
	Archive  Archive
	Storage  Storage
	Audit    Audit

	loaded map[Concern]bool
}

// Concern names one group of settings.
type Concern string

// The concerns, one per struct of Config.
const (
	DatabaseConcern Concern = "database"
	GitHubConcern   Concern = "github"
	PolicyConcern   Concern = "policy"
	JanitorConcern  Concern = "janitor"
	ScheduleConcern Concern = "schedule"
	ApplyConcern    Concern = "apply"
	ScanConcern     Concern = "scan"
	ServerConcern   Concern = "server"
	UIConcern       Concern = "ui"
	LogConcern      Concern = "log"
	ArchiveConcern  Concern = "archive"
	StorageConcern  Concern = "storage"
	AuditConcern    Concern = "audit"
)

// concerns lists every concern in the order help prints them, with the
// struct that holds it.
var concerns = []struct {
	c     Concern
	field func(*Config) validator
}{
	{DatabaseConcern, func(c *Config) validator { return &c.Database }},
	{GitHubConcern, func(c *Config) validator { return &c.GitHub }},
	{PolicyConcern, func(c *Config) validator { return &c.Policy }},
	{ScheduleConcern, func(c *Config) validator { return &c.Schedule }},
	{JanitorConcern, func(c *Config) validator { return &c.Janitor }},
	{ApplyConcern, func(c *Config) validator { return &c.Apply }},
	{ScanConcern, func(c *Config) validator { return &c.Scan }},
	{ServerConcern, func(c *Config) validator { return &c.Server }},
	{UIConcern, func(c *Config) validator { return &c.UI }},
	{ArchiveConcern, func(c *Config) validator { return &c.Archive }},
	{StorageConcern, func(c *Config) validator { return &c.Storage }},
	{AuditConcern, func(c *Config) validator { return &c.Audit }},
	{LogConcern, func(c *Config) validator { return &c.Log }},
}

// All is every concern.
func All() []Concern {
	out := make([]Concern, len(concerns))
	for i, c := range concerns {
		out[i] = c.c
	}
	return out
}

// validator is a concern's struct: it checks what types alone don't.
type validator interface{ validate(bad func(v, msg string)) }

// Loaded reports whether Load read concern c.
func (c *Config) Loaded(cn Concern) bool { return c.loaded[cn] }

// Database says where PostgreSQL is.
type Database struct {
	URL DatabaseURL `env:"DATABASE_URL" help:"PostgreSQL connection string (URL or key=value). Required by every command that uses the database. demo only uses its server, for a database of its own, and finds a local server when it is unset."`
	// RetryFor rides out a restart or failover without aborting a run.
	RetryFor time.Duration `env:"DATABASE_RETRY_FOR, default=60s" help:"How long a run retries its database writes (intents, outcomes, totals) through an outage before it stops; an outcome it could not write stays pending and is resolved at the next start. 0 tries once."`
}

// GitHub says how to reach the API.
type GitHub struct {
	Token     Secret        `env:"GITHUB_TOKEN" help:"API token (classic PAT with repo scope, fine-grained with Actions read/write, or a GitHub App installation token)."`
	TokenFile string        `env:"GITHUB_TOKEN_FILE" help:"File holding the token instead of GITHUB_TOKEN (e.g. a mounted secret); surrounding whitespace is ignored. Re-read when it changes (checked every 5s), so a rotated secret is picked up."`
	APIURL    string        `env:"GITHUB_API_URL, default=https://api.github.com" help:"REST API base URL; for GitHub Enterprise Server use https://HOST/api/v3."`
	MaxWait   time.Duration `env:"GITHUB_MAX_WAIT, default=15m" help:"Longest wait for a primary rate limit to reset (a duration: 90s, 15m, 1h); a longer one fails that repository's scan (or stops the janitor)."`

	// GitHub App authentication, instead of a token (see app.go).
	AppID             int64  `env:"GITHUB_APP_ID" help:"Authenticate as this GitHub App (its numeric App ID) instead of with a token; needs GITHUB_APP_PRIVATE_KEY_FILE or GITHUB_APP_PRIVATE_KEY."`
	AppPrivateKeyFile string `env:"GITHUB_APP_PRIVATE_KEY_FILE" help:"The GitHub App's private key, the .pem file GitHub generated (e.g. a mounted secret)."`
	AppPrivateKey     Secret `env:"GITHUB_APP_PRIVATE_KEY" help:"The GitHub App's private key itself, PEM text (\\n escapes are accepted), instead of GITHUB_APP_PRIVATE_KEY_FILE."`
	AppInstallationID int64  `env:"GITHUB_APP_INSTALLATION_ID" help:"Use this installation of the App for every repository; without it each owner's installation is found with GET /app/installations."`
	// AppKey is the App's parsed private key, set when an App is configured.
	AppKey *PrivateKey `env:",noinit"`
}

// Policy says where the retention rules are.
type Policy struct {
	File string `env:"POLICY_FILE, default=policies.yaml" help:"Path of the YAML policy file (see policies.example.yaml)."`
}

// Janitor governs deletion.
type Janitor struct {
	DryRun       bool `env:"DRY_RUN, default=true" help:"Record what would be deleted without deleting. Set false to delete."`
	MaxDeletions int  `env:"MAX_DELETIONS_PER_RUN, default=500" help:"Cap on DELETE calls per run, oldest first; decisions past it are recorded as skipped_cap."`
	// MaxDeletionsPerDay is nil when unset: then it is 24 × MaxDeletions
	// (what the default hourly schedule can do in a day); see PerDay.
	MaxDeletionsPerDay *int          `env:"MAX_DELETIONS_PER_DAY, noinit" help:"Cap on deletions in any rolling 24 hours, across runs, retries and restarts, counted from the audit log (default 24 × MAX_DELETIONS_PER_RUN)."`
	DeleteInterval     time.Duration `env:"DELETE_INTERVAL, default=1s" help:"Pause between DELETE calls (GitHub asks for mutating requests about a second apart)."`
}

// Schedule says when serve runs.
type Schedule struct {
	Spec string `env:"SCHEDULE, default=@hourly" help:"When serve runs: a 5-field cron spec or @hourly, @daily, @every 30m, ..."`
	// RunOnStart is in this concern because it is read against SCHEDULE.
	RunOnStart RunOnStart `env:"RUN_ON_START, default=missed" help:"Whether serve runs at start: missed (when the latest run started longer ago than one SCHEDULE period), always or never."`
}

// Apply bounds what apply carries out.
type Apply struct {
	MaxAge time.Duration `env:"APPLY_MAX_AGE, default=7d" help:"apply refuses a reviewed dry-run that started longer ago than this (a duration: 12h, 7d, 2w)."`
}

// PerDay returns MAX_DELETIONS_PER_DAY, or its default.
func (j *Janitor) PerDay() int {
	if j.MaxDeletionsPerDay != nil {
		return *j.MaxDeletionsPerDay
	}
	return 24 * j.MaxDeletions
}

// Scan governs listing.
type Scan struct {
	Concurrency int `env:"SCAN_CONCURRENCY, default=4" help:"Repositories scanned at once, and the most GitHub requests in flight."`
	// FullScanInterval bounds how long incremental scans may stand in for a
	// full listing, the only kind that finds artifacts deleted elsewhere.
	FullScanInterval time.Duration `env:"FULL_SCAN_INTERVAL, default=24h" help:"Longest a repository goes without a full listing; in between, scans are incremental (page 1 with its ETag, then new pages only, reconciled with total_count). 0 lists every page every time."`
	// Reserve is RATE_LIMIT_RESERVE as given; validate parses it into
	// RateLimitReserve (go-envconfig hands struct-typed fields straight to
	// their decoder, past the checks that name the variable).
	Reserve string `env:"RATE_LIMIT_RESERVE, default=10%" help:"Requests a run leaves unspent in each rate-limit budget, a count (500) or a percentage of the limit (10%); repositories the rest cannot afford are skipped, least recently scanned first in line, and get no deletions."`
	// RateLimitReserve is what a run leaves of each rate-limit budget.
	RateLimitReserve budget.Reserve
}

// Server is the serve command's HTTP side.
type Server struct {
	Addr          string `env:"HTTP_ADDR, default=:8080" help:"Listen address for /healthz, /readyz, /metrics and /webhook."`
	WebhookSecret Secret `env:"WEBHOOK_SECRET" help:"Enables POST /webhook for workflow_run events; must match the secret set on GitHub."`
}

// Log governs logging.
type Log struct {
	Level  string `env:"LOG_LEVEL, default=info" help:"debug, info, warn or error."`
	Format string `env:"LOG_FORMAT, default=auto" help:"auto (coloured text on a terminal, JSON otherwise), text or json."`
}

// Archive governs archive-before-delete.
type Archive struct {
	// Dir has no default on purpose: an archive written to a container's
	// own filesystem is lost with the container, after its artifact was
	// deleted. A policy with archive rules needs it set, to a volume.
	Dir      string `env:"ARCHIVE_DIR" help:"Where delete rules with archive: true store downloads, as OWNER/REPO/ID-NAME.zip; required (and must be writable) when the policy archives, on a volume that outlives the container."`
	MaxBytes int64  `env:"ARCHIVE_MAX_BYTES, default=10GiB" unit:"size" help:"Most bytes downloaded for archiving in one run (a size: 500MB, 10GiB; or a number of bytes)."`
}

// Error is a bad setting: which variable, and what it accepts.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string { return e.Var + ": " + e.Msg }

// Load reads the concerns asked for (all of them when none is named)
// through l — envconfig.OsLookuper() in production, envconfig.MapLookuper in
// tests — reads GITHUB_TOKEN_FILE if set, and validates each. Every bad
// value is reported, each naming its variable; errors are *Error or wrap
// one.
func Load(ctx context.Context, l envconfig.Lookuper, only ...Concern) (*Config, error) {
	if len(only) == 0 {
		only = All()
	}
	c := &Config{loaded: map[Concern]bool{}}
	want := map[Concern]bool{}
	for _, cn := range only {
		want[cn] = true
	}
	var errs []error
	bad := func(v, msg string) { errs = append(errs, &Error{Var: v, Msg: msg}) }
	for _, cc := range concerns {
		if !want[cc.c] {
			continue
		}
		target := cc.field(c)
		err := envconfig.ProcessWith(ctx, &envconfig.Config{
			Target:   target,
			Lookuper: l,
			Mutators: []envconfig.Mutator{envconfig.MutatorFunc(checkValue)},
		})
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				return nil, fmt.Errorf("reading configuration: %w", err)
			}
			errs = append(errs, ce)
			continue
		}
		target.validate(bad)
		c.loaded[cc.c] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func (d *Database) validate(bad func(v, msg string)) {
	if d.URL != "" {
		if msg := checkDatabaseURL(d.URL); msg != "" {
			bad("DATABASE_URL", msg)
		}
	}
	if d.RetryFor < 0 {
		bad("DATABASE_RETRY_FOR", "must not be negative")
	}
}

// validate checks the API URL and reads GITHUB_TOKEN_FILE.
func (g *GitHub) validate(bad func(v, msg string)) {
	if g.MaxWait < 0 {
		bad("GITHUB_MAX_WAIT", "must not be negative")
	}
	if msg := checkAPIURL(g.APIURL); msg != "" {
		bad("GITHUB_API_URL", msg)
	}
	g.validateApp(bad)
	if g.TokenFile == "" {
		return
	}
	if g.Token != "" {
		bad("GITHUB_TOKEN_FILE", "set GITHUB_TOKEN or GITHUB_TOKEN_FILE, not both")
		return
	}
	b, err := os.ReadFile(g.TokenFile)
	if err != nil {
		bad("GITHUB_TOKEN_FILE", fmt.Sprintf("reading the token: %v", err))
		return
	}
	g.Token = Secret(strings.TrimSpace(string(b)))
	if g.Token == "" {
		bad("GITHUB_TOKEN_FILE", fmt.Sprintf("%s is empty", g.TokenFile))
	}
}

func (*Policy) validate(func(v, msg string)) {}

func (j *Janitor) validate(bad func(v, msg string)) {
	if j.MaxDeletions < 0 {
		bad("MAX_DELETIONS_PER_RUN", fmt.Sprintf("%d is negative; accepted: 0 (delete nothing) or more", j.MaxDeletions))
	}
	if n := j.MaxDeletionsPerDay; n != nil && *n < 0 {
		bad("MAX_DELETIONS_PER_DAY", fmt.Sprintf("%d is negative; accepted: 0 (delete nothing) or more", *n))
	}
	if j.DeleteInterval < 0 {
		bad("DELETE_INTERVAL", "must not be negative")
	}
}

func (s *Schedule) validate(bad func(v, msg string)) {
	if _, err := cron.ParseStandard(s.Spec); err != nil {
		bad("SCHEDULE", fmt.Sprintf("%q is not a schedule (%v); accepted: 5-field cron like \"0 * * * *\", or @hourly, @daily, @every 30m", s.Spec, err))
	}
	s.RunOnStart.validate(bad)
}

func (a *Apply) validate(bad func(v, msg string)) {
	if a.MaxAge <= 0 {
		bad("APPLY_MAX_AGE", "must be positive")
	}
}

func (s *Scan) validate(bad func(v, msg string)) {
	if s.Concurrency < 1 || s.Concurrency > 100 {
		bad("SCAN_CONCURRENCY", fmt.Sprintf("%d is out of range; accepted: 1 to 100 (GitHub allows at most 100 concurrent requests)", s.Concurrency))
	}
	r, err := budget.ParseReserve(s.Reserve)
	if err != nil {
		bad("RATE_LIMIT_RESERVE", fmt.Sprintf("%v; accepted: a number of requests (500) or a percentage of the rate limit (10%%)", err))
	}
	s.RateLimitReserve = r
	if s.FullScanInterval < 0 {
		bad("FULL_SCAN_INTERVAL", "must not be negative; accepted: a duration like 24h or 7d, or 0 for a full listing every time")
	}
}

func (s *Server) validate(bad func(v, msg string)) {
	if msg := checkListenAddr(s.Addr); msg != "" {
		bad("HTTP_ADDR", msg)
	}
}

func (l *Log) validate(bad func(v, msg string)) {
	switch strings.ToLower(l.Level) {
	case "debug", "info", "warn", "warning", "error":
	default:
		bad("LOG_LEVEL", fmt.Sprintf("%q is not a level; accepted: debug, info, warn, error", l.Level))
	}
	switch strings.ToLower(l.Format) {
	case "auto", "text", "json":
	default:
		bad("LOG_FORMAT", fmt.Sprintf("%q is not a format; accepted: auto, text, json", l.Format))
	}
}

func (a *Archive) validate(bad func(v, msg string)) {
	if a.MaxBytes < 0 {
		bad("ARCHIVE_MAX_BYTES", "must not be negative")
	}
}

// RequireDatabase reports a clear error when DATABASE_URL is unset.
func (c *Config) RequireDatabase() error {
	if c.Database.URL == "" {
		return &Error{Var: "DATABASE_URL", Msg: "is required, e.g. postgres://user:password@host:5432/retentiond"}
	}
	return nil
}

// RequireToken reports a clear error when neither a token nor a GitHub App
// was given.
func (c *Config) RequireToken() error {
	if c.GitHub.Token == "" && c.GitHub.AppKey == nil {
		return &Error{Var: "GITHUB_TOKEN", Msg: "is required (or GITHUB_TOKEN_FILE, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY_FILE): retentiond lists and deletes artifacts through the API"}
	}
	return nil
}
