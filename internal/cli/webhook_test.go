package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/daemon"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/internal/webhook"
)

const testWebhookSecret = "whsec-cli-0123456789"

// webhookEnv returns a simulator, a database, and the environment pointing
// serve at them with a policy covering octo/api.
func webhookEnv(t *testing.T) (*testbed.Bed, map[string]string) {
	t.Helper()
	b := testbed.New(t, testbed.Options{})
	file := filepath.Join(t.TempDir(), "policies.yaml")
	policy := "version: 1\nrepositories: [Octo/API]\nrules:\n  - rule: old\n    action: delete\n    older_than: 1h\n"
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	return b, map[string]string{
		"DATABASE_URL":   b.DBURL,
		"GITHUB_TOKEN":   testbed.Token,
		"GITHUB_API_URL": b.Server.URL,
		"POLICY_FILE":    file,
		"DRY_RUN":        "false", // the webhook must not delete even when deleting is on
		"LOG_LEVEL":      "debug",
		"LOG_FORMAT":     "json",
	}
}

// idleClock never lets serve's schedule fire: Sleep waits for ctx.
type idleClock struct{ now time.Time }

func (c idleClock) Now() time.Time { return c.now }

func (idleClock) Sleep(ctx context.Context, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func signedPost(t *testing.T, url, event, id string, body []byte, signature string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	if signature != "" {
		req.Header.Set(webhook.SignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(got))
}

func completedRun(runID int64) []byte {
	return []byte(`{"action":"completed","workflow_run":{"id":` + strconv.FormatInt(runID, 10) +
		`,"name":"Build","head_branch":"main","conclusion":"success"},"repository":{"full_name":"Octo/API"}}`)
}

func TestWebhookHandlerIsNilWithoutSecret(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(context.Background(), envconfig.MapLookuper(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	a := &app{cfg: cfg}
	if h := a.webhookHandler(context.Background(), &Env{}); h != nil {
		t.Errorf("webhookHandler = %T, want nil without WEBHOOK_SECRET", h)
	}
}

// serve routes POST /webhook only when WEBHOOK_SECRET is set, and then
// checks signatures.
func TestServeRoutesWebhookOnlyWithSecret(t *testing.T) {
	t.Parallel()
	ping := []byte(`{"zen":"Design for failure.","hook_id":1}`)
	type check struct {
		method, signature string
		wantStatus        int
		wantBody          string
	}
	tests := []struct {
		name   string
		secret string
		checks []check
	}{
		{
			name: "no secret",
			checks: []check{
				{method: http.MethodPost, signature: webhook.Sign(testWebhookSecret, ping), wantStatus: http.StatusNotFound},
			},
		},
		{
			name:   "secret set",
			secret: testWebhookSecret,
			checks: []check{
				{method: http.MethodPost, signature: webhook.Sign(testWebhookSecret, ping), wantStatus: http.StatusOK, wantBody: "pong"},
				{method: http.MethodPost, signature: webhook.Sign("wrong", ping), wantStatus: http.StatusUnauthorized},
				{method: http.MethodPost, wantStatus: http.StatusUnauthorized},
				{method: http.MethodGet, wantStatus: http.StatusMethodNotAllowed},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, env := webhookEnv(t)
			env["HTTP_ADDR"], env["SCHEDULE"], env["RUN_ON_START"] = "127.0.0.1:0", "@every 1h", "never"
			if tc.secret != "" {
				env["WEBHOOK_SECRET"] = tc.secret
			}
			logs := &testbed.SyncBuffer{}
			addrc := make(chan net.Addr, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, []string{"serve"}, Env{Stdout: io.Discard, Stderr: logs, Lookup: envconfig.MapLookuper(env),
					Clock: idleClock{now: b.Clock.Now()}, Listening: func(a net.Addr) { addrc <- a }})
			}()
			var url string
			select {
			case a := <-addrc:
				url = "http://" + a.String() + "/webhook"
			case err := <-done:
				t.Fatalf("serve stopped: %v\n%s", err, logs)
			}
			for _, c := range tc.checks {
				var status int
				var body string
				if c.method == http.MethodGet {
					resp, err := http.Get(url)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					status = resp.StatusCode
				} else {
					status, body = signedPost(t, url, "ping", "guid-ping", ping, c.signature)
				}
				if status != c.wantStatus || !strings.Contains(body, c.wantBody) {
					t.Errorf("%s /webhook (signature %q): %d %q, want %d %q", c.method, c.signature, status, body, c.wantStatus, c.wantBody)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve returned %v on shutdown", err)
			}
			if strings.Contains(logs.String(), testWebhookSecret) {
				t.Error("the webhook secret appears in the logs")
			}
			// serve's startup checks ask GitHub; the pings scan nothing.
			if n := b.Sim.Requests()["GET "+githubsim.RouteListRun]; n != 0 {
				t.Errorf("%d workflow run listings, want none", n)
			}
		})
	}
}

// The handler serve builds scans a completed run of a policy repository, and
// its workers stop when serve's context ends.
func TestWebhookHandlerScansAndStopsWithServe(t *testing.T) {
	t.Parallel()
	b, env := webhookEnv(t)
	env["WEBHOOK_SECRET"] = testWebhookSecret
	logs := &testbed.SyncBuffer{}
	e := &Env{Stdout: io.Discard, Stderr: logs, Lookup: envconfig.MapLookuper(env), Clock: b.Clock, command: serveCommand()}
	a, closeFn, err := setup(context.Background(), e, needs{db: true, migrate: true, github: true, policy: true})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := a.webhookHandler(ctx, e)
	if h == nil {
		t.Fatal("webhookHandler = nil with WEBHOOK_SECRET set")
	}

	const repo = "octo/api"
	scanned := b.Add(repo, 2, func(_ int, art *artifact.Artifact) { art.WorkflowRunID = 900 })
	b.Add(repo, 1, func(_ int, art *artifact.Artifact) { art.WorkflowRunID = 901 })

	// Served the way serve serves it.
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- daemon.Serve(ctx, "127.0.0.1:0", daemon.Handler(http.NotFoundHandler(), nil, map[string]http.Handler{"POST /webhook": h}),
			a.logger, func(ad net.Addr) { addrc <- ad })
	}()
	url := "http://" + (<-addrc).String() + "/webhook"

	body := completedRun(900)
	if status, resp := signedPost(t, url, "workflow_run", "guid-900", body, webhook.Sign(testWebhookSecret, body)); status != http.StatusAccepted {
		t.Fatalf("delivery: %d %q, want 202", status, resp)
	}
	h.Wait()
	arts, err := a.store.LiveArtifacts(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, art := range arts {
		got = append(got, art.ID)
	}
	slices.Sort(got)
	slices.Sort(scanned)
	if diff := cmp.Diff(scanned, got); diff != "" {
		t.Errorf("artifacts recorded (-want run 900's +got):\n%s", diff)
	}
	if d, err := a.store.Delivery(context.Background(), "guid-900"); err != nil || d.Status != store.DeliveryScanned {
		t.Errorf("delivery = %+v, %v; want scanned", d, err)
	}

	// A scan held up at GitHub when serve stops is cancelled and recorded
	// failed, so a redelivery scans it.
	b.Sim.InjectFault(githubsim.DelayFault(githubsim.RouteListRun, time.Minute))
	arrived := make(chan struct{}, 1)
	b.Sim.OnRequest(func(route string, _ *http.Request) {
		if route == githubsim.RouteListRun {
			select { // never block the simulator: only the first request matters
			case arrived <- struct{}{}:
			default:
			}
		}
	})
	body = completedRun(901)
	if status, resp := signedPost(t, url, "workflow_run", "guid-901", body, webhook.Sign(testWebhookSecret, body)); status != http.StatusAccepted {
		t.Fatalf("delivery: %d %q, want 202", status, resp)
	}
	<-arrived
	cancel() // serve's context ends
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	h.Wait() // returns only once the shutdown cancelled the scan
	d, err := a.store.Delivery(context.Background(), "guid-901")
	if err != nil || d.Status != store.DeliveryFailed || !strings.Contains(d.Error, "context canceled") {
		t.Errorf("delivery = %+v, %v; want failed, cancelled", d, err)
	}

	for route, n := range b.Sim.Requests() {
		if strings.HasPrefix(route, "DELETE") {
			t.Errorf("%d %s requests: the webhook must never delete", n, route)
		}
	}
	var audit int
	if err := a.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&audit); err != nil || audit != 0 {
		t.Errorf("audit_log rows = %d (%v), want 0", audit, err)
	}
	if strings.Contains(logs.String(), testWebhookSecret) {
		t.Error("the webhook secret appears in the logs")
	}
}
