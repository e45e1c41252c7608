package janitor_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/policy"
)

// archiveWorld is a world whose artifacts carry digests and whose delete
// decisions ask for an archive.
func archiveWorld(t *testing.T, n int) *world {
	t.Helper()
	w := newWorld(t, n, testbed.Options{})
	for i := range w.items {
		it := &w.items[i]
		content := archiveContent(*it, i)
		if !w.Sim.SetContent(it.Artifact.Repository, it.Artifact.ID, content) {
			t.Fatal("SetContent: no such artifact")
		}
		sum := sha256.Sum256(content)
		// What the scan would have recorded had it run after SetContent.
		it.Artifact.Digest = "sha256:" + hex.EncodeToString(sum[:])
		it.Decision = policy.Decision{Action: policy.Delete, Rule: "old", Reason: "matched delete rule old", Archive: true, ArchiveRequired: true}
	}
	return w
}

// archiveContent is the archive archiveWorld gives its i-th item.
func archiveContent(it janitor.Item, i int) []byte {
	return []byte(strings.Repeat(it.Artifact.Name+" archive ", 200+i))
}

// entries returns the run's audit rows by artifact id.
func (w *world) entries(t *testing.T) map[int64]store.AuditEntry {
	t.Helper()
	list, err := w.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: w.runID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]store.AuditEntry{}
	for _, e := range list {
		out[e.ArtifactID] = e
	}
	return out
}

// truncatingClient is a client for w's simulator through a front that cuts
// every blob response after cut bytes and drops the connection.
func truncatingClient(t *testing.T, w *world, cut int) *github.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "/_blob/") {
			w.Sim.ServeHTTP(rw, r)
			return
		}
		rec := httptest.NewRecorder()
		w.Sim.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		_, _ = rw.Write(rec.Body.Bytes()[:min(cut, rec.Body.Len())])
		rw.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(srv.Close)
	c, err := github.New(github.Config{BaseURL: srv.URL, Token: testbed.Token, Clock: w.Clock, Logger: w.Logger})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

