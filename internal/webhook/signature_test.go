package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"testing"

	"github.com/retentiond/retentiond/internal/webhook"
)

func TestSignMatchesGitHubsExample(t *testing.T) {
	t.Parallel()
	// The example from GitHub's "Validating webhook deliveries".
	got := webhook.Sign("It's a Secret to Everybody", []byte("Hello, World!"))
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	const secret = "s3cret"
	body := []byte(`{"action":"completed"}`)
	good := webhook.Sign(secret, body)
	tests := []struct {
		name    string
		secret  string
		body    []byte
		header  string
		wantErr error
	}{
		{name: "valid", secret: secret, body: body, header: good},
		{name: "valid with upper-case hex", secret: secret, body: body, header: "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256="))},
		{name: "missing", secret: secret, body: body, header: "", wantErr: webhook.ErrNoSignature},
		{name: "other secret", secret: "other", body: body, header: good, wantErr: webhook.ErrBadSignature},
		{name: "altered body", secret: secret, body: []byte(`{"action":"completed" }`), header: good, wantErr: webhook.ErrBadSignature},
		{name: "sha1 prefix", secret: secret, body: body, header: "sha1=" + strings.TrimPrefix(good, "sha256="), wantErr: webhook.ErrBadSignature},
		// go-github would accept both: it takes the hash from the prefix.
		{name: "valid SHA-1 signature", secret: secret, body: body, header: "sha1=" + hexMAC(sha1.New, secret, body), wantErr: webhook.ErrBadSignature},
		{name: "valid SHA-512 signature", secret: secret, body: body, header: "sha512=" + hexMAC(sha512.New, secret, body), wantErr: webhook.ErrBadSignature},
		{name: "upper-case prefix", secret: secret, body: body, header: "SHA256=" + strings.TrimPrefix(good, "sha256="), wantErr: webhook.ErrBadSignature},
		{name: "long", secret: secret, body: body, header: good + strings.Repeat("0", 1000), wantErr: webhook.ErrBadSignature},
		{name: "no prefix", secret: secret, body: body, header: strings.TrimPrefix(good, "sha256="), wantErr: webhook.ErrBadSignature},
		{name: "not hex", secret: secret, body: body, header: "sha256=" + strings.Repeat("zz", 32), wantErr: webhook.ErrBadSignature},
		{name: "truncated", secret: secret, body: body, header: good[:len(good)-2], wantErr: webhook.ErrBadSignature},
		{name: "empty digest", secret: secret, body: body, header: "sha256=", wantErr: webhook.ErrBadSignature},
		{name: "empty secret verifies nothing", secret: "", body: body, header: webhook.Sign("", body), wantErr: webhook.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.VerifySignature(tc.secret, tc.body, tc.header)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("VerifySignature = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func hexMAC(h func() hash.Hash, secret string, body []byte) string {
	mac := hmac.New(h, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func FuzzVerifySignature(f *testing.F) {
	f.Add("s3cret", []byte(`{"action":"completed"}`), "sha256=00")
	f.Add("", []byte{}, "")
	f.Add("k", []byte("x"), webhook.Sign("k", []byte("x")))
	f.Add("k", []byte("x"), "sha1="+hexMAC(sha1.New, "k", []byte("x")))
	f.Add("k", []byte("x"), "sha512="+hexMAC(sha512.New, "k", []byte("x")))
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		// Arbitrary input must not panic, and only the right signature of
		// this body under this secret verifies.
		err := webhook.VerifySignature(secret, body, header)
		if err == nil && (secret == "" || header != webhook.Sign(secret, body) && !strings.EqualFold(header, webhook.Sign(secret, body))) {
			t.Fatalf("VerifySignature(%q, %q, %q) accepted a signature that is not the body's", secret, body, header)
		}
		if secret == "" {
			return
		}
		sig := webhook.Sign(secret, body)
		if err := webhook.VerifySignature(secret, body, sig); err != nil {
			t.Fatalf("the body's own signature was refused: %v", err)
		}
		altered := append(bytes.Clone(body), 'x')
		if err := webhook.VerifySignature(secret, altered, sig); !errors.Is(err, webhook.ErrBadSignature) {
			t.Fatalf("an altered body verified: %v", err)
		}
	})
}
