package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v92/github"
)

// SignatureHeader is the header in which GitHub sends the payload's
// HMAC-SHA256 signature. The older X-Hub-Signature (SHA-1) is not accepted.
const SignatureHeader = github.SHA256SignatureHeader

// signaturePrefix starts the header's value; the hex digest follows.
const signaturePrefix = "sha256="

var (
	// ErrNoSignature means the request carried no X-Hub-Signature-256: the
	// webhook on GitHub has no secret, or the request did not come from
	// GitHub.
	ErrNoSignature = errors.New("missing " + SignatureHeader)
	// ErrBadSignature means the signature is malformed or does not match the
	// payload: the secrets differ, or the payload was altered.
	ErrBadSignature = errors.New(SignatureHeader + " does not match the payload")
)

// Sign returns the X-Hub-Signature-256 value GitHub sends for body when the
// webhook's secret is secret: "sha256=" and the hex HMAC-SHA256 of the raw
// body. Tests use it to sign the payloads they post; go-github verifies
// signatures but has no exported way to make one.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks header, the value of X-Hub-Signature-256, against
// body and secret. The digests are compared in constant time, so the time
// taken says nothing about how much of a forged signature was right. An
// empty secret verifies nothing. The error wraps ErrNoSignature or
// ErrBadSignature.
//
// go-github's ValidateSignature computes the HMAC and compares it
// (hmac.Equal, constant time). The checks before it are what it cannot be
// told: it takes the hash from the header's own prefix, so it would accept
// sha1= (and sha512=) as readily as sha256=, and it would verify a header
// signed with an empty key. ValidatePayloadFromBody is not used either: it
// also skips verification when secret and header are both empty, decodes
// form-encoded payloads (the handler refuses them with 415) and reads up to
// 25 MB itself, where the handler has already read at most 1 MiB.
func VerifySignature(secret string, body []byte, header string) error {
	if header == "" {
		return ErrNoSignature
	}
	if secret == "" {
		return fmt.Errorf("no secret is configured: %w", ErrBadSignature)
	}
	digest, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return fmt.Errorf("it does not start with %q: %w", signaturePrefix, ErrBadSignature)
	}
	// go-github's errors quote the whole header; checking the length first
	// keeps what reaches the log and the response short.
	if len(digest) != hex.EncodedLen(sha256.Size) {
		return fmt.Errorf("it is not a hex SHA-256 digest: %w", ErrBadSignature)
	}
	if err := github.ValidateSignature(header, body, []byte(secret)); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}
