package githubsim

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
	"github.com/google/go-cmp/cmp"
)

const testAppID = 4242

// testKeys are made once per test binary: RSA key generation is slow under
// the race detector. No private key is ever committed.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// signJWT signs claims with key, RS256 unless method says otherwise.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func appClaims(iat, exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{"iat": iat.Unix(), "exp": exp.Unix(), "iss": strconv.Itoa(testAppID)}
}

// newAppSim is a server with the test App installed on acme and globex.
func newAppSim(t *testing.T) (*Server, map[string]int64) {
	t.Helper()
	s, _ := newSim(t, Options{Token: "ghp_main"})
	s.RegisterApp(testAppID, &testKeys()[0].PublicKey)
	insts := map[string]int64{"acme": s.AddInstallation(testAppID, "acme"), "globex": s.AddInstallation(testAppID, "Globex")}
	return s, insts
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// TestAppJWTVerification: what GitHub accepts and refuses as an App's JWT,
// each refusal with GitHub's 401 message.
func TestAppJWTVerification(t *testing.T) {
	t.Parallel()
	s, _ := newAppSim(t)
	key, other := testKeys()[0], testKeys()[1]
	now := testNow
	hs256, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, appClaims(now, now.Add(time.Minute))).SignedString([]byte("k"))
	cases := []struct {
		name    string
		tok     string
		wantMsg string // "" = accepted
	}{
		{"recommended: iat 60s back, exp 9m ahead", signJWT(t, key, appClaims(now.Add(-time.Minute), now.Add(9*time.Minute))), ""},
		{"iat within the drift allowed", signJWT(t, key, appClaims(now.Add(30*time.Second), now.Add(5*time.Minute))), ""},
		{"numeric iss", signJWT(t, key, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "iss": testAppID}), ""},
		{"exp exactly 10 minutes ahead", signJWT(t, key, appClaims(now, now.Add(10*time.Minute))), ""},
		{"iat too far ahead", signJWT(t, key, appClaims(now.Add(2*time.Minute), now.Add(5*time.Minute))), msgJWTIssuedAt},
		{"iat missing", signJWT(t, key, jwt.MapClaims{"exp": now.Add(time.Minute).Unix(), "iss": "4242"}), msgJWTIssuedAt},
		{"iat not an integer", signJWT(t, key, jwt.MapClaims{"iat": 1.5e9 + 0.5, "exp": now.Add(time.Minute).Unix(), "iss": "4242"}), msgJWTIssuedAt},
		{"expired", signJWT(t, key, appClaims(now.Add(-11*time.Minute), now.Add(-time.Minute))), msgJWTExpired},
		{"exp missing", signJWT(t, key, jwt.MapClaims{"iat": now.Unix(), "iss": "4242"}), msgJWTExpired},
		{"exp too far ahead", signJWT(t, key, appClaims(now, now.Add(10*time.Minute+time.Second))), msgJWTTooLong},
		{"another key", signJWT(t, other, appClaims(now, now.Add(time.Minute))), msgJWTUndecodable},
		{"unknown App", signJWT(t, key, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "iss": "99"}), msgJWTUndecodable},
		{"HS256", hs256, msgJWTUndecodable},
		{"garbage with dots", "eyJ.not.jwt", msgJWTUndecodable},
		{"a personal token", "ghp_main", msgJWTUndecodable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := serve(t, s, "GET", "/app/installations", bearer(tc.tok)...)
			if tc.wantMsg == "" {
				if r.status != http.StatusOK {
					t.Fatalf("status %d (%s), want 200", r.status, r.body)
				}
				return
			}
			if r.status != http.StatusUnauthorized || decodeError(t, r).Message != tc.wantMsg {
				t.Errorf("got %d %s, want 401 %q", r.status, r.body, tc.wantMsg)
			}
		})
	}
}