func TestArchiveCompletesBeforeTheDelete(t *testing.T) {
	t.Parallel()
	w := archiveWorld(t, 3)
	dir := t.TempDir()
	type req struct {
		route string
		id    string
		at    time.Time
	}
	var mu sync.Mutex
	var seq []req
	w.Sim.OnRequest(func(route string, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seq = append(seq, req{route, filepath.Base(strings.TrimSuffix(strings.TrimSuffix(r.URL.Path, "/zip"), ".zip")), w.Clock.Now()})
	})
	// Pacing longer than a download link lives: a sleep between the 302 and
	// the blob fetch would show on the fake clock and expire the link.
	j := janitor.New(w.Client, w.Store, janitor.Config{
		MaxDeletions: 10, Interval: 2 * time.Minute, Clock: w.Clock, Logger: w.Logger,
		Archive: janitor.ArchiveConfig{Dir: dir, MaxBytes: 1 << 20},
	})
	rep, err := j.Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 3 || rep.Archived != 3 || rep.Failed != 0 {
		t.Fatalf("report %+v", rep)
	}
	if n := len(w.Sim.Artifacts("octo/api")); n != 0 {
		t.Errorf("%d artifacts left", n)
	}
	// Per artifact: the 302, at once the blob, then the DELETE.
	var routes []string
	for i, r := range seq {
		routes = append(routes, r.route)
		if r.route == githubsim.RouteBlob && !r.at.Equal(seq[i-1].at) {
			t.Errorf("the download link was followed %s after the 302", r.at.Sub(seq[i-1].at))
		}
	}
	one := []string{githubsim.RouteDownload, githubsim.RouteBlob, githubsim.RouteDelete}
	if diff := cmp.Diff(append(append(one, one...), one...), routes); diff != "" {
		t.Errorf("request order (-want +got):\n%s", diff)
	}
	if n := w.Sim.Requests()[githubsim.BlobWithAuthorization]; n != 0 {
		t.Errorf("the token was sent to the blob host %d times", n)
	}
	entries := w.entries(t)
	var wantFiles []string
	for _, it := range w.items {
		e := entries[it.Artifact.ID]
		name := "octo/api/" + archive.FileName(it.Artifact.ID, it.Artifact.Name)
		wantFiles = append(wantFiles, name)
		if e.Outcome != store.OutcomeDeleted || e.ArchivePath != filepath.Join(dir, filepath.FromSlash(name)) ||
			"sha256:"+e.ArchiveSHA256 != it.Artifact.Digest || e.Error != "" {
			t.Errorf("entry %+v", e)
		}
		b, err := os.ReadFile(e.ArchivePath)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); int64(len(b)) != e.ArchiveBytes || hex.EncodeToString(sum[:]) != e.ArchiveSHA256 {
			t.Errorf("%s: %d bytes on disk, audit says %d bytes sha256 %s", e.ArchivePath, len(b), e.ArchiveBytes, e.ArchiveSHA256)
		}
	}
	slices.Sort(wantFiles)
	if diff := cmp.Diff(wantFiles, listFiles(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	w.AssertNoToken()
}

func TestArchiveFailureMeansNoDelete(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(w *world, it *janitor.Item) *github.Client // optional client
		cfg     janitor.ArchiveConfig                           // Dir filled in unless NoDir
		noDir   bool
		want    store.Outcome
		status  int
		errHas  string
		deleted bool // the artifact is deleted all the same
	}{
		{
			name: "expired and required",
			setup: func(w *world, it *janitor.Item) *github.Client {
				w.Sim.SetExpired("octo/api", it.Artifact.ID, true)
				return nil
			},
			want:   store.OutcomeExpiredNotArchived,
			status: 410,
			errHas: "requires one",
		},
		{
			name: "expired and not required",
			setup: func(w *world, it *janitor.Item) *github.Client {
				w.Sim.SetExpired("octo/api", it.Artifact.ID, true)
				it.Decision.ArchiveRequired = false
				return nil
			},
			want:    store.OutcomeDeleted,
			status:  204,
			errHas:  "archive_required: false",
			deleted: true,
		},
		{
			name:   "truncated download",
			setup:  func(w *world, it *janitor.Item) *github.Client { return truncatingClient(t, w, 100) },
			want:   store.OutcomeFailed,
			errHas: "after 100 bytes",
		},
		{
			name: "digest mismatch",
			setup: func(w *world, it *janitor.Item) *github.Client {
				it.Artifact.Digest = "sha256:" + strings.Repeat("00", 32)
				return nil
			},
			want:   store.OutcomeFailed,
			errHas: "digest mismatch",
		},
		{
			name: "blob host down",
			setup: func(w *world, it *janitor.Item) *github.Client {
				w.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteBlob, Status: http.StatusServiceUnavailable})
				return nil
			},
			want:   store.OutcomeFailed,
			errHas: "503",
		},
		{
			name:   "over the budget",
			setup:  func(w *world, it *janitor.Item) *github.Client { return nil },
			cfg:    janitor.ArchiveConfig{MaxBytes: 10},
			want:   store.OutcomeFailed,
			errHas: "ARCHIVE_MAX_BYTES",
		},
		{
			name:   "archiving not set up",
			setup:  func(w *world, it *janitor.Item) *github.Client { return nil },
			noDir:  true,
			want:   store.OutcomeFailed,
			errHas: "ARCHIVE_DIR",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := archiveWorld(t, 1)
			it := w.items[0]
			client := tc.setup(w, &it)
			if client == nil {
				client = w.Client
			}
			dir := t.TempDir()
			cfg := tc.cfg
			if cfg.MaxBytes == 0 {
				cfg.MaxBytes = 1 << 20
			}
			if !tc.noDir {
				cfg.Dir = dir
			}
			j := janitor.New(client, w.Store, janitor.Config{MaxDeletions: 10, Clock: w.Clock, Logger: w.Logger, Archive: cfg})
			if _, err := j.Execute(context.Background(), w.runID, []janitor.Item{it}); err != nil {
				t.Fatal(err)
			}
			e := w.entries(t)[it.Artifact.ID]
			if e.Outcome != tc.want || e.HTTPStatus != tc.status || !strings.Contains(e.Error, tc.errHas) || e.ArchivePath != "" {
				t.Errorf("entry: outcome %s, status %d, error %q, archive %q; want %s, %d, containing %q, none",
					e.Outcome, e.HTTPStatus, e.Error, e.ArchivePath, tc.want, tc.status, tc.errHas)
			}
			if exists := w.Sim.Exists("octo/api", it.Artifact.ID); exists == tc.deleted {
				t.Errorf("artifact exists = %v, want %v", exists, !tc.deleted)
			}
			if !tc.deleted && w.Sim.Requests()["DELETE "+githubsim.RouteDelete] != 0 {
				t.Error("a DELETE was sent")
			}
			if got := listFiles(t, dir); len(got) != 0 {
				t.Errorf("files left behind: %v", got)
			}
		})
	}
}

