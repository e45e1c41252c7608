package github

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	jwt "github.com/golang-jwt/jwt/v4"
	gh "github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/clock"
)

// AppConfig authenticates the client as a GitHub App: a JWT signed with the
// App's private key buys installation tokens, one per installation, and each
// request goes out with the token of the installation on its owner.
type AppConfig struct {
	// ID is the App's id (GITHUB_APP_ID).
	ID int64
	// PrivateKey is the App's private key (GITHUB_APP_PRIVATE_KEY_FILE).
	PrivateKey *rsa.PrivateKey
	// InstallationID, when set, is used for every request; otherwise each
	// owner's installation is found with GET /app/installations.
	InstallationID int64
}

// String describes the App without its key.
func (a AppConfig) String() string {
	return fmt.Sprintf("github.AppConfig{ID: %d, PrivateKey: REDACTED, InstallationID: %d}", a.ID, a.InstallationID)
}

// GoString keeps %#v from printing the key.
func (a AppConfig) GoString() string { return a.String() }

// LogValue makes slog print the App without its key.
func (a AppConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("app_id", a.ID), slog.String("private_key", "REDACTED"), slog.Int64("installation_id", a.InstallationID))
}

// ErrNoInstallation: the GitHub App is not installed on the owner a request
// is for (or the request names no owner and the App has several
// installations). Only the repositories of that owner fail.
var ErrNoInstallation = errors.New("no GitHub App installation")

const (
	// tokenRefreshBefore is how long before its expiry an installation
	// token is replaced. Tokens last an hour; a request sent with one that
	// has a minute left could still meet a clock a little ahead of ours.
	tokenRefreshBefore = 5 * time.Minute
	// relistEvery bounds how often GET /app/installations is asked again
	// for an owner it did not list: an App installed meanwhile is found
	// within minutes, without a listing per request.
	relistEvery = 5 * time.Minute
	// jwtBackdate and jwtLifetime shape the App's JWT: GitHub recommends an
	// iat 60 s in the past against clock drift and refuses an exp more than
	// 10 minutes ahead; 5 leaves room for a clock running fast.
	jwtBackdate = 60 * time.Second
	jwtLifetime = 5 * time.Minute
)

// appAuth finds installations and keeps their tokens.
type appAuth struct {
	c     *Client
	id    int64
	fixed int64 // GITHUB_APP_INSTALLATION_ID, or 0
	gh    *gh.Client
	clock clock.Clock
	log   *slog.Logger

	listing chan struct{} // one listing at a time; a channel so waiting respects ctx

	mu      sync.Mutex
	owners  map[string]int64 // lower-cased account login → installation id
	logins  []string         // as listed, for errors
	listed  time.Time
	budgets map[int64]*budgetState
}

// newAppAuth builds the App's side of client c: a go-github client whose
// requests carry a JWT, through ghinstallation's AppsTransport, and retried
// like any other by a retrier of their own (no limiter slot: a token is
// fetched from inside a request that holds one already).
func newAppAuth(c *Client, cfg AppConfig, transport http.RoundTripper, timeout time.Duration, clk clock.Clock, log *slog.Logger) (*appAuth, error) {
	signer := &clockSigner{inner: ghinstallation.NewRSASigner(jwt.SigningMethodRS256, cfg.PrivateKey), clock: clk, secrets: c.secrets}
	atr, err := ghinstallation.NewAppsTransportWithOptions(transport, cfg.ID, ghinstallation.WithSigner(signer))
	if err != nil {
		return nil, fmt.Errorf("GitHub App transport: %w", err)
	}
	rt := &retrier{
		redactor:   c.redactor,
		next:       &counted{client: c, next: cloning{next: atr}},
		clock:      clk,
		log:        log,
		scheme:     c.base.Scheme,
		host:       c.base.Host,
		timeout:    timeout,
		maxWait:    c.retry.maxWait,
		maxRetries: c.retry.maxRetries,
		jitter:     c.retry.jitter,
	}
	base := c.base.String()
	client, err := gh.NewClient(
		gh.WithHTTPClient(&http.Client{
			Transport:     apiHeaders{next: rt},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}),
		gh.WithURLs(&base, nil),
		gh.WithUserAgent(c.userAgent),
		gh.WithDisableRateLimitCheck(),
	)
	if err != nil {
		return nil, fmt.Errorf("building go-github client for the GitHub App: %w", err)
	}
	return &appAuth{
		c: c, id: cfg.ID, fixed: cfg.InstallationID, gh: client, clock: clk, log: log,
		listing: make(chan struct{}, 1),
		owners:  map[string]int64{},
		budgets: map[int64]*budgetState{},
	}, nil
}

