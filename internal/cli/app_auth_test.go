package cli_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/retentiond/retentiond/internal/artifact"
)

// TestScanAsGitHubApp: with GITHUB_APP_ID and a key file instead of a
// token, scan finds the installation on octo, scans its repositories with
// installation tokens, fails only the repository of an owner the App is not
// installed on (exit 1), and prints no JWT, token or key.
func TestScanAsGitHubApp(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Add(artifact.Repository("other/lib"), 3, nil)
	key, err := rsa.GenerateKey(rand.Reader, 2048) // made here; never committed
	if err != nil {
		t.Fatal(err)
	}
	const appID = 9001
	w.Sim.RegisterApp(appID, &key.PublicKey)
	w.Sim.AddInstallation(appID, "octo")
	var (
		mu   sync.Mutex
		sent []string
	)
	w.Sim.OnRequest(func(_ string, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	})

	dir := t.TempDir()
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	keyFile := filepath.Join(dir, "app.pem")
	policyFile := filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policyFile, []byte(strings.Replace(policyYAML, "[octo/api, octo/web]", "[octo/api, octo/web, other/lib]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range w.env {
		env[k] = v
	}
	delete(env, "GITHUB_TOKEN")
	env["GITHUB_APP_ID"] = "9001"
	env["GITHUB_APP_PRIVATE_KEY_FILE"] = keyFile
	env["POLICY_FILE"] = policyFile

	r := runWith(t, env, w.Clock, "scan")
	if r.code != 1 {
		t.Fatalf("scan: exit %d (%v), want 1 for other/lib\n%s\n%s", r.code, r.err, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout+r.stderr, "is not installed on other") {
		t.Errorf("the output does not say the App is not installed on other:\n%s\n%s", r.stdout, r.stderr)
	}
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		arts, err := w.Store.LiveArtifacts(t.Context(), repo)
		if err != nil || len(arts) != 10 {
			t.Errorf("%s: %d live artifacts, %v; want the 10 scanned", repo, len(arts), err)
		}
	}
	if reqs := w.Sim.Requests(); reqs["POST access_tokens"] != 1 || reqs["GET app_installations"] != 1 {
		t.Errorf("requests %v, want one installation listing and one token", reqs)
	}

	mu.Lock()
	defer mu.Unlock()
	var jwts, tokens int
	out := r.stdout + r.stderr
	for _, s := range sent {
		switch {
		case strings.HasPrefix(s, "ghs_"):
			tokens++
		case strings.Count(s, ".") == 2:
			jwts++
		default:
			continue
		}
		if strings.Contains(out, s) {
			t.Errorf("the output holds a credential (%.10s…)", s)
		}
	}
	if jwts == 0 || tokens == 0 {
		t.Errorf("the simulator saw %d JWTs and %d installation tokens, want both", jwts, tokens)
	}
	if lines := strings.Split(string(keyPEM), "\n"); strings.Contains(out, lines[1]) || strings.Contains(out, lines[5]) {
		t.Error("the output holds the private key")
	}
}

// TestReposAsGitHubAppListsTheInstallation: with App authentication,
// patterns resolve against GET /installation/repositories (what the App's
// installation can see), never the organisation listing, and archived
// repositories are still skipped.
func TestReposAsGitHubAppListsTheInstallation(t *testing.T) {
	t.Parallel()
	w := patternWorld(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048) // made here; never committed
	if err != nil {
		t.Fatal(err)
	}
	w.Sim.RegisterApp(9002, &key.PublicKey)
	w.Sim.AddInstallation(9002, "octo")
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	delete(w.env, "GITHUB_TOKEN")
	w.env["GITHUB_APP_ID"] = "9002"
	w.env["GITHUB_APP_PRIVATE_KEY_FILE"] = keyFile

	r := w.run(t, "repos", "--format", "json")
	if r.code != 0 {
		t.Fatalf("repos: exit %d %v\n%s\n%s", r.code, r.err, r.stdout, r.stderr)
	}
	for _, want := range []string{`"octo/api"`, `"octo/web"`, `"archived_skipped"`, `"excluded"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("repos output lacks %s:\n%s", want, r.stdout)
		}
	}
	reqs := w.Sim.Requests()
	if reqs["GET installation_repositories"] == 0 || reqs["GET org_repos"] != 0 || reqs["GET user_repos"] != 0 {
		t.Errorf("requests %v: want the installation listing and no owner listing", reqs)
	}
}
