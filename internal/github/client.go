// Package github is retentiond's client for the GitHub Actions artifacts API.
//
// The calls are go-github's typed ones (Actions.ListArtifacts,
// ListWorkflowRunArtifacts, GetArtifact, DeleteArtifact, DownloadArtifact) and
// paging is go-github's Response.NextPage. What a long-running cleaner needs
// and the library leaves to its callers lives in http.RoundTrippers under
// those calls, so that every call gets it: waits for primary and secondary
// rate limits through an injected clock, bounded retries with backoff for
// server and network failures, same-host redirects, conditional requests, a
// cap on requests in flight, the rate-limit state and a token that only ever
// goes to the API host. Archive downloads never send the token to the blob
// host.
//
// Errors are *APIError values (or wrap them) and match these sentinels with
// errors.Is: ErrNotFound (404), ErrExpired (410), ErrUnauthorized (401) and
// ErrRateLimited (a rate limit that would take longer than Config.MaxWait to
// reset, or a secondary limit that outlasted the retries). The token never
// appears in an error or a log record.
package github

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/clock"
)

// Defaults for the zero values of Config.
const (
	DefaultBaseURL     = "https://api.github.com"
	DefaultMaxWait     = 15 * time.Minute
	DefaultConcurrency = 4
	DefaultMaxRetries  = 3
	DefaultUserAgent   = "retentiond"

	// maxMaxRetries bounds Config.MaxRetries: with exponential backoff from a
	// minute, a secondary limit would otherwise keep a scan waiting for hours.
	maxMaxRetries = 8
	// defaultTimeout bounds one API attempt when Config.HTTPClient is nil.
	// Archive downloads are bounded by their context instead, since a large
	// archive legitimately takes longer.
	defaultTimeout = 60 * time.Second
)

const (
	mediaType  = "application/vnd.github+json"
	apiVersion = "2022-11-28"
)

// Config says how to reach GitHub and how patient to be.
type Config struct {
	// BaseURL is the REST API root: https://api.github.com (the default) or a
	// GitHub Enterprise Server URL such as https://ghe.example.com/api/v3.
	// It is used as given; nothing is appended to it.
	BaseURL string
	// Token is sent as a bearer token to the API host only. Empty means
	// unauthenticated, which GitHub allows for reading public repositories.
	Token string
	// MaxWait is the longest single wait the client accepts, for a primary
	// rate limit to reset or for a secondary limit's Retry-After; a longer one
	// fails with ErrRateLimited. Default 15m (GITHUB_MAX_WAIT).
	MaxWait time.Duration
	// Concurrency caps the HTTP requests in flight across the whole client,
	// retries and archive downloads included. Default 4.
	Concurrency int
	// HTTPClient supplies the transport and the timeout of each attempt (a
	// call may make several, with waits between them); its redirect policy is
	// replaced, because the client follows only same-host redirects, and the
	// token never leaves the API host. Default: http.DefaultTransport, 60s.
	HTTPClient *http.Client
	// Clock takes every wait, so tests can make them instant. Default clock.Real.
	Clock clock.Clock
	// Logger receives one record per wait. Default slog.Default().
	Logger *slog.Logger
	// MaxRetries is how many times a request is retried after a server or
	// network failure, and after a secondary rate limit. Default 3, at most 8.
	MaxRetries int
	// UserAgent is sent with every request. Default "retentiond".
	UserAgent string
	// TokenFile, when set, is the file Token was read from
	// (GITHUB_TOKEN_FILE). It is checked every few seconds on Clock and
	// re-read when it changed, and at once after a 401, so that a rotated
	// secret is picked up without a restart.
	TokenFile string
	// App, when set, authenticates as a GitHub App instead of Token:
	// each owner's requests go with its installation's token and spend its
	// installation's rate-limit budget.
	App *AppConfig
}

// String describes the configuration with the token redacted, so that
// printing a Config by mistake cannot leak it.
func (c Config) String() string {
	app := "nil"
	if c.App != nil {
		app = c.App.String()
	}
	return fmt.Sprintf("github.Config{BaseURL: %q, Token: %s, TokenFile: %q, App: %s, MaxWait: %s, Concurrency: %d, MaxRetries: %d, UserAgent: %q}",
		c.BaseURL, redactedToken(c.Token), c.TokenFile, app, c.MaxWait, c.Concurrency, c.MaxRetries, c.UserAgent)
}

// GoString keeps %#v from printing the token.
func (c Config) GoString() string { return c.String() }

// LogValue makes slog print the configuration without the token.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("token", redactedToken(c.Token)),
		slog.String("token_file", c.TokenFile),
		slog.Bool("github_app", c.App != nil),
		slog.Duration("max_wait", c.MaxWait),
		slog.Int("concurrency", c.Concurrency),
		slog.Int("max_retries", c.MaxRetries),
	)
}

func redactedToken(token string) string {
	if token == "" {
		return `""`
	}
	return "REDACTED"
}

// Client talks to the GitHub REST API with one token, or as a GitHub App
// with one installation token per owner. It is safe for concurrent use.
// Each token, or installation, is a rate-limit budget of its own: its state,
// its waits and its metrics are kept apart, so that an exhausted installation
// makes only its own requests wait.
type Client struct {
	redactor
	gh        *gh.Client
	base      *url.URL     // API root, with a trailing slash
	blob      *http.Client // for archive downloads: no token, own redirects
	retry     *retrier
	userAgent string

	limiter  *limiter
	requests atomic.Int64

	secrets       *secretSet
	authenticated bool
	// tokenBudget is the one budget with a token; nil with an App.
	tokenBudget *budgetState
	app         *appAuth
}

