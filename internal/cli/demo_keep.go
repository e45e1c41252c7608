package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/webhook"
)

// demoWebhookSecret is the WEBHOOK_SECRET demo --keep suggests; like the
// simulator's token it guards nothing real.
const demoWebhookSecret = "demo-webhook-secret"

// demoHTTPAddr is the HTTP_ADDR demo --keep suggests for serve, on loopback
// so that trying serve exposes nothing.
const demoHTTPAddr = "127.0.0.1:8080"

// demoKept is what demo --keep keeps running and tells the user about.
type demoKept struct {
	sim    *githubsim.Server
	simURL string
	dbURL  string
	policy []byte // the policy's source, for POLICY_FILE
	runID  int64
	repos  []artifact.Repository
}

// keepDemo writes the policy and a signed webhook payload to a fresh
// directory, prints the environment and commands to try, and waits for ctx
// (Ctrl-C). The caller's defers stop the simulator and a throwaway
// PostgreSQL; keepDemo removes its directory.
func keepDemo(ctx context.Context, e *Env, k demoKept) (err error) {
	dir, err := os.MkdirTemp("", "retentiond-demo-")
	if err != nil {
		return fmt.Errorf("creating the demo's directory: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			err = fmt.Errorf("removing the demo's directory: %w", rerr)
		}
	}()
	policyFile := filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(policyFile, k.policy, 0o600); err != nil {
		return fmt.Errorf("writing the demo's policy: %w", err)
	}
	// The example policy archives before deleting, so apply and serve
	// need ARCHIVE_DIR; the archives go with the rest at Ctrl-C.
	archiveDir := filepath.Join(dir, "archive")
	if err := os.Mkdir(archiveDir, 0o700); err != nil {
		return fmt.Errorf("creating the demo's archive directory: %w", err)
	}
	sample, ok := demoSample(k.sim, k.repos)
	if !ok {
		return fmt.Errorf("the simulated organisation has no artifact from a workflow run")
	}
	payload, err := demoWorkflowRunPayload(sample)
	if err != nil {
		return err
	}
	payloadFile := filepath.Join(dir, "workflow_run.json")
	if err := os.WriteFile(payloadFile, payload, 0o600); err != nil {
		return fmt.Errorf("writing the demo's webhook payload: %w", err)
	}

	w := e.Stdout
	dsn := config.RedactDSN(k.dbURL)
	fmt.Fprintln(w, "\nThe simulator and the database keep running until you press Ctrl-C.")
	fmt.Fprintln(w, "In another terminal, in this checkout, paste:")
	fmt.Fprintf(w, "\n  export DATABASE_URL='%s'\n", dsn)
	fmt.Fprintf(w, "  export GITHUB_API_URL='%s'\n", k.simURL)
	fmt.Fprintf(w, "  export GITHUB_TOKEN='%s'\n", demoToken)
	fmt.Fprintf(w, "  export POLICY_FILE='%s'\n", policyFile)
	fmt.Fprintf(w, "  export WEBHOOK_SECRET='%s'\n", demoWebhookSecret)
	fmt.Fprintf(w, "  export ARCHIVE_DIR='%s'\n", archiveDir)
	fmt.Fprintf(w, "  export HTTP_ADDR='%s'\n", demoHTTPAddr)
	if dsn != k.dbURL {
		fmt.Fprintln(w, "  (DATABASE_URL's password is left out: put yours back)")
	}
	fmt.Fprintf(w, "\nThen, with the binary from make build (%s; or go install ./cmd/retentiond):\n", demoBinary)
	b := demoBinary
	for _, c := range [][2]string{
		{b + " check", "every prerequisite, one line each"},
		{b + " run", "another dry-run"},
		{b + " plan", "what a run would delete now"},
		{fmt.Sprintf("%s audit --run %d", b, k.runID), "the decisions of the demo's run"},
		{fmt.Sprintf("DELETE_INTERVAL=0s %s apply --run %d", b, k.runID), "delete what it reviewed (in the simulator)"},
		{fmt.Sprintf("%s scan --run %s %d", b, sample.Repository, sample.WorkflowRunID), "scan one workflow run"},
		{fmt.Sprintf("%s download %s %d", b, sample.Repository, sample.ID), "download an artifact's zip"},
		{b + " serve", "the daemon, with /metrics and /webhook"},
	} {
		fmt.Fprintf(w, "  %-52s # %s\n", c[0], c[1])
	}
	fmt.Fprintln(w, "\nWith serve running, send it the workflow_run delivery GitHub would send for that run:")
	fmt.Fprintf(w, "  curl -sS -X POST http://%s/webhook -H 'Content-Type: application/json' \\\n", demoHTTPAddr)
	fmt.Fprintf(w, "    -H 'X-GitHub-Event: workflow_run' -H 'X-GitHub-Delivery: %s' \\\n", demoDeliveryID(sample.WorkflowRunID))
	fmt.Fprintf(w, "    -H '%s: %s' \\\n", webhook.SignatureHeader, webhook.Sign(demoWebhookSecret, payload))
	fmt.Fprintf(w, "    --data-binary @%s\n", payloadFile)
	fmt.Fprintln(w, "  (a delivery id seen before is acknowledged without a second scan: change it to resend)")
	fmt.Fprintln(w, "\nPress Ctrl-C to stop the simulator and clean up.")

	<-ctx.Done()
	fmt.Fprintln(w, "\nStopping: the simulator, the throwaway PostgreSQL if one was started, and "+dir+".")
	return nil
}

// demoSample picks the newest artifact of a workflow run in the first
// repository that has one, for the scan, download and webhook examples.
func demoSample(sim *githubsim.Server, repos []artifact.Repository) (artifact.Artifact, bool) {
	for _, repo := range repos {
		arts := slices.DeleteFunc(sim.Artifacts(repo), func(a artifact.Artifact) bool { return a.WorkflowRunID == 0 || a.Expired })
		if len(arts) == 0 {
			continue
		}
		return slices.MaxFunc(arts, func(a, b artifact.Artifact) int { return a.CreatedAt.Compare(b.CreatedAt) }), true
	}
	return artifact.Artifact{}, false
}

// demoDeliveryID is a delivery id in GitHub's GUID shape.
func demoDeliveryID(runID int64) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", runID%1_000_000_000_000)
}

// demoWorkflowRunPayload is the part of GitHub's workflow_run "completed"
// payload that serve reads, for a's run.
func demoWorkflowRunPayload(a artifact.Artifact) ([]byte, error) {
	owner := a.Repository.Owner()
	b, err := json.Marshal(map[string]any{
		"action": "completed",
		"workflow_run": map[string]any{
			"id": a.WorkflowRunID, "name": "CI", "head_branch": a.Branch, "head_sha": a.HeadSHA,
			"status": "completed", "conclusion": "success",
		},
		"repository": map[string]any{"id": a.RepositoryID, "full_name": a.Repository.String(), "owner": map[string]any{"login": owner}},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the demo's webhook payload: %w", err)
	}
	return b, nil
}
