package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/retentiond/retentiond/internal/githubsim"
)

// patternWorld is newWorld with a policy of patterns: octo/* without
// octo/legacy-*, over octo/api, octo/web, an archived octo/old and an
// excluded octo/legacy-site.
func patternWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	w.Add("octo/old", 3, nil)
	w.Sim.SetArchived("octo/old", true)
	w.Add("octo/legacy-site", 3, nil)
	file := filepath.Join(t.TempDir(), "patterns.yaml")
	body := strings.Replace(policyYAML, "repositories: [octo/api, octo/web]", `repositories: ["octo/*", "!octo/legacy-*"]`, 1)
	if body == policyYAML {
		t.Fatalf("the test policy's repositories line changed:\n%s", policyYAML)
	}
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env["POLICY_FILE"] = file
	return w
}

func TestReposPrintsWhatPatternsResolveTo(t *testing.T) {
	t.Parallel()
	w := patternWorld(t)
	r := w.run(t, "repos")
	if r.code != 0 {
		t.Fatalf("repos: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	for _, want := range []string{
		"octo/api", "octo/web",
		"octo/old", "archived_skipped",
		"octo/legacy-site", "excluded", "!octo/legacy-*",
		"discovery: 2 repositories to scan; 4 found by listing, 1 archived, 1 excluded",
		"octo (organization): 4 repositories listed in 1 request",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("repos output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = w.run(t, "repos", "--format", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 4 {
		t.Fatalf("repos --format json: %d rows, %v\n%s", len(rows), err, r.stdout)
	}
	statuses := map[string]string{}
	for _, row := range rows {
		statuses[row["repository"].(string)] = row["status"].(string)
	}
	if statuses["octo/api"] != "scan" || statuses["octo/old"] != "archived_skipped" || statuses["octo/legacy-site"] != "excluded" {
		t.Errorf("statuses: %v", statuses)
	}
	// A failed listing fails the command.
	w.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteOrgRepos, Status: http.StatusForbidden})
	if r := w.run(t, "repos"); r.code != 1 || !strings.Contains(r.stdout, "listing FAILED") {
		t.Errorf("repos with a failing listing: exit %d\n%s", r.code, r.stdout)
	}
}

func TestScanResolvesPatterns(t *testing.T) {
	t.Parallel()
	w := patternWorld(t)
	r := w.run(t, "scan")
	if r.code != 0 {
		t.Fatalf("scan: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, "2 repositories, 20 artifacts") || strings.Contains(r.stdout, "octo/old ") {
		t.Errorf("scan output:\n%s", r.stdout)
	}
	// A second scan's listing is a free 304.
	if r := w.run(t, "scan"); r.code != 0 || !strings.Contains(r.stdout, "octo (organization): 4 repositories, unchanged since the last listing: 1 request answered 304, free") {
		t.Errorf("second scan: exit %d\n%s", r.code, r.stdout)
	}
	// plan sees the discovered repositories without calling GitHub.
	w.Sim.ResetCounts()
	if r := w.run(t, "plan"); r.code != 0 || strings.Contains(r.stdout, "never scanned") || w.Sim.TotalRequests() != 0 {
		t.Errorf("plan after a pattern scan: exit %d, %d requests\n%s", r.code, w.Sim.TotalRequests(), r.stdout)
	}
	if r := w.run(t, "policy", "check", w.env["POLICY_FILE"]); r.code != 0 || !strings.Contains(r.stdout, "octo/*: every repository of octo") {
		t.Errorf("policy check:\n%s", r.stdout)
	}
}
