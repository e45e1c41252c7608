// Package webhook receives GitHub workflow_run webhooks and, when a run of a
// repository in the policy completes, scans that run's artifacts in the
// background, so they are in the database long before the next scheduled
// repository scan.
//
// A webhook never deletes anything: it only scans. Deletions stay on the
// schedule, where the run lock, the deletion cap and the audit log apply.
//
// Each delivery is checked in this order: body size (413 over the limit),
// X-Hub-Signature-256 (401 when missing or wrong), X-GitHub-Event (ping gets
// 200, other events 202 ignored), the JSON payload (400 when malformed), the
// repository (202 ignored when not in the policy), the action (202 ignored
// unless completed), the X-GitHub-Delivery id (200 without scanning when it
// was already received) and the queue (503 when full). An accepted delivery
// gets 202 at once and is scanned by a worker: scanning inline could outlast
// GitHub's 10 s delivery timeout when the API is rate limited.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/scanner"

	"github.com/retentiond/retentiond/internal/artifact"
)

const (
	// DefaultMaxBodyBytes is the largest payload accepted (1 MiB). GitHub caps
	// payloads at 25 MB, but a workflow_run payload is about 30 KB; the limit
	// keeps an unauthenticated sender from making the server buffer more.
	DefaultMaxBodyBytes int64 = 1 << 20
	// DefaultQueueSize is how many accepted deliveries may wait for or be in
	// a scan at once; beyond it deliveries get 503.
	DefaultQueueSize = 100
	// DefaultRetention is how long deliveries are remembered. Anything over
	// GitHub's three-day redelivery window keeps deliveries idempotent; the
	// rest is for troubleshooting.
	DefaultRetention = 30 * 24 * time.Hour
	// StaleQueued is how long a delivery may stay queued before a redelivery
	// of it is scanned anyway: the process that queued it must have stopped
	// without recording an outcome.
	StaleQueued = time.Hour
)

// maxDeliveryIDLen bounds X-GitHub-Delivery (a GUID, 36 characters).
const maxDeliveryIDLen = 128

// deliveryHeader names X-GitHub-Delivery in messages, spelt as GitHub's
// documentation spells it; github.DeliveryID reads it.
const deliveryHeader = "X-GitHub-Delivery"

// Scanner scans the artifacts of one workflow run. *scanner.Scanner
// implements it.
type Scanner interface {
	ScanWorkflowRun(ctx context.Context, repo artifact.Repository, runID int64) scanner.RepoResult
}

// Deliveries remembers webhook deliveries. *store.Store implements it.
type Deliveries interface {
	RecordDelivery(ctx context.Context, d store.WebhookDelivery, retryQueuedBefore time.Time) (fresh bool, err error)
	FinishDelivery(ctx context.Context, id string, o store.DeliveryOutcome) error
	PruneDeliveries(ctx context.Context, receivedBefore time.Time) (int, error)
}

// Config is what a Handler is built from. Secret, Scanner and Deliveries are
// required; zero values of the rest take the defaults.
type Config struct {
	// Secret is the webhook's secret on GitHub (WEBHOOK_SECRET).
	Secret string
	// Repositories are the policy's repositories;
	// events of other repositories are ignored.
	Repositories []artifact.Repository
	Scanner      Scanner
	Deliveries   Deliveries
	Clock        clock.Clock
	Logger       *slog.Logger
	// MaxBodyBytes defaults to DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// QueueSize defaults to DefaultQueueSize.
	QueueSize int
	// Workers is how many runs are scanned at once; default 1.
	Workers int
	// Retention defaults to DefaultRetention.
	Retention time.Duration
	// Selects, when set, decides instead of Repositories which
	// repositories' events are scanned: the policy's patterns
	// (policy.Policy.Selects) reach repositories no list names.
	Selects func(artifact.Repository) bool
}

// Handler is the POST /webhook endpoint. Start its workers with Start; until
// then, and once they have stopped, accepted deliveries get 503.
type Handler struct {
	secret     string
	repos      map[artifact.Repository]bool
	selects    func(artifact.Repository) bool
	scanner    Scanner
	deliveries Deliveries
	clock      clock.Clock
	logger     *slog.Logger
	maxBody    int64
	workers    int
	retention  time.Duration

	// slots holds one token per accepted delivery not yet finished, so a
	// full queue is refused before anything is recorded; queue has the
	// same capacity, so sending to it never blocks.
	slots chan struct{}
	queue chan store.WebhookDelivery

	mu        sync.Mutex
	idle      *sync.Cond      // signalled when pending or live drops
	ctx       context.Context // Start's; done once the workers are told to stop
	started   bool
	stopped   bool
	pending   int // accepted deliveries not yet finished
	live      int // workers running
	lastPrune time.Time
}

