package githubsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/clock"
)

// testNow is where fake clocks start. It is in the past of the wall clock,
// so go-github's own rate-limit bookkeeping never blocks a test request.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newSim returns a server on a fake clock unless opts has a clock.
func newSim(t *testing.T, opts Options) (*Server, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(testNow)
	if opts.Clock == nil {
		opts.Clock = clk
	}
	return New(opts), clk
}

// result is a recorded response.
type result struct {
	status int
	header http.Header
	body   []byte
}

// serve sends one request straight to the handler; the Host is example.com.
// header lists name, value pairs.
func serve(t *testing.T, h http.Handler, method, target string, header ...string) result {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// jsonArtifact mirrors the served object with nullable fields as pointers.
type jsonArtifact struct {
	ID                 int64   `json:"id"`
	NodeID             string  `json:"node_id"`
	Name               string  `json:"name"`
	SizeInBytes        int64   `json:"size_in_bytes"`
	URL                string  `json:"url"`
	ArchiveDownloadURL string  `json:"archive_download_url"`
	Expired            bool    `json:"expired"`
	CreatedAt          *string `json:"created_at"`
	UpdatedAt          *string `json:"updated_at"`
	ExpiresAt          *string `json:"expires_at"`
	Digest             *string `json:"digest"`
	WorkflowRun        *struct {
		ID               int64  `json:"id"`
		RepositoryID     int64  `json:"repository_id"`
		HeadRepositoryID int64  `json:"head_repository_id"`
		HeadBranch       string `json:"head_branch"`
		HeadSHA          string `json:"head_sha"`
	} `json:"workflow_run"`
}

type listBody struct {
	TotalCount *int           `json:"total_count"`
	Artifacts  []jsonArtifact `json:"artifacts"`
}

func decodeList(t *testing.T, r result) listBody {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
	var l listBody
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("decoding list %s: %v", r.body, err)
	}
	if l.TotalCount == nil || l.Artifacts == nil {
		t.Fatalf("list body %s lacks total_count or artifacts", r.body)
	}
	return l
}

func listIDs(l listBody) []int64 {
	out := make([]int64, len(l.Artifacts))
	for i, a := range l.Artifacts {
		out[i] = a.ID
	}
	return out
}

type errorBody struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
	Status           string `json:"status"`
}

func decodeError(t *testing.T, r result) errorBody {
	t.Helper()
	if got := r.header.Get("Content-Type"); got != jsonContentType {
		t.Errorf("error Content-Type = %q, want %q", got, jsonContentType)
	}
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("decoding error body %s: %v", r.body, err)
	}
	return e
}

// seed adds n artifacts named by index to repo, created a minute apart, and
// returns their ids newest first, the order lists serve.
func seed(s *Server, repo string, n int) []int64 {
	ids := make([]int64, n)
	for i := range n {
		ids[n-1-i] = s.AddArtifact(artifact.Artifact{
			Repository:  artifact.Repository(repo),
			Name:        fmt.Sprintf("art-%d", i),
			SizeInBytes: int64(1000 + i),
			CreatedAt:   testNow.Add(time.Duration(i) * time.Minute),
			UpdatedAt:   testNow.Add(time.Duration(i) * time.Minute),
			ExpiresAt:   testNow.Add(90*24*time.Hour + time.Duration(i)*time.Minute),
		})
	}
	return ids
}
