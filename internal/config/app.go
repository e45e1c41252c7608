package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// PrivateKey is a GitHub App's private key, parsed once at start. Like
// Secret it never prints itself.
type PrivateKey struct{ key *rsa.PrivateKey }

// RSA returns the key, for signing the App's JWTs.
func (p *PrivateKey) RSA() *rsa.PrivateKey { return p.key }

// String returns REDACTED, or "" for no key.
func (p *PrivateKey) String() string {
	if p == nil {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the key.
func (p *PrivateKey) GoString() string { return p.String() }

// LogValue makes slog print REDACTED.
func (p *PrivateKey) LogValue() slog.Value { return slog.StringValue(p.String()) }

// MarshalText makes encoders print REDACTED.
func (p *PrivateKey) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// validateApp checks the GitHub App variables and parses the key. Errors
// never quote the key.
func (g *GitHub) validateApp(bad func(v, msg string)) {
	if g.AppID == 0 && g.AppPrivateKeyFile == "" && g.AppPrivateKey == "" && g.AppInstallationID == 0 {
		return
	}
	if g.Token != "" || g.TokenFile != "" {
		bad("GITHUB_APP_ID", "set a token (GITHUB_TOKEN or GITHUB_TOKEN_FILE) or a GitHub App (GITHUB_APP_ID with its private key), not both")
	}
	switch {
	case g.AppID == 0:
		bad("GITHUB_APP_ID", "is required with GITHUB_APP_PRIVATE_KEY_FILE, GITHUB_APP_PRIVATE_KEY or GITHUB_APP_INSTALLATION_ID: the App ID shown on the App's settings page")
	case g.AppID < 0:
		bad("GITHUB_APP_ID", fmt.Sprintf("%d is not an App ID; accepted: a positive whole number", g.AppID))
	}
	if g.AppInstallationID < 0 {
		bad("GITHUB_APP_INSTALLATION_ID", fmt.Sprintf("%d is not an installation id; accepted: a positive whole number, or unset to find each owner's installation", g.AppInstallationID))
	}
	var (
		pemText []byte
		from    string
	)
	switch {
	case g.AppPrivateKeyFile != "" && g.AppPrivateKey != "":
		bad("GITHUB_APP_PRIVATE_KEY_FILE", "set GITHUB_APP_PRIVATE_KEY_FILE or GITHUB_APP_PRIVATE_KEY, not both")
		return
	case g.AppPrivateKeyFile != "":
		b, err := os.ReadFile(g.AppPrivateKeyFile)
		if err != nil {
			bad("GITHUB_APP_PRIVATE_KEY_FILE", fmt.Sprintf("reading the key: %v", err))
			return
		}
		pemText, from = b, "GITHUB_APP_PRIVATE_KEY_FILE"
	case g.AppPrivateKey != "":
		text := g.AppPrivateKey.Reveal()
		// A PEM pasted into a one-line variable often arrives with its
		// newlines written as \n.
		if !strings.Contains(text, "\n") {
			text = strings.ReplaceAll(text, `\n`, "\n")
		}
		pemText, from = []byte(text), "GITHUB_APP_PRIVATE_KEY"
	default:
		bad("GITHUB_APP_PRIVATE_KEY_FILE", "is required with GITHUB_APP_ID (or GITHUB_APP_PRIVATE_KEY): the .pem file GitHub generated for the App")
		return
	}
	key, err := ParsePrivateKey(pemText)
	if err != nil {
		msg := err.Error()
		if from == "GITHUB_APP_PRIVATE_KEY_FILE" {
			msg = g.AppPrivateKeyFile + ": " + msg
		}
		bad(from, msg)
		return
	}
	g.AppKey = &PrivateKey{key: key}
}

// errNotRSAPEM never quotes what it was given, which may be most of a key.
var errNotRSAPEM = errors.New(`not an RSA private key in PEM form; accepted: the .pem GitHub generates for an App (a PEM block of type "RSA PRIVATE KEY"), or PKCS #8 (type "PRIVATE KEY")`)

// ParsePrivateKey parses a GitHub App's private key: PEM, PKCS #1 as GitHub
// generates it, or PKCS #8 holding an RSA key. Text around the PEM block is
// ignored.
func ParsePrivateKey(pemText []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemText)
	if block == nil {
		return nil, errNotRSAPEM
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errNotRSAPEM
		}
		return key, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if key, ok := k.(*rsa.PrivateKey); err == nil && ok {
			return key, nil
		}
	}
	return nil, errNotRSAPEM
}