// New returns a Handler. It panics if Secret, Scanner or Deliveries is
// missing: serving a webhook without them is a programming error.
func New(cfg Config) *Handler {
	if cfg.Secret == "" || cfg.Scanner == nil || cfg.Deliveries == nil {
		panic("webhook.New: Secret, Scanner and Deliveries are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	repos := make(map[artifact.Repository]bool, len(cfg.Repositories))
	for _, r := range cfg.Repositories {
		repos[r] = true
	}
	h := &Handler{
		secret:     cfg.Secret,
		repos:      repos,
		selects:    cfg.Selects,
		scanner:    cfg.Scanner,
		deliveries: cfg.Deliveries,
		clock:      cfg.Clock,
		logger:     cfg.Logger.With(slog.String("component", "webhook")),
		maxBody:    cfg.MaxBodyBytes,
		workers:    cfg.Workers,
		retention:  cfg.Retention,
		slots:      make(chan struct{}, cfg.QueueSize),
		queue:      make(chan store.WebhookDelivery, cfg.QueueSize),
	}
	h.idle = sync.NewCond(&h.mu)
	return h
}

// ServeHTTP handles one delivery; see the package documentation for the
// checks and their responses.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		respond(w, http.StatusMethodNotAllowed, "only POST is accepted")
		return
	}
	body, status, err := h.readBody(w, r)
	if err != nil {
		h.logger.WarnContext(ctx, "rejected a webhook delivery", slog.String("remote_addr", r.RemoteAddr),
			slog.Int("status", status), slog.Any("error", err))
		respond(w, status, "%v", err)
		return
	}
	if err := VerifySignature(h.secret, body, r.Header.Get(SignatureHeader)); err != nil {
		h.logger.WarnContext(ctx, "rejected a webhook delivery: bad signature",
			slog.String("remote_addr", r.RemoteAddr), slog.String("delivery_id", clip(github.DeliveryID(r))),
			slog.Any("error", err))
		respond(w, http.StatusUnauthorized, "%v", err)
		return
	}

	id, event := github.DeliveryID(r), github.WebHookType(r)
	switch event {
	case "ping":
		h.logger.InfoContext(ctx, "webhook ping received", slog.String("delivery_id", clip(id)))
		respond(w, http.StatusOK, "pong")
		return
	case "workflow_run":
	default:
		h.logger.DebugContext(ctx, "ignoring a webhook event", slog.String("delivery_id", clip(id)), slog.String("event", clip(event)))
		respond(w, http.StatusAccepted, "ignored: retentiond only acts on workflow_run events, not %q", clip(event))
		return
	}
	if id == "" || len(id) > maxDeliveryIDLen {
		respond(w, http.StatusBadRequest, "%s is missing or longer than %d characters", deliveryHeader, maxDeliveryIDLen)
		return
	}
	// go-github's ValidatePayloadFromBody would unwrap a form-encoded
	// payload; retentiond refuses it so that the webhook is set up the one
	// way the README describes.
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
		respond(w, http.StatusUnsupportedMediaType, "set the webhook's content type to application/json on GitHub")
		return
	}
	run, err := parseWorkflowRun(body)
	if err != nil {
		h.logger.WarnContext(ctx, "rejected a webhook delivery", slog.String("delivery_id", id), slog.Any("error", err))
		respond(w, http.StatusBadRequest, "%v", err)
		return
	}

	d := store.WebhookDelivery{
		ID: id, Event: event, Action: run.Action, Repository: run.Repository, WorkflowRunID: run.RunID,
		ReceivedAt: h.clock.Now(),
	}
	switch {
	case !h.inPolicy(run.Repository):
		h.ignore(ctx, w, d, "repository is not in the policy")
	case run.Action != "completed":
		h.ignore(ctx, w, d, fmt.Sprintf("action %q is not completed", clip(run.Action)))
	default:
		h.accept(ctx, w, d, run)
	}
}