// RateState is the primary rate limit as of the latest API response that
// reported one.
type RateState struct {
	Limit     int
	Remaining int
	Reset     time.Time
	// Known is false until a response has carried x-ratelimit-* headers.
	Known bool
}

// New builds a Client, filling defaults for zero fields.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("github base URL: %w", err)
	}
	if base.Scheme != "https" && base.Scheme != "http" || base.Host == "" {
		return nil, fmt.Errorf("github base URL %q: want an http(s) URL with a host", cfg.BaseURL)
	}
	if base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("github base URL must not carry credentials, a query or a fragment")
	}
	// go-github resolves relative paths against the base, which drops the
	// last segment unless the path ends in a slash (…/api/v3 → …/api/repos).
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	if cfg.MaxWait < 0 {
		return nil, fmt.Errorf("github max wait %s: must not be negative", cfg.MaxWait)
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.Concurrency < 0 {
		return nil, fmt.Errorf("github concurrency %d: must not be negative", cfg.Concurrency)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MaxRetries < 0 || cfg.MaxRetries > maxMaxRetries {
		return nil, fmt.Errorf("github max retries %d: must be between 0 (default %d) and %d", cfg.MaxRetries, DefaultMaxRetries, maxMaxRetries)
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if strings.ContainsAny(cfg.Token, "\r\n") {
		return nil, errors.New("github token must be a single line")
	}
	if cfg.App != nil {
		switch {
		case cfg.Token != "" || cfg.TokenFile != "":
			return nil, errors.New("github: a token or a GitHub App, not both")
		case cfg.App.ID <= 0:
			return nil, fmt.Errorf("github App id %d: must be positive", cfg.App.ID)
		case cfg.App.PrivateKey == nil:
			return nil, errors.New("github App: no private key")
		case cfg.App.InstallationID < 0:
			return nil, fmt.Errorf("github App installation id %d: must be positive", cfg.App.InstallationID)
		}
	}

	transport := http.DefaultTransport
	timeout := defaultTimeout
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			transport = cfg.HTTPClient.Transport
		}
		timeout = cfg.HTTPClient.Timeout
	}

	secrets := &secretSet{}
	c := &Client{
		redactor:      redactor{token: cfg.Token, extra: secrets},
		base:          base,
		userAgent:     cfg.UserAgent,
		limiter:       newLimiter(cfg.Concurrency),
		secrets:       secrets,
		authenticated: cfg.Token != "" || cfg.TokenFile != "" || cfg.App != nil,
	}
	log := cfg.Logger.With(slog.String("component", "github"))
	if cfg.App == nil {
		c.tokenBudget = &budgetState{name: "token"}
		switch {
		case cfg.TokenFile != "":
			c.tokenBudget.src = newFileToken(cfg.TokenFile, cfg.Token, cfg.Clock, log, secrets)
		case cfg.Token != "":
			c.tokenBudget.src = staticToken(cfg.Token)
		}
	}
	c.retry = &retrier{
		redactor: c.redactor,
		route:    c.budgetOf,
		// One attempt at a time takes a slot: waits between tries hold none.
		next:       c.limiter.wrap(&meter{client: c, next: &authorizer{client: c, host: base.Host, scheme: base.Scheme, next: transport}}),
		clock:      cfg.Clock,
		log:        log,
		scheme:     base.Scheme,
		host:       base.Host,
		timeout:    timeout,
		maxWait:    cfg.MaxWait,
		maxRetries: cfg.MaxRetries,
		jitter:     jitter,
	}
	api := &http.Client{
		Transport: apiHeaders{next: c.retry},
		// No Timeout: it would cover every retry and rate-limit wait of a
		// call. The retrier bounds each attempt instead. Redirects are the
		// retrier's too (same host only); whatever it hands back, such as
		// the archive's 302, is the answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.blob = &http.Client{Transport: c.limiter.wrap(transport)}

	baseStr := base.String()
	c.gh, err = gh.NewClient(
		gh.WithHTTPClient(api),
		gh.WithURLs(&baseStr, nil),
		gh.WithUserAgent(cfg.UserAgent),
		// go-github's own rate-limit bookkeeping compares against the wall
		// clock and refuses requests before a reset; the retrier decides
		// about waits itself, on the injected clock.
		gh.WithDisableRateLimitCheck(),
	)
	if err != nil {
		return nil, fmt.Errorf("building go-github client: %w", err)
	}
	if cfg.App != nil {
		if c.app, err = newAppAuth(c, *cfg.App, transport, timeout, cfg.Clock, log); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// RateLimit returns the primary rate limit as of the latest API response:
// the token's, or with a GitHub App the known installation budget with the
// fewest requests left (see Budgets for each).
func (c *Client) RateLimit() RateState {
	if c.tokenBudget != nil {
		return c.tokenBudget.rateState()
	}
	var low RateState
	for _, b := range c.Budgets() {
		if b.Known && (!low.Known || b.Remaining < low.Remaining) {
			low = b.RateState
		}
	}
	return low
}

// Requests returns how many requests the client has sent to the API host,
// retries and redirects included. Archive downloads from the blob host are
// not counted: they cost no rate limit.
func (c *Client) Requests() int64 { return c.requests.Load() }

// jitter returns d moved randomly by up to a fifth either way.
func jitter(d time.Duration) time.Duration {
	spread := int64(d) / 5
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread) + time.Duration(rand.Int64N(2*spread+1))
}