func TestArchiveBudgetSparesTheRestOfTheRun(t *testing.T) {
	t.Parallel()
	w := archiveWorld(t, 3)
	// Oldest first, the first two archives fit; the third is refused before
	// any byte of it is fetched, since its listed size exceeds what is left.
	budget := int64(len(archiveContent(w.items[2], 2))+len(archiveContent(w.items[1], 1))) + 100
	dir := t.TempDir()
	j := janitor.New(w.Client, w.Store, janitor.Config{MaxDeletions: 10, Clock: w.Clock, Logger: w.Logger,
		Archive: janitor.ArchiveConfig{Dir: dir, MaxBytes: budget}})
	rep, err := j.Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Archived != 2 || rep.Deleted != 2 || rep.Failed != 1 {
		t.Fatalf("report %+v", rep)
	}
	newest := w.entries(t)[w.items[0].Artifact.ID]
	if newest.Outcome != store.OutcomeFailed || !strings.Contains(newest.Error, "ARCHIVE_MAX_BYTES") {
		t.Errorf("newest: %+v", newest)
	}
	if !w.Sim.Exists("octo/api", w.items[0].Artifact.ID) {
		t.Error("the artifact over the budget was deleted")
	}
	if n := w.Sim.Requests()["GET "+githubsim.RouteDownload]; n != 2 {
		t.Errorf("%d archives asked for, want 2", n)
	}
	if got := len(listFiles(t, dir)); got != 2 {
		t.Errorf("%d files, want 2", got)
	}
}

