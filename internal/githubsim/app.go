package githubsim

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
)

// The GitHub App side of the simulator: Apps registered with their public
// keys, installations on owners, the JWTs an App authenticates with and the
// installation tokens it exchanges them for. Each installation has a rate
// budget of its own, as on GitHub, so a client that routes requests to the
// wrong credentials, or mixes up budgets, shows it.

// Route names of the App endpoints.
const (
	RouteAppInstallations  = "app_installations"         // GET /app/installations (JWT)
	RouteAccessTokens      = "access_tokens"             // POST /app/installations/{id}/access_tokens (JWT)
	RouteInstallationRepos = "installation_repositories" // GET /installation/repositories (installation token)
	RouteRateLimit         = "rate_limit"                // GET /rate_limit (any credentials; free)
)

const (
	// InstallationTokenLifetime is how long an installation token lasts on
	// GitHub, measured here on the simulator's clock.
	InstallationTokenLifetime = time.Hour
	// jwtMaxLifetime is GitHub's limit on exp: at most ten minutes ahead.
	jwtMaxLifetime = 10 * time.Minute
	// jwtIssuedAtLeeway is how far ahead of the server's clock iat may be.
	// GitHub does not document its tolerance; it tells Apps to backdate
	// iat by 60 s against drift, and that is the drift allowed here. exp is
	// checked without leeway, as GitHub does (a JWT that expires exactly
	// ten minutes out from a clock a second ahead is refused).
	jwtIssuedAtLeeway = 60 * time.Second
	// installationRateLimit is an installation's base hourly budget.
	installationRateLimit = 5000

	docApps = "https://docs.github.com/rest/apps/apps"
)

// GitHub's messages for JWTs it refuses, all with 401.
const (
	msgJWTUndecodable = "A JSON web token could not be decoded"
	msgJWTIssuedAt    = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	msgJWTExpired     = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgJWTTooLong     = "'Expiration time' claim ('exp') is too far in the future"
	msgNeedsInstToken = "You must authenticate with an installation access token in order to list repositories for an installation."
	msgIntegration    = "Resource not accessible by integration"
)

// appState is the Apps, installations and tokens the simulator knows. Its
// zero value is empty and usable.
type appState struct {
	mu       sync.Mutex
	apps     map[int64]*simApp
	insts    map[int64]*installation
	tokens   map[string]*instToken
	nextInst int64
	// mainToken replaces Options.Token once SetToken was called.
	mainToken    string
	mainTokenSet bool
}

type simApp struct {
	id   int64
	key  *rsa.PublicKey
	rate rateState
}

type installation struct {
	id      int64
	app     *simApp
	account string // as given
	owner   string // lower-cased
	rate    rateState
	issued  int
}

type instToken struct {
	inst    *installation
	expires time.Time
}

// credKind is what a request authenticated as.
type credKind int

const (
	credMain         credKind = iota // Options.Token, or anything on a permissive server
	credInstallation                 // an installation token
	credApp                          // an App's JWT
)

// credential is who a request authenticated as.
type credential struct {
	kind credKind
	inst *installation
	app  *simApp
}

// budget returns the rate budget the credential spends.
func (s *Server) budget(cr credential) *rateState {
	switch cr.kind {
	case credInstallation:
		return &cr.inst.rate
	case credApp:
		return &cr.app.rate
	}
	return &s.rate
}

// RegisterApp makes a GitHub App with the given id known, verifying its
// JWTs against key, the public half of the App's private key.
func (s *Server) RegisterApp(id int64, key *rsa.PublicKey) {
	a := &s.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.apps == nil {
		a.apps = map[int64]*simApp{}
	}
	a.apps[id] = &simApp{id: id, key: key, rate: rateState{limit: installationRateLimit, reset: s.clock.Now().Add(time.Hour)}}
}

