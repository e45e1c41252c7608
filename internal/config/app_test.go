package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sethvargo/go-envconfig"
)

// testKey is generated at test time; no private key is committed.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func pkcs1PEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func TestGitHubApp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := testKey()
	keyPEM := pkcs1PEM(key)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyFile := write("app.pem", keyPEM)
	pkcs8File := write("pkcs8.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})))
	garbled := keyPEM[:len(keyPEM)/2] + "\n-----END RSA PRIVATE KEY-----\n"
	garbledFile := write("garbled.pem", garbled)
	certFile := write("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	tokenFile := write("token", "ghs_x")

	ok := []struct {
		name string
		env  map[string]string
	}{
		{"key file", map[string]string{"GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY_FILE": keyFile}},
		{"PKCS #8 file", map[string]string{"GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY_FILE": pkcs8File}},
		{"inline key", map[string]string{"GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY": keyPEM}},
		{"inline key with \\n escapes", map[string]string{"GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY": strings.ReplaceAll(keyPEM, "\n", `\n`)}},
		{"installation id, GHES", map[string]string{"GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY_FILE": keyFile, "GITHUB_APP_INSTALLATION_ID": "777", "GITHUB_API_URL": "https://ghe.example.com/api/v3"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(t.Context(), envconfig.MapLookuper(tc.env), GitHubConcern)
			if err != nil {
				t.Fatal(err)
			}
			if c.GitHub.AppKey == nil || !c.GitHub.AppKey.RSA().Equal(key) || c.GitHub.AppID != 12345 {
				t.Fatalf("AppKey %v, AppID %d; want the key and 12345", c.GitHub.AppKey, c.GitHub.AppID)
			}
			if err := c.RequireToken(); err != nil {
				t.Errorf("RequireToken with an App = %v", err)
			}
			printed, _ := json.Marshal(c.GitHub)
			all := fmt.Sprintf("%v %+v %#v %s", c.GitHub, c.GitHub, c.GitHub, printed)
			for _, line := range strings.Split(keyPEM, "\n")[1:4] {
				if strings.Contains(all, line) || strings.Contains(all, key.D.String()) {
					t.Fatalf("printing the configuration shows the key: %s", all)
				}
			}
		})
	}

	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"token and App", map[string]string{"GITHUB_TOKEN": "ghp_x", "GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": keyFile}, "GITHUB_APP_ID: set a token (GITHUB_TOKEN or GITHUB_TOKEN_FILE) or a GitHub App"},
		{"token file and App", map[string]string{"GITHUB_TOKEN_FILE": tokenFile, "GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": keyFile}, "not both"},
		{"key without App id", map[string]string{"GITHUB_APP_PRIVATE_KEY_FILE": keyFile}, "GITHUB_APP_ID: is required with GITHUB_APP_PRIVATE_KEY_FILE"},
		{"installation without App id", map[string]string{"GITHUB_APP_INSTALLATION_ID": "5"}, "GITHUB_APP_ID: is required"},
		{"App id not a number", map[string]string{"GITHUB_APP_ID": "my-app"}, `GITHUB_APP_ID: "my-app" is not a whole number`},
		{"negative App id", map[string]string{"GITHUB_APP_ID": "-3", "GITHUB_APP_PRIVATE_KEY_FILE": keyFile}, "GITHUB_APP_ID: -3 is not an App ID"},
		{"negative installation", map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": keyFile, "GITHUB_APP_INSTALLATION_ID": "-1"}, "GITHUB_APP_INSTALLATION_ID: -1 is not an installation id"},
		{"App id without key", map[string]string{"GITHUB_APP_ID": "1"}, "GITHUB_APP_PRIVATE_KEY_FILE: is required with GITHUB_APP_ID"},
		{"both keys", map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": keyFile, "GITHUB_APP_PRIVATE_KEY": keyPEM}, "GITHUB_APP_PRIVATE_KEY_FILE: set GITHUB_APP_PRIVATE_KEY_FILE or GITHUB_APP_PRIVATE_KEY, not both"},
		{"key file missing", map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": filepath.Join(dir, "nope.pem")}, "GITHUB_APP_PRIVATE_KEY_FILE: reading the key: open"},
		{"key file garbled", map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": garbledFile}, "GITHUB_APP_PRIVATE_KEY_FILE: " + garbledFile + ": not an RSA private key in PEM form"},
		{"a certificate", map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": certFile}, "not an RSA private key in PEM form"},
		{"inline key garbled", map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": garbled}, "GITHUB_APP_PRIVATE_KEY: not an RSA private key in PEM form"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(t.Context(), envconfig.MapLookuper(tc.env), GitHubConcern)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), strings.Split(keyPEM, "\n")[2]) {
				t.Errorf("the error quotes the key: %v", err)
			}
		})
	}
}

// FuzzParsePrivateKey: no input makes the parser panic, and what it accepts
// is a usable RSA key.
func FuzzParsePrivateKey(f *testing.F) {
	k := testKey()
	f.Add([]byte(pkcs1PEM(k)))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----"))
	f.Add([]byte("not a key"))
	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := ParsePrivateKey(b)
		if err != nil {
			return
		}
		if key == nil || key.Validate() != nil {
			t.Fatalf("accepted an unusable key")
		}
	})
}