// TestAppInstallationTokens: a JWT lists the installations and buys tokens
// that work for an hour on the simulator's clock, on their own account's
// repositories only, each on the installation's own budget.
func TestAppInstallationTokens(t *testing.T) {
	t.Parallel()
	s, clk := newSim(t, Options{Token: "ghp_main", RateLimit: 100})
	s.RegisterApp(testAppID, &testKeys()[0].PublicKey)
	acme := s.AddInstallation(testAppID, "acme")
	globex := s.AddInstallation(testAppID, "Globex")
	seed(s, "acme/app", 3)
	seed(s, "globex/web", 2)
	jwtAuth := bearer(signJWT(t, testKeys()[0], appClaims(testNow.Add(-time.Minute), testNow.Add(5*time.Minute))))

	r := serve(t, s, "GET", "/app/installations", jwtAuth...)
	var insts []jsonInstallation
	if err := json.Unmarshal(r.body, &insts); err != nil || r.status != 200 {
		t.Fatalf("installations: %d %s %v", r.status, r.body, err)
	}
	var got []string
	for _, in := range insts {
		got = append(got, in.Account.Login+"="+strconv.FormatInt(in.ID, 10))
	}
	if diff := cmp.Diff([]string{"acme=" + strconv.FormatInt(acme, 10), "Globex=" + strconv.FormatInt(globex, 10)}, got); diff != "" {
		t.Errorf("installations (-want +got):\n%s", diff)
	}

	mint := func(id int64) jsonAccessToken {
		t.Helper()
		r := serve(t, s, "POST", "/app/installations/"+strconv.FormatInt(id, 10)+"/access_tokens", jwtAuth...)
		var tok jsonAccessToken
		if err := json.Unmarshal(r.body, &tok); err != nil || r.status != http.StatusCreated {
			t.Fatalf("access token: %d %s %v", r.status, r.body, err)
		}
		return tok
	}
	tok := mint(acme)
	if !strings.HasPrefix(tok.Token, "ghs_") || len(tok.Token) != 40 || tok.ExpiresAt != testNow.Add(time.Hour).Format(time.RFC3339) {
		t.Errorf("token %q expiring %s, want ghs_… expiring an hour from now", tok.Token[:4], tok.ExpiresAt)
	}
	if r := serve(t, s, "POST", "/app/installations/1/access_tokens", jwtAuth...); r.status != http.StatusNotFound {
		t.Errorf("unknown installation: %d, want 404", r.status)
	}
	if r := serve(t, s, "POST", "/app/installations/1/access_tokens", bearer("ghp_main")...); r.status != http.StatusUnauthorized {
		t.Errorf("token request without a JWT: %d, want 401", r.status)
	}

	list := serve(t, s, "GET", "/repos/acme/app/actions/artifacts", bearer(tok.Token)...)
	if list.status != 200 || list.header.Get("X-Ratelimit-Limit") != "5000" || list.header.Get("X-Ratelimit-Remaining") != "4999" {
		t.Errorf("installation token on its repository: %d, limit %s remaining %s; want 200 on the installation's own 5,000",
			list.status, list.header.Get("X-Ratelimit-Limit"), list.header.Get("X-Ratelimit-Remaining"))
	}
	if _, remaining, _ := s.RateLimit(); remaining != 100 {
		t.Errorf("main token's budget has %d left, want 100 untouched", remaining)
	}
	if r := serve(t, s, "GET", "/repos/globex/web/actions/artifacts", bearer(tok.Token)...); r.status != http.StatusNotFound {
		t.Errorf("acme's token on globex: %d, want 404", r.status)
	}
	if r := serve(t, s, "GET", "/repos/acme/app/actions/artifacts", jwtAuth...); r.status != http.StatusForbidden {
		t.Errorf("a JWT on an artifact endpoint: %d, want 403", r.status)
	}
	if r := serve(t, s, "GET", "/rate_limit", bearer(tok.Token)...); r.status != 200 || r.header.Get("X-Ratelimit-Remaining") != "4999" {
		t.Errorf("rate_limit with the installation token: %d remaining %s, want 200 and 4999 (free)", r.status, r.header.Get("X-Ratelimit-Remaining"))
	}

	clk.Advance(time.Hour)
	if r := serve(t, s, "GET", "/repos/acme/app/actions/artifacts", bearer(tok.Token)...); r.status != http.StatusUnauthorized || decodeError(t, r).Message != "Bad credentials" {
		t.Errorf("token an hour old: %d %s, want 401 Bad credentials", r.status, r.body)
	}
	if n := s.TokensIssued(acme); n != 1 {
		t.Errorf("TokensIssued(acme) = %d, want 1", n)
	}
}

// TestAppInstallationRepositories: the installation's repositories, by id,
// paginated with Link headers and total_count, archived flags included; a
// personal token is refused.
func TestAppInstallationRepositories(t *testing.T) {
	t.Parallel()
	s, insts := newAppSim(t)
	for i := range 35 {
		s.AddRepository("acme/r" + strconv.Itoa(i))
	}
	s.AddRepository("globex/other")
	s.SetArchived("acme/r3", true)
	jwtAuth := bearer(signJWT(t, testKeys()[0], appClaims(testNow.Add(-time.Minute), testNow.Add(5*time.Minute))))
	r := serve(t, s, "POST", "/app/installations/"+strconv.FormatInt(insts["acme"], 10)+"/access_tokens", jwtAuth...)
	var tok jsonAccessToken
	_ = json.Unmarshal(r.body, &tok)

	var names []string
	archived := 0
	for page := 1; page <= 2; page++ {
		r := serve(t, s, "GET", "/installation/repositories?per_page=30&page="+strconv.Itoa(page), bearer(tok.Token)...)
		var body jsonRepositoryList
		if err := json.Unmarshal(r.body, &body); err != nil || r.status != 200 || body.TotalCount != 35 {
			t.Fatalf("page %d: %d %s %v", page, r.status, r.body, err)
		}
		for _, repo := range body.Repositories {
			names = append(names, repo.FullName)
			if repo.Archived {
				archived++
			}
		}
		link := r.header.Get("Link")
		if page == 1 && !strings.Contains(link, `/installation/repositories?per_page=30&page=2>; rel="next"`) {
			t.Errorf("page 1 Link = %q, want a next link to page 2", link)
		}
	}
	if len(names) != 35 || names[0] != "acme/r0" || archived != 1 {
		t.Errorf("listed %d repositories starting %v with %d archived, want 35 from acme/r0 with 1 archived", len(names), names[:1], archived)
	}
	if r := serve(t, s, "GET", "/installation/repositories", bearer("ghp_main")...); r.status != http.StatusForbidden {
		t.Errorf("installation repositories with a personal token: %d, want 403", r.status)
	}
}