// AddInstallation installs App appID on account (an organisation or user
// login) for all of its repositories and returns the installation's id. The
// installation gets a budget of its own, 5,000 requests an hour. It panics if
// the App was not registered.
func (s *Server) AddInstallation(appID int64, account string) int64 {
	a := &s.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	app := a.apps[appID]
	if app == nil {
		panic(fmt.Sprintf("githubsim: AddInstallation: App %d is not registered", appID))
	}
	if a.insts == nil {
		a.insts = map[int64]*installation{}
		a.nextInst = 70_000_001
	}
	id := a.nextInst
	a.nextInst++
	a.insts[id] = &installation{
		id: id, app: app, account: account, owner: strings.ToLower(account),
		rate: rateState{limit: installationRateLimit, reset: s.clock.Now().Add(time.Hour)},
	}
	return id
}

// SetInstallationRateLimit puts installation id's budget in a given state,
// like SetRateLimit does for the main token's.
func (s *Server) SetInstallationRateLimit(id int64, remaining int, reset time.Time) {
	inst := s.installation(id)
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	remaining = min(max(remaining, 0), inst.rate.limit)
	inst.rate.used = inst.rate.limit - remaining
	inst.rate.reset = reset
}

// InstallationRateLimit returns installation id's budget as its next
// response would report it.
func (s *Server) InstallationRateLimit(id int64) (limit, remaining int, reset time.Time) {
	r := s.peekBudget(&s.installation(id).rate)
	return r.limit, r.remaining, time.Unix(r.reset, 0)
}

// TokensIssued returns how many installation tokens installation id got.
func (s *Server) TokensIssued(id int64) int {
	inst := s.installation(id)
	s.apps.mu.Lock()
	defer s.apps.mu.Unlock()
	return inst.issued
}

func (s *Server) installation(id int64) *installation {
	s.apps.mu.Lock()
	defer s.apps.mu.Unlock()
	inst := s.apps.insts[id]
	if inst == nil {
		panic(fmt.Sprintf("githubsim: no installation %d", id))
	}
	return inst
}

// SetToken replaces the token the server accepts (Options.Token), as when a
// token is rotated: from then on the old one gets 401.
func (s *Server) SetToken(token string) {
	s.apps.mu.Lock()
	defer s.apps.mu.Unlock()
	s.apps.mainToken, s.apps.mainTokenSet = token, true
}

// authenticate works out who r is. msg is the 401 message when it is nobody.
func (s *Server) authenticate(r *http.Request) (cr credential, msg string) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !(strings.EqualFold(scheme, "bearer") || strings.EqualFold(scheme, "token")) {
		tok = ""
	}
	a := &s.apps
	a.mu.Lock()
	main := s.token
	if a.mainTokenSet {
		main = a.mainToken
	}
	it := a.tokens[tok]
	a.mu.Unlock()

	switch {
	case it != nil:
		if !s.clock.Now().Before(it.expires) {
			return cr, "Bad credentials"
		}
		return credential{kind: credInstallation, inst: it.inst}, ""
	case main != "" && tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(main)) == 1:
		return credential{kind: credMain}, ""
	case strings.Count(tok, ".") == 2 && strings.EqualFold(scheme, "bearer"):
		app, msg := s.verifyJWT(tok)
		if msg != "" {
			return cr, msg
		}
		return credential{kind: credApp, app: app}, ""
	case main == "":
		return credential{kind: credMain}, ""
	}
	return cr, "Bad credentials"
}

// verifyJWT checks an App's JWT as GitHub does: RS256 over the App's key
// (found by iss, the App id), an integer iat not in the future, and an exp in
// the future but at most ten minutes out. msg is GitHub's message for a JWT
// it refuses.
func (s *Server) verifyJWT(tok string) (*simApp, string) {
	var app *simApp
	claims := jwt.MapClaims{}
	// Claims are checked below on the simulator's clock; the library's
	// check would use the wall clock.
	p := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}), jwt.WithoutClaimsValidation())
	_, err := p.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) {
		id, ok := issuer(claims["iss"])
		if !ok {
			return nil, fmt.Errorf("no usable iss")
		}
		s.apps.mu.Lock()
		app = s.apps.apps[id]
		s.apps.mu.Unlock()
		if app == nil {
			return nil, fmt.Errorf("unknown App %d", id)
		}
		return app.key, nil
	})
	if err != nil || app == nil {
		return nil, msgJWTUndecodable
	}
	now := s.clock.Now()
	iat, ok := claims["iat"].(float64)
	if !ok || iat != math.Trunc(iat) || time.Unix(int64(iat), 0).After(now.Add(jwtIssuedAtLeeway)) {
		return nil, msgJWTIssuedAt
	}
	exp, ok := claims["exp"].(float64)
	if !ok {
		return nil, msgJWTExpired
	}
	expires := time.Unix(int64(exp), 0)
	switch {
	case !expires.After(now):
		return nil, msgJWTExpired
	case expires.After(now.Add(jwtMaxLifetime)):
		return nil, msgJWTTooLong
	}
	return app, ""
}

