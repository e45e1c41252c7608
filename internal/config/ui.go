package config

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// UI is serve's read-only review page (internal/ui) and who may see it.
type UI struct {
	Enabled       bool   `env:"UI, default=true" help:"Serve the read-only review page at / on HTTP_ADDR (false turns it off; /healthz, /readyz, /metrics and /webhook are served either way)."`
	BasicAuthFile string `env:"UI_BASIC_AUTH_FILE" help:"htpasswd-style file of user:bcrypt-hash lines (htpasswd -nB USER); when set, the review page asks for one of these users. Read at start."`
	TokenFile     string `env:"UI_TOKEN_FILE" help:"File holding a bearer token (at least 16 characters) that the review page accepts as Authorization: Bearer TOKEN. Read at start."`

	// Users maps each user of UI_BASIC_AUTH_FILE to its bcrypt hash, and
	// Token is UI_TOKEN_FILE's token: read and checked once, here. Both
	// empty means the page is open to whoever reaches HTTP_ADDR.
	Users map[string][]byte `json:"-"`
	Token Secret            `json:"-"`
}

// minUITokenLen keeps a guessable token out: the page has no lockout.
const minUITokenLen = 16

func (u *UI) validate(bad func(v, msg string)) {
	if u.BasicAuthFile != "" {
		b, err := os.ReadFile(u.BasicAuthFile)
		if err != nil {
			bad("UI_BASIC_AUTH_FILE", fmt.Sprintf("reading the users: %v", err))
		} else if u.Users, err = ParseHtpasswd(b); err != nil {
			bad("UI_BASIC_AUTH_FILE", fmt.Sprintf("%s: %v", u.BasicAuthFile, err))
		}
	}
	if u.TokenFile != "" {
		b, err := os.ReadFile(u.TokenFile)
		switch {
		case err != nil:
			bad("UI_TOKEN_FILE", fmt.Sprintf("reading the token: %v", err))
		case len(bytes.TrimSpace(b)) < minUITokenLen:
			// The message gives the length, never the token.
			bad("UI_TOKEN_FILE", fmt.Sprintf("%s holds %d characters; accepted: a token of at least %d (e.g. openssl rand -hex 32)", u.TokenFile, len(bytes.TrimSpace(b)), minUITokenLen))
		default:
			u.Token = Secret(bytes.TrimSpace(b))
		}
	}
}

// ParseHtpasswd reads htpasswd-style lines "user:hash", where every hash is
// bcrypt ($2a$, $2b$ or $2y$, as htpasswd -B writes them). Blank lines and
// lines starting with # are ignored. Errors give the line number and never
// the hash.
func ParseHtpasswd(data []byte) (map[string][]byte, error) {
	users := map[string][]byte{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" || hash == "" {
			return nil, fmt.Errorf("line %d: not user:bcrypt-hash", i+1)
		}
		if _, dup := users[user]; dup {
			return nil, fmt.Errorf("line %d: user %q appears twice", i+1, user)
		}
		// Only bcrypt: htpasswd's other schemes (MD5 $apr1$, SHA1, crypt)
		// are fast to brute-force from a leaked file.
		if _, err := bcrypt.Cost([]byte(hash)); err != nil || !strings.HasPrefix(hash, "$2") {
			return nil, fmt.Errorf("line %d: the hash of user %q is not bcrypt (make one with htpasswd -nB %s)", i+1, user, user)
		}
		users[user] = []byte(hash)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("no user:bcrypt-hash line")
	}
	return users, nil
}