// readBody reads at most maxBody bytes of the body. On error it returns the
// status to answer with. It runs before the signature is checked, so an
// unauthenticated sender cannot make the server buffer more; go-github's
// payload reader would allow 25 MB.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	tooLarge := fmt.Errorf("the payload is larger than %d bytes", h.maxBody)
	if r.ContentLength > h.maxBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading the payload: %w", err)
	}
	return body, 0, nil
}

// ignore records a delivery there is nothing to do for. The record is for
// troubleshooting only, so failing to write it does not fail the delivery.
func (h *Handler) ignore(ctx context.Context, w http.ResponseWriter, d store.WebhookDelivery, reason string) {
	d.Status, d.Error = store.DeliveryIgnored, reason
	attrs := append(deliveryAttrs(d), slog.String("reason", reason))
	if _, err := h.deliveries.RecordDelivery(ctx, d, d.ReceivedAt.Add(-StaleQueued)); err != nil {
		attrs = append(attrs, slog.Any("error", err))
		h.logger.LogAttrs(ctx, slog.LevelWarn, "could not record an ignored webhook delivery", attrs...)
	} else {
		h.logger.LogAttrs(ctx, slog.LevelDebug, "ignoring a webhook delivery", attrs...)
	}
	respond(w, http.StatusAccepted, "ignored: %s", reason)
}

// accept records a delivery and queues its scan. A delivery that cannot be
// queued is answered 5xx and left unrecorded (or recorded failed), so that
// GitHub's redelivery of it is scanned.
func (h *Handler) accept(ctx context.Context, w http.ResponseWriter, d store.WebhookDelivery, run workflowRun) {
	attrs := deliveryAttrs(d)
	select {
	case h.slots <- struct{}{}:
	default:
		h.logger.LogAttrs(ctx, slog.LevelWarn, "webhook queue full: refusing a delivery; redeliver it from GitHub later", attrs...)
		respond(w, http.StatusServiceUnavailable, "busy: %d deliveries are waiting to be scanned; redeliver later", cap(h.slots))
		return
	}
	if !h.running() {
		<-h.slots
		respond(w, http.StatusServiceUnavailable, "not accepting deliveries: retentiond is not running its webhook workers")
		return
	}
	d.Status = store.DeliveryQueued
	fresh, err := h.deliveries.RecordDelivery(ctx, d, d.ReceivedAt.Add(-StaleQueued))
	if err != nil {
		<-h.slots
		h.logger.LogAttrs(ctx, slog.LevelError, "could not record a webhook delivery", append(attrs, slog.Any("error", err))...)
		respond(w, http.StatusInternalServerError, "could not record the delivery; redeliver later")
		return
	}
	if !fresh {
		<-h.slots
		h.logger.LogAttrs(ctx, slog.LevelInfo, "webhook delivery already received: not scanning it again", attrs...)
		respond(w, http.StatusOK, "already processed: delivery %s was received before", d.ID)
		return
	}

	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		<-h.slots
		h.finish(ctx, d, store.DeliveryOutcome{Status: store.DeliveryFailed, Error: errStopped.Error()})
		respond(w, http.StatusServiceUnavailable, "not accepting deliveries: retentiond is shutting down; redeliver later")
		return
	}
	h.pending++
	h.queue <- d
	h.mu.Unlock()

	h.logger.LogAttrs(ctx, slog.LevelInfo, "webhook delivery accepted: scanning the run's artifacts",
		append(attrs, slog.String("workflow", run.Name), slog.String("branch", run.HeadBranch),
			slog.String("conclusion", run.Conclusion))...)
	respond(w, http.StatusAccepted, "accepted: scanning the artifacts of %s run %d", d.Repository, d.WorkflowRunID)
}

func deliveryAttrs(d store.WebhookDelivery) []slog.Attr {
	return []slog.Attr{
		slog.String("delivery_id", d.ID),
		slog.String("event", d.Event),
		slog.String("action", clip(d.Action)),
		slog.String("repository", d.Repository.String()),
		slog.Int64("workflow_run_id", d.WorkflowRunID),
	}
}

func respond(w http.ResponseWriter, status int, format string, a ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, format+"\n", a...)
}

// clip shortens text taken from a request before it is logged or echoed.
func clip(s string) string {
	const limit = 100
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// inPolicy reports whether repo's events are the policy's to scan.
func (h *Handler) inPolicy(repo artifact.Repository) bool {
	if h.selects != nil {
		return h.selects(repo)
	}
	return h.repos[repo]
}
