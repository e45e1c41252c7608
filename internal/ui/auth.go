package ui

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Access is who may see the page: users with a bcrypt-hashed password
// (HTTP Basic), and a bearer token. With neither, the page is open to whoever
// reaches it; with both, either is accepted.
type Access struct {
	Users map[string][]byte // user → bcrypt hash
	Token []byte
}

// realm names the page in the browser's password prompt.
const realm = `realm="retentiond review", charset="UTF-8"`

// guard lets a request through only with a valid credential. Credentials are
// never logged, nor is the user name a refused request tried.
func (a Access) guard(logger *slog.Logger, next http.Handler) http.Handler {
	if len(a.Users) == 0 && len(a.Token) == 0 {
		return next
	}
	tokenSum := sha256.Sum256(a.Token)
	// An unknown user is checked against this hash of the same cost as the
	// real ones, so the time a refusal takes does not tell which users exist.
	var decoy []byte
	for _, h := range a.Users {
		cost, err := bcrypt.Cost(h)
		if err != nil {
			cost = bcrypt.DefaultCost
		}
		decoy, _ = bcrypt.GenerateFromPassword([]byte("no such user"), cost)
		break
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, ok := a.allowed(r, tokenSum, decoy)
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		logger.InfoContext(r.Context(), "review page: access refused",
			slog.String("scheme", scheme), slog.String("remote_addr", r.RemoteAddr), slog.String("path", r.URL.Path))
		if len(a.Users) > 0 {
			w.Header().Add("WWW-Authenticate", "Basic "+realm)
		}
		if len(a.Token) > 0 {
			w.Header().Add("WWW-Authenticate", `Bearer realm="retentiond review"`)
		}
		http.Error(w, "this page needs a user and password or a token (see UI_BASIC_AUTH_FILE and UI_TOKEN_FILE)", http.StatusUnauthorized)
	})
}

// allowed checks r's Authorization header; scheme says which was tried,
// for the log.
func (a Access) allowed(r *http.Request, tokenSum [32]byte, decoy []byte) (scheme string, ok bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "none", false
	}
	if tok, found := cutPrefixFold(h, "Bearer "); found {
		if len(a.Token) == 0 {
			return "bearer", false
		}
		// Comparing digests keeps the comparison constant-time whatever
		// the lengths.
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		return "bearer", subtle.ConstantTimeCompare(sum[:], tokenSum[:]) == 1
	}
	user, pass, found := r.BasicAuth()
	if !found {
		return "other", false
	}
	if len(a.Users) == 0 {
		return "basic", false
	}
	hash, known := a.Users[user]
	if !known {
		_ = bcrypt.CompareHashAndPassword(decoy, []byte(pass))
		return "basic", false
	}
	return "basic", bcrypt.CompareHashAndPassword(hash, []byte(pass)) == nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