// budgetFor returns the budget, and so the credentials, of owner's
// installation.
func (a *appAuth) budgetFor(ctx context.Context, owner string) (*budgetState, error) {
	if a.fixed != 0 {
		return a.budget(a.fixed), nil
	}
	if owner == "" {
		return nil, &authError{fmt.Errorf("GitHub App %d: the request names no owner, so no installation can be chosen for it: %w", a.id, ErrNoInstallation)}
	}
	key := strings.ToLower(owner)
	if id, ok := a.lookup(key); ok {
		return a.budget(id), nil
	}
	select {
	case a.listing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-a.listing }()
	// Another request may have listed while this one waited.
	if id, ok := a.lookup(key); ok {
		return a.budget(id), nil
	}
	a.mu.Lock()
	stale := a.listed.IsZero() || a.clock.Now().Sub(a.listed) >= relistEvery
	a.mu.Unlock()
	if stale {
		if err := a.list(ctx); err != nil {
			return nil, &authError{fmt.Errorf("finding the installation of GitHub App %d on %s: %w", a.id, owner, err)}
		}
	}
	if id, ok := a.lookup(key); ok {
		return a.budget(id), nil
	}
	a.mu.Lock()
	on := strings.Join(a.logins, ", ")
	a.mu.Unlock()
	if on == "" {
		on = "no account"
	}
	return nil, &authError{fmt.Errorf("GitHub App %d is not installed on %s (GET /app/installations lists %s); install it there, with Actions read and write and Metadata read: %w",
		a.id, owner, on, ErrNoInstallation)}
}

func (a *appAuth) lookup(key string) (int64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.owners[key]
	return id, ok
}

// list reads every installation of the App, 100 a page.
func (a *appAuth) list(ctx context.Context) error {
	owners := map[string]int64{}
	var logins []string
	for page := 1; ; {
		cl := &call{}
		insts, resp, err := a.gh.Apps.ListInstallations(withCall(ctx, cl), &gh.ListOptions{Page: page, PerPage: perPage})
		if err != nil {
			return a.c.scrubError(fmt.Errorf("GET /app/installations page %d: %w", page, a.c.failure(cl, err)))
		}
		for _, inst := range insts {
			if login := inst.GetAccount().GetLogin(); login != "" && inst.GetID() != 0 {
				owners[strings.ToLower(login)] = inst.GetID()
				logins = append(logins, login)
			}
		}
		if resp.NextPage <= page {
			break
		}
		page = resp.NextPage
	}
	slices.SortFunc(logins, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	a.mu.Lock()
	a.owners, a.logins, a.listed = owners, logins, a.clock.Now()
	a.mu.Unlock()
	a.log.Info("listed the GitHub App's installations", slog.Int64("app_id", a.id), slog.Int("installations", len(owners)))
	return nil
}

// budget returns installation id's budget, made on first use.
func (a *appAuth) budget(id int64) *budgetState {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.budgets[id]
	if b == nil {
		b = &budgetState{name: strconv.FormatInt(id, 10)}
		b.src = &installationToken{app: a, id: id, lock: make(chan struct{}, 1)}
		a.budgets[id] = b
	}
	return b
}

// all returns the budgets made so far, by name.
func (a *appAuth) all() []*budgetState {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*budgetState, 0, len(a.budgets))
	for _, b := range a.budgets {
		out = append(out, b)
	}
	slices.SortFunc(out, func(x, y *budgetState) int { return strings.Compare(x.name, y.name) })
	return out
}

