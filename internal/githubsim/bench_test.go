package githubsim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-github/v92/github"
)

// discardWriter is a ResponseWriter that only counts, so the benchmark
// measures the simulator rather than a recorder.
type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchSim is the benchmark data set: 20 repositories of 10,000 artifacts.
func benchSim(b *testing.B) *Server {
	b.Helper()
	s := New(Options{RateLimit: 1 << 30})
	s.Generate(GenerateOptions{Seed: 1, Repositories: 20, ArtifactsPerRepository: 10_000, Now: testNow})
	return s
}

// BenchmarkListPage serves pages of 100 artifacts of one repository,
// round-robin over its 100 pages, after digests were computed once.
func BenchmarkListPage(b *testing.B) {
	s := benchSim(b)
	reqs := make([]*http.Request, 100)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/repos/acme/repo-007/actions/artifacts?per_page=100&page=%d", i+1), nil)
	}
	w := &discardWriter{h: http.Header{}}
	for _, r := range reqs {
		s.ServeHTTP(w, r)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		clear(w.h)
		s.ServeHTTP(w, reqs[i%len(reqs)])
		i++
	}
	b.ReportMetric(float64(i*100)/b.Elapsed().Seconds(), "artifacts/s")
}

// BenchmarkGenerate adds 200,000 artifacts to an empty server.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s := New(Options{})
		s.Generate(GenerateOptions{Seed: 1, Repositories: 20, ArtifactsPerRepository: 10_000, Now: testNow})
	}
}

// BenchmarkScanGoGitHub lists all 200,000 artifacts over HTTP with go-github,
// page by page, as a scanner would (without a database).
func BenchmarkScanGoGitHub(b *testing.B) {
	s := benchSim(b)
	ts := httptest.NewServer(s)
	b.Cleanup(ts.Close)
	base := ts.URL + "/"
	c, err := github.NewClient(github.WithAuthToken("t"), github.WithURLs(&base, nil))
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	start := time.Now()
	for b.Loop() {
		for _, repo := range s.Repositories() {
			opts := &github.ListArtifactsOptions{ListOptions: github.ListOptions{PerPage: 100}}
			for {
				list, resp, err := c.Actions.ListArtifacts(b.Context(), repo.Owner(), repo.Name(), opts)
				if err != nil {
					b.Fatal(err)
				}
				total += len(list.Artifacts)
				if resp.NextPage == 0 {
					break
				}
				opts.Page = resp.NextPage
			}
		}
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "artifacts/s")
}