func TestDryRunArchivesNothing(t *testing.T) {
	t.Parallel()
	w := archiveWorld(t, 2)
	dir := t.TempDir()
	w.Sim.ResetCounts()
	j := janitor.New(w.Client, w.Store, janitor.Config{DryRun: true, MaxDeletions: 10, Clock: w.Clock, Logger: w.Logger,
		Archive: janitor.ArchiveConfig{Dir: dir, MaxBytes: 1 << 20}})
	rep, err := j.Execute(context.Background(), w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.DryRun != 2 || rep.Archived != 0 {
		t.Errorf("report %+v", rep)
	}
	if n := w.Sim.TotalRequests(); n != 0 {
		t.Errorf("dry-run sent %d requests: %v", n, w.Sim.Requests())
	}
	if got := listFiles(t, dir); len(got) != 0 {
		t.Errorf("files: %v", got)
	}
}

func TestShutdownDuringADownloadDeletesNothing(t *testing.T) {
	t.Parallel()
	w := archiveWorld(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	w.Sim.OnRequest(func(route string, r *http.Request) {
		if route == githubsim.RouteBlob {
			cancel() // SIGTERM while the first archive downloads
			// Hold the blob until the client gives up, so the download is
			// cut short whatever the scheduling.
			<-r.Context().Done()
		}
	})
	dir := t.TempDir()
	j := janitor.New(w.Client, w.Store, janitor.Config{MaxDeletions: 10, Clock: w.Clock, Logger: w.Logger,
		Archive: janitor.ArchiveConfig{Dir: dir, MaxBytes: 1 << 20}})
	rep, err := j.Execute(ctx, w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Interrupted != 3 || rep.Deleted != 0 || !rep.Stopped {
		t.Fatalf("report %+v", rep)
	}
	if n := len(w.Sim.Artifacts("octo/api")); n != 3 {
		t.Errorf("%d artifacts left, want 3", n)
	}
	for id, o := range w.outcomes(t) {
		if o != store.OutcomeInterrupted {
			t.Errorf("artifact %d: %s", id, o)
		}
	}
	if got := listFiles(t, dir); len(got) != 0 {
		t.Errorf("files left behind: %v", got)
	}
	if pending, _ := w.Store.PendingAudit(context.Background()); len(pending) != 0 {
		t.Errorf("%d rows left pending", len(pending))
	}
}

// cancelAfterDownload is the client with a shutdown that begins the moment
// an archive download has completed: between the archive and the DELETE.
type cancelAfterDownload struct {
	*github.Client
	cancel context.CancelFunc
}

func (c cancelAfterDownload) DownloadArtifact(ctx context.Context, repo artifact.Repository, id int64, w io.Writer) (github.DownloadResult, error) {
	res, err := c.Client.DownloadArtifact(ctx, repo, id, w)
	if err == nil {
		c.cancel()
	}
	return res, err
}

func TestShutdownAfterADownloadSendsNoDelete(t *testing.T) {
	t.Parallel()
	w := archiveWorld(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	gh := cancelAfterDownload{Client: w.Client, cancel: cancel}
	j := janitor.New(gh, w.Store, janitor.Config{MaxDeletions: 10, Clock: w.Clock, Logger: w.Logger,
		Archive: janitor.ArchiveConfig{Dir: dir, MaxBytes: 1 << 20}})
	rep, err := j.Execute(ctx, w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if n := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]; n != 0 {
		t.Errorf("%d DELETEs sent after the shutdown began", n)
	}
	if rep.Interrupted != 3 || rep.Deleted != 0 || !rep.Stopped || rep.Archived != 1 {
		t.Fatalf("report %+v", rep)
	}
	if n := len(w.Sim.Artifacts("octo/api")); n != 3 {
		t.Errorf("%d artifacts left, want 3", n)
	}
	oldest := w.items[len(w.items)-1].Artifact.ID
	for id, e := range w.entries(t) {
		if e.Outcome != store.OutcomeInterrupted {
			t.Errorf("artifact %d: %s", id, e.Outcome)
		}
		// The archive that was completed is recorded where it lies.
		if want := id == oldest; (e.ArchivePath != "") != want {
			t.Errorf("artifact %d: archive_path %q", id, e.ArchivePath)
		}
	}
	if got := listFiles(t, dir); len(got) != 1 {
		t.Errorf("files: %v, want the one complete archive", got)
	}
}

// cancelAfterGet is the client with a shutdown that begins the moment
// apply's re-read of an artifact has answered.
type cancelAfterGet struct {
	*github.Client
	cancel context.CancelFunc
}

func (c cancelAfterGet) GetArtifact(ctx context.Context, repo artifact.Repository, id int64) (artifact.Artifact, error) {
	a, err := c.Client.GetArtifact(ctx, repo, id)
	c.cancel()
	return a, err
}

func TestShutdownAfterAReReadSendsNoDelete(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, testbed.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j := janitor.New(cancelAfterGet{Client: w.Client, cancel: cancel}, w.Store,
		janitor.Config{Verify: true, MaxDeletions: 10, Clock: w.Clock, Logger: w.Logger})
	rep, err := j.Execute(ctx, w.runID, w.items)
	if err != nil {
		t.Fatal(err)
	}
	if n := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]; n != 0 {
		t.Errorf("%d DELETEs sent after the shutdown began", n)
	}
	if rep.Interrupted != 2 || rep.Deleted != 0 || !rep.Stopped {
		t.Fatalf("report %+v", rep)
	}
}