// forget drops the owners of installation id, so that the next request for
// them lists the installations again (the App was uninstalled, or moved).
func (a *appAuth) forget(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, v := range a.owners {
		if v == id {
			delete(a.owners, k)
		}
	}
	a.listed = time.Time{}
}

// installationToken is one installation's token, replaced before it
// expires by the client's clock. ghinstallation's own Transport is not used
// for this: it decides expiry on the wall clock, so tests could not move a
// token past its hour, and it cannot be told that GitHub refused a token.
type installationToken struct {
	app  *appAuth
	id   int64
	lock chan struct{}

	tok     string
	expires time.Time
}

func (t *installationToken) token(ctx context.Context) (string, error) {
	select {
	case t.lock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-t.lock }()
	if t.tok != "" && t.app.clock.Now().Before(t.expires.Add(-tokenRefreshBefore)) {
		return t.tok, nil
	}
	return t.mint(ctx)
}

func (t *installationToken) refused(ctx context.Context, tok string) bool {
	select {
	case t.lock <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-t.lock }()
	if t.tok == tok {
		t.tok = ""
	}
	return true
}

// mint asks for a new token; the caller holds t.lock.
func (t *installationToken) mint(ctx context.Context) (string, error) {
	a := t.app
	cl := &call{}
	res, _, err := a.gh.Apps.CreateInstallationToken(withCall(ctx, cl), t.id, nil)
	if err != nil {
		err = a.c.failure(cl, err)
		if errors.Is(err, ErrNotFound) {
			a.forget(t.id)
		}
		return "", a.c.scrubError(fmt.Errorf("creating a token for installation %d of GitHub App %d: %w", t.id, a.id, err))
	}
	tok := res.GetToken()
	if tok == "" || strings.ContainsAny(tok, "\r\n ") {
		return "", fmt.Errorf("creating a token for installation %d of GitHub App %d: the answer holds no usable token", t.id, a.id)
	}
	a.c.secrets.add(tok)
	expires := res.GetExpiresAt().Time
	if expires.IsZero() {
		expires = a.clock.Now().Add(time.Hour)
	}
	t.tok, t.expires = tok, expires
	a.log.Debug("created an installation token", slog.Int64("installation_id", t.id), slog.Time("expires_at", expires))
	return tok, nil
}

// clockSigner signs the App's JWTs with times from the injected clock.
// ghinstallation's AppsTransport stamps iat and exp from the wall clock; the
// claims are re-stamped here so that they agree with the clock the rest of
// the client (and a test's simulator) runs on. Every JWT is remembered for
// scrubbing.
type clockSigner struct {
	inner   ghinstallation.Signer
	clock   clock.Clock
	secrets *secretSet
}

// Sign implements ghinstallation.Signer.
func (s *clockSigner) Sign(claims jwt.Claims) (string, error) {
	if rc, ok := claims.(*jwt.RegisteredClaims); ok {
		now := s.clock.Now().Truncate(time.Second)
		c := *rc
		c.IssuedAt = jwt.NewNumericDate(now.Add(-jwtBackdate))
		c.ExpiresAt = jwt.NewNumericDate(now.Add(jwtLifetime))
		claims = &c
	}
	tok, err := s.inner.Sign(claims)
	if err != nil {
		return "", err
	}
	s.secrets.add(tok)
	return tok, nil
}

// cloning gives its next transport a copy of each request:
// ghinstallation's AppsTransport sets headers on the request it is given,
// which a RoundTripper must not do to its caller's, and which would pile up
// Accept headers over the retrier's retries.
type cloning struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t cloning) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req.Clone(req.Context()))
}

// counted counts the App's requests among the client's.
type counted struct {
	client *Client
	next   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *counted) RoundTrip(req *http.Request) (*http.Response, error) {
	t.client.requests.Add(1)
	return t.next.RoundTrip(req)
}
