package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// A bcrypt hash of "pw" at the lowest cost, as htpasswd -B writes it ($2y$).
var testHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return "$2y$" + string(h[4:])
}()

func TestParseHtpasswd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		users   []string
		wantErr string
	}{
		{"one", "alice:" + testHash + "\n", []string{"alice"}, ""},
		{"comments and blanks", "# reviewers\n\n  alice:" + testHash + "  \nbob:" + testHash, []string{"alice", "bob"}, ""},
		{"crlf", "alice:" + testHash + "\r\n", []string{"alice"}, ""},
		{"empty", "\n# nobody\n", nil, "no user:bcrypt-hash line"},
		{"no colon", "alice\n", nil, "line 1: not user:bcrypt-hash"},
		{"no user", ":" + testHash, nil, "line 1: not user:bcrypt-hash"},
		{"twice", "a:" + testHash + "\na:" + testHash, nil, `line 2: user "a" appears twice`},
		{"md5", "alice:$apr1$abc$0123456789abcdefghijkl", nil, `line 1: the hash of user "alice" is not bcrypt`},
		{"plain", "alice:secret-password", nil, `line 1: the hash of user "alice" is not bcrypt`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			users, err := ParseHtpasswd([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret-password") || strings.Contains(err.Error(), "$apr1$") {
					t.Errorf("the error repeats the hash: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != len(tc.users) {
				t.Fatalf("users %v, want %v", users, tc.users)
			}
			for _, u := range tc.users {
				if bcrypt.CompareHashAndPassword(users[u], []byte("pw")) != nil {
					t.Errorf("user %s: the hash does not check pw", u)
				}
			}
		})
	}
}

func TestUIConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("htpasswd", "alice:"+testHash+"\n")
	token := write("token", "  0123456789abcdef0123\n")
	c, err := load(t, map[string]string{"UI_BASIC_AUTH_FILE": good, "UI_TOKEN_FILE": token, "UI": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.UI.Enabled || len(c.UI.Users) != 1 || c.UI.Token.Reveal() != "0123456789abcdef0123" {
		t.Errorf("UI = %+v", c.UI)
	}
	if got := fmt.Sprintf("%v %+v", c.UI.Token, c.UI); strings.Contains(got, "0123456789abcdef0123") {
		t.Errorf("the token prints: %s", got)
	}
	for _, tc := range []struct {
		env     map[string]string
		wantVar string
		want    string
	}{
		{map[string]string{"UI": "maybe"}, "UI", "not a boolean"},
		{map[string]string{"UI_BASIC_AUTH_FILE": filepath.Join(dir, "missing")}, "UI_BASIC_AUTH_FILE", "reading the users"},
		{map[string]string{"UI_BASIC_AUTH_FILE": write("bad", "alice:hunter2hunter2\n")}, "UI_BASIC_AUTH_FILE", "not bcrypt"},
		{map[string]string{"UI_TOKEN_FILE": write("short", "abc123\n")}, "UI_TOKEN_FILE", "holds 6 characters"},
		{map[string]string{"UI_TOKEN_FILE": filepath.Join(dir, "missing")}, "UI_TOKEN_FILE", "reading the token"},
	} {
		_, err := load(t, tc.env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != tc.wantVar || !strings.Contains(ce.Msg, tc.want) {
			t.Errorf("%v: err = %v, want %s: ...%s", tc.env, err, tc.wantVar, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "abc123") {
			t.Errorf("the error repeats a credential: %v", err)
		}
	}
}

// ParseHtpasswd never panics, and what it accepts is only bcrypt hashes of
// distinct, non-empty users.
func FuzzParseHtpasswd(f *testing.F) {
	f.Add([]byte("alice:" + testHash + "\n"))
	f.Add([]byte("# c\n\nbob:" + testHash + "\r\nalice:" + testHash))
	f.Add([]byte("alice:$apr1$x$y\n"))
	f.Add([]byte(":\n::\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := ParseHtpasswd(data)
		if err != nil {
			return
		}
		if len(users) == 0 {
			t.Fatal("accepted a file with no user")
		}
		for u, h := range users {
			if u == "" || strings.ContainsAny(u, ":\n") {
				t.Fatalf("accepted user %q", u)
			}
			if _, err := bcrypt.Cost(h); err != nil {
				t.Fatalf("accepted a hash bcrypt cannot read for %q: %v", u, err)
			}
		}
	})
}