// issuer reads iss, which GitHub takes as the App id, a number or a string.
func issuer(v any) (int64, bool) {
	switch iss := v.(type) {
	case float64:
		return int64(iss), iss == math.Trunc(iss) && iss > 0
	case string:
		id, err := strconv.ParseInt(iss, 10, 64)
		return id, err == nil && id > 0
	}
	return 0, false
}

// permitted applies what each kind of credentials may do, answering the
// request itself and returning false when it may not: App endpoints need the
// App's JWT, the installation's repository list needs an installation token,
// a JWT reaches nothing else, and an installation token sees only the
// repositories of the account it is installed on (404 for the rest, as
// GitHub hides what a token cannot see).
func (s *Server) permitted(c *call) bool {
	switch c.rt.name {
	case RouteRateLimit:
		return true
	case RouteAppInstallations, RouteAccessTokens:
		if c.cred.kind != credApp {
			setRateHeaders(c.w.Header(), s.peekBudget(s.budget(c.cred)))
			writeError(c.w, http.StatusUnauthorized, msgJWTUndecodable, docRoot, false)
			return false
		}
		return true
	case RouteInstallationRepos:
		if c.cred.kind != credInstallation {
			setRateHeaders(c.w.Header(), s.peekBudget(s.budget(c.cred)))
			writeError(c.w, http.StatusForbidden, msgNeedsInstToken, docApps, false)
			return false
		}
		return true
	}
	switch c.cred.kind {
	case credApp:
		setRateHeaders(c.w.Header(), s.peekBudget(s.budget(c.cred)))
		writeError(c.w, http.StatusForbidden, msgIntegration, docRoot, false)
		return false
	case credInstallation:
		if c.rt.name == RouteUnknown || c.rt.name == RouteBlob {
			return true
		}
		if owner, _, _ := strings.Cut(s.requestRepo(c.rt), "/"); owner != c.cred.inst.owner {
			setRateHeaders(c.w.Header(), s.peekBudget(s.budget(c.cred)))
			writeError(c.w, http.StatusNotFound, "Not Found", docFor(c.rt.name), true)
			return false
		}
	}
	return true
}

// parseAppRoute recognises the App endpoints among the path's segments.
func parseAppRoute(method string, seg []string, rt route) route {
	switch {
	case len(seg) == 1 && seg[0] == "rate_limit" && method == http.MethodGet:
		rt.name = RouteRateLimit
	case len(seg) == 2 && seg[0] == "app" && seg[1] == "installations" && method == http.MethodGet:
		rt.name = RouteAppInstallations
	case len(seg) == 4 && seg[0] == "app" && seg[1] == "installations" && seg[3] == "access_tokens" && method == http.MethodPost:
		if id, ok := parseID(seg[2]); ok {
			rt.name, rt.installation = RouteAccessTokens, id
		}
	case len(seg) == 2 && seg[0] == "installation" && seg[1] == "repositories" && method == http.MethodGet:
		rt.name = RouteInstallationRepos
	}
	return rt
}

// newInstallationToken mints a token in GitHub's format for an installation
// token: ghs_ and 36 letters and digits.
func newInstallationToken() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 36)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "ghs_" + string(b)
}

// sortedInstallations returns app's installations by id.
func (s *Server) sortedInstallations(app *simApp) []*installation {
	s.apps.mu.Lock()
	defer s.apps.mu.Unlock()
	var out []*installation
	for _, inst := range s.apps.insts {
		if inst.app == app {
			out = append(out, inst)
		}
	}
	slices.SortFunc(out, func(a, b *installation) int { return cmp.Compare(a.id, b.id) })
	return out
}
