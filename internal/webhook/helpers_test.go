package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/internal/webhook"
	"github.com/retentiond/retentiond/scanner"
)

const (
	secret = "whsec-0123456789abcdef"
	// repo is the policy's repository; GitHub sends it with its own case.
	repo        = "acme/api"
	payloadRepo = "Acme/API"
)

// fixture is a Handler scanning from the simulator into a real database,
// served over HTTP.
type fixture struct {
	bed *testbed.Bed
	h   *webhook.Handler
	url string
	// stop cancels the workers' context.
	stop context.CancelFunc
}

// newFixture builds a started Handler. cfg's Secret, Scanner, Deliveries,
// Clock and Logger are filled in unless set.
func newFixture(t *testing.T, cfg webhook.Config) *fixture {
	t.Helper()
	b := testbed.New(t, testbed.Options{})
	if cfg.Secret == "" {
		cfg.Secret = secret
	}
	if cfg.Repositories == nil {
		cfg.Repositories = []artifact.Repository{repo}
	}
	if cfg.Scanner == nil {
		cfg.Scanner = scanner.New(b.Client, b.Store, scanner.Options{Clock: b.Clock, Logger: b.Logger})
	}
	if cfg.Deliveries == nil {
		cfg.Deliveries = b.Store
	}
	cfg.Clock, cfg.Logger = b.Clock, b.Logger
	h := webhook.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	h.Start(ctx)
	t.Cleanup(func() {
		cancel()
		h.Wait()
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{bed: b, h: h, url: srv.URL, stop: cancel}
}

// delivery is one POST to the handler.
type delivery struct {
	id, event string
	body      []byte
	// signature overrides the correct one when set; "-" sends none.
	signature   string
	contentType string
	method      string
	// chunked sends the body without a Content-Length.
	chunked bool
}

// post sends d and returns the status and body of the response.
func (f *fixture) post(t *testing.T, d delivery) (int, string) {
	t.Helper()
	var body io.Reader = bytes.NewReader(d.body)
	if d.chunked {
		body = io.MultiReader(body) // hides the length from net/http
	}
	method := d.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, f.url, body)
	if err != nil {
		t.Fatal(err)
	}
	if d.contentType == "" {
		d.contentType = "application/json"
	}
	req.Header.Set("Content-Type", d.contentType)
	req.Header.Set("User-Agent", "GitHub-Hookshot/test")
	if d.event != "" {
		req.Header.Set("X-GitHub-Event", d.event)
	}
	if d.id != "" {
		req.Header.Set("X-GitHub-Delivery", d.id)
	}
	switch d.signature {
	case "":
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, d.body))
	case "-":
	default:
		req.Header.Set(webhook.SignatureHeader, d.signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(got))
}

// runPayload is a workflow_run event as GitHub sends it, trimmed.
func runPayload(t *testing.T, action, fullName string, runID int64) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"action": action,
		"workflow_run": map[string]any{
			"id": runID, "name": "Build", "head_branch": "main", "status": "completed", "conclusion": "success",
		},
		"repository": map[string]any{"id": 1296269, "full_name": fullName},
		"sender":     map[string]any{"login": "octocat"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// completed is a signed delivery of a completed run of the policy's repository.
func completed(t *testing.T, id string, runID int64) delivery {
	return delivery{id: id, event: "workflow_run", body: runPayload(t, "completed", payloadRepo, runID)}
}

// addRuns adds artifacts to the simulator: perRun artifacts for each run id.
// It returns the ids by run.
func (f *fixture) addRuns(perRun int, runIDs ...int64) map[int64][]int64 {
	byRun := map[int64][]int64{}
	for _, run := range runIDs {
		ids := f.bed.Add(repo, perRun, func(_ int, a *artifact.Artifact) { a.WorkflowRunID = run })
		byRun[run] = append(byRun[run], ids...)
	}
	return byRun
}

func (f *fixture) liveIDs(t *testing.T) []int64 {
	t.Helper()
	arts, err := f.bed.Store.LiveArtifacts(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range arts {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids
}

// count runs a count(*) query.
func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.bed.Store.Pool().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fixture) delivery(t *testing.T, id string) store.WebhookDelivery {
	t.Helper()
	d, err := f.bed.Store.Delivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// assertNothingDeleted checks the webhook's one promise about deletions: no
// DELETE reached GitHub and nothing was written to the audit log.
func (f *fixture) assertNothingDeleted(t *testing.T) {
	t.Helper()
	for route, n := range f.bed.Sim.Requests() {
		if strings.HasPrefix(route, "DELETE") {
			t.Errorf("%d %s requests reached the simulator", n, route)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log`); n != 0 {
		t.Errorf("%d audit_log rows, want none", n)
	}
	if n := f.count(t, `SELECT count(*) FROM runs`); n != 0 {
		t.Errorf("%d runs rows, want none", n)
	}
	if strings.Contains(f.bed.Logs.String(), secret) {
		t.Error("the webhook secret appears in the logs")
	}
	f.bed.AssertNoToken()
}
