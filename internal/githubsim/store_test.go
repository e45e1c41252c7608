package githubsim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

func TestAddArtifactIDs(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	first := s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "a"})
	explicit := s.AddArtifact(artifact.Artifact{Repository: "octo/other", Name: "b", ID: first + 100})
	next := s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "c"})
	if explicit != first+100 || next != first+101 {
		t.Errorf("ids %d, %d, %d: want explicit kept and the next above it", first, explicit, next)
	}
	older := s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "d", ID: first + 1})
	var got []int64
	for _, a := range s.Artifacts("octo/app") {
		got = append(got, a.ID)
	}
	if diff := cmp.Diff([]int64{next, older, first}, got); diff != "" {
		t.Errorf("ids newest first (-want +got):\n%s", diff)
	}

	// The same id in the same repository replaces, in both indexes.
	s.AddArtifact(artifact.Artifact{Repository: "OCTO/APP", Name: "renamed", ID: first, WorkflowRunID: 9})
	arts := s.Artifacts("octo/app")
	if len(arts) != 3 || arts[2].Name != "renamed" {
		t.Errorf("after replacing: %+v", arts)
	}
	if l := decodeList(t, serve(t, s, "GET", "/repos/octo/app/actions/artifacts?name=a")); *l.TotalCount != 0 {
		t.Errorf("old name still listed: %d", *l.TotalCount)
	}
	if l := decodeList(t, serve(t, s, "GET", "/repos/octo/app/actions/runs/9/artifacts")); *l.TotalCount != 1 {
		t.Errorf("run of the replacement: total %d, want 1", *l.TotalCount)
	}
	if s.Len() != 4 {
		t.Errorf("Len = %d, want 4", s.Len())
	}
}

func TestAddArtifactNormalises(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	rid := s.AddRepository("Octo/App.git")
	if again := s.AddRepository("octo/app"); again != rid {
		t.Errorf("AddRepository is not case-insensitive: %d then %d", rid, again)
	}
	id := s.AddArtifact(artifact.Artifact{Repository: "OCTO/app", Name: "x", WorkflowRunID: 3, Branch: "main"})
	got := s.Artifacts("octo/APP")[0]
	want := artifact.Artifact{
		ID: id, Repository: "octo/app", NodeID: nodeID(id), Name: "x",
		WorkflowRunID: 3, RepositoryID: rid, HeadRepositoryID: rid, Branch: "main",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored artifact (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]artifact.Repository{"octo/app"}, s.Repositories()); diff != "" {
		t.Errorf("Repositories (-want +got):\n%s", diff)
	}
	if s.Artifacts("octo/none") != nil || s.Artifacts("bad") != nil {
		t.Error("Artifacts of an unknown or malformed repository is not nil")
	}
	if _, ok := s.RepositoryID("octo/none"); ok {
		t.Error("RepositoryID found an unknown repository")
	}
}

func TestAddArtifactPanics(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	id := s.AddArtifact(artifact.Artifact{Repository: "octo/app", Name: "x"})
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"malformed repository", func() { s.AddArtifact(artifact.Artifact{Repository: "nope"}) }, "owner/name"},
		{"id of another repository", func() { s.AddArtifact(artifact.Artifact{Repository: "octo/other", ID: id}) }, "already belongs to octo/app"},
		{"negative id", func() { s.AddArtifact(artifact.Artifact{Repository: "octo/app", ID: -1}) }, "negative"},
		{"malformed AddRepository", func() { s.AddRepository("a/b/c") }, "owner/name"},
		{"malformed fault repository", func() { s.InjectFault(Fault{Repository: "x"}) }, "owner/name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, tt.want) {
					t.Errorf("panic %v, want one mentioning %q", r, tt.want)
				}
			}()
			tt.call()
		})
	}
}

func TestRemoveAndExpire(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	ids := seed(s, "octo/app", 3)
	if !s.Exists("Octo/App", ids[1]) || s.Exists("octo/app", 1) || s.Exists("octo/none", ids[1]) {
		t.Error("Exists is wrong")
	}
	if !s.RemoveArtifact("octo/app", ids[1]) || s.RemoveArtifact("octo/app", ids[1]) || s.RemoveArtifact("x/y", ids[0]) {
		t.Error("RemoveArtifact reports wrongly")
	}
	if !s.SetExpired("octo/app", ids[0], true) || s.SetExpired("octo/app", ids[1], true) {
		t.Error("SetExpired reports wrongly")
	}
	var expired []bool
	for _, a := range s.Artifacts("octo/app") {
		expired = append(expired, a.Expired)
	}
	if diff := cmp.Diff([]bool{true, false}, expired); diff != "" {
		t.Errorf("expired flags (-want +got):\n%s", diff)
	}
}

const seedDocument = `{"repositories":[
 {"full_name":"Octo/App","id":1296269,"artifacts":[
  {"id":11,"node_id":"MDg6QXJ0aWZhY3QxMQ==","name":"Rails","size_in_bytes":556,
   "url":"https://api.github.com/repos/octo-org/octo-docs/actions/artifacts/11",
   "archive_download_url":"https://api.github.com/repos/octo-org/octo-docs/actions/artifacts/11/zip",
   "expired":false,"created_at":"2020-01-10T14:59:22Z","expires_at":"2020-03-21T14:59:22Z","updated_at":"2020-02-21T14:59:22Z",
   "digest":"sha256:cfc3236bdad15b5898bca8408945c9e19e1917da8704adc20eaa618444290a8c",
   "workflow_run":{"id":2332938,"repository_id":1296269,"head_repository_id":1296269,"head_branch":"main","head_sha":"328faa0536e6fef19753d9d91dc96a9931694ce3"},
   "extra":"ignored"},
  {"id":10,"node_id":"x","name":"old","size_in_bytes":1,"url":"","archive_download_url":"","expired":true,
   "created_at":null,"expires_at":null,"updated_at":null,"workflow_run":null}
 ]},
 {"full_name":"octo/empty","artifacts":[]}
]}`

func TestSeedJSON(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	if err := s.SeedJSON(strings.NewReader(seedDocument)); err != nil {
		t.Fatalf("SeedJSON: %v", err)
	}
	if id, _ := s.RepositoryID("octo/app"); id != 1296269 {
		t.Errorf("repository id = %d, want 1296269", id)
	}
	want := []artifact.Artifact{
		{
			ID: 11, Repository: "octo/app", NodeID: "MDg6QXJ0aWZhY3QxMQ==", Name: "Rails", SizeInBytes: 556,
			URL:                "https://api.github.com/repos/octo-org/octo-docs/actions/artifacts/11",
			ArchiveDownloadURL: "https://api.github.com/repos/octo-org/octo-docs/actions/artifacts/11/zip",
			CreatedAt:          time.Date(2020, 1, 10, 14, 59, 22, 0, time.UTC),
			ExpiresAt:          time.Date(2020, 3, 21, 14, 59, 22, 0, time.UTC),
			UpdatedAt:          time.Date(2020, 2, 21, 14, 59, 22, 0, time.UTC),
			Digest:             "sha256:cfc3236bdad15b5898bca8408945c9e19e1917da8704adc20eaa618444290a8c",
			WorkflowRunID:      2332938, RepositoryID: 1296269, HeadRepositoryID: 1296269, Branch: "main",
			HeadSHA: "328faa0536e6fef19753d9d91dc96a9931694ce3",
		},
		{ID: 10, Repository: "octo/app", NodeID: "x", Name: "old", SizeInBytes: 1, Expired: true},
	}
	if diff := cmp.Diff(want, s.Artifacts("octo/app")); diff != "" {
		t.Errorf("seeded (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]artifact.Repository{"octo/app", "octo/empty"}, s.Repositories()); diff != "" {
		t.Errorf("repositories (-want +got):\n%s", diff)
	}
	if next := s.AddArtifact(artifact.Artifact{Repository: "octo/app"}); next <= 11 {
		t.Errorf("next id %d is not above the seeded ones", next)
	}
}

func TestSeedJSONRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc string }{
		{"not JSON", `{"repositories":`},
		{"bad name", `{"repositories":[{"full_name":"nope","artifacts":[]}]}`},
		{"zero id", `{"repositories":[{"full_name":"o/r","artifacts":[{"name":"x"}]}]}`},
		{"id in two repositories", `{"repositories":[{"full_name":"o/a","artifacts":[{"id":1}]},{"full_name":"o/b","artifacts":[{"id":1}]}]}`},
		{"repository id twice", `{"repositories":[{"full_name":"o/a","id":5},{"full_name":"o/b","id":5}]}`},
		{"repository id taken", `{"repositories":[{"full_name":"o/new","id":1296269}]}`},
		{"artifact id taken", `{"repositories":[{"full_name":"o/new","artifacts":[{"id":11}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newSim(t, Options{})
			if err := s.SeedJSON(strings.NewReader(seedDocument)); err != nil {
				t.Fatal(err)
			}
			before := s.Repositories()
			err := s.SeedJSON(strings.NewReader(tt.doc))
			if !errors.Is(err, ErrBadSeed) {
				t.Errorf("err = %v, want ErrBadSeed", err)
			}
			if diff := cmp.Diff(before, s.Repositories()); diff != "" {
				t.Errorf("a rejected document changed the repositories (-before +after):\n%s", diff)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	opts := GenerateOptions{Seed: 7, Repositories: 3, ArtifactsPerRepository: 500, Now: testNow}
	a, _ := newSim(t, Options{})
	b, _ := newSim(t, Options{})
	names := a.Generate(opts)
	b.Generate(opts)
	if diff := cmp.Diff([]artifact.Repository{"acme/repo-000", "acme/repo-001", "acme/repo-002"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	seen := map[int64]bool{}
	for _, repo := range names {
		arts := a.Artifacts(repo)
		if diff := cmp.Diff(arts, b.Artifacts(repo)); diff != "" {
			t.Fatalf("same options, different data for %s (-a +b):\n%s", repo, diff)
		}
		if len(arts) != 500 {
			t.Errorf("%s has %d artifacts, want 500", repo, len(arts))
		}
		if !slices.IsSortedFunc(arts, func(x, y artifact.Artifact) int { return int(y.ID - x.ID) }) {
			t.Errorf("%s is not newest first", repo)
		}
		for _, art := range arts {
			if seen[art.ID] {
				t.Fatalf("id %d repeated", art.ID)
			}
			seen[art.ID] = true
			if art.CreatedAt.Before(testNow.Add(-121*24*time.Hour)) || !art.CreatedAt.Before(testNow) {
				t.Errorf("created_at %v outside the span", art.CreatedAt)
			}
			if art.Expired != !art.ExpiresAt.After(testNow) {
				t.Errorf("artifact %d: expired %v with expires_at %v", art.ID, art.Expired, art.ExpiresAt)
			}
			if art.Digest != "" && !strings.HasPrefix(art.Digest, "sha256:") {
				t.Errorf("digest %q", art.Digest)
			}
		}
	}
	if a.Generate(GenerateOptions{Owner: "x"})[0] != "x/repo-000" || len(a.Artifacts("x/repo-000")) != 100 {
		t.Error("defaults: want one repository of 100 artifacts")
	}
}

func TestGenerateAtScale(t *testing.T) {
	t.Parallel()
	s, _ := newSim(t, Options{})
	// A quarter of the benchmark set, to stay quick under -race;
	// BenchmarkGenerate times the full 200,000.
	s.Generate(GenerateOptions{Seed: 1, Repositories: 20, ArtifactsPerRepository: 2_500, Now: testNow})
	if s.Len() != 50_000 {
		t.Fatalf("Len = %d, want 50000", s.Len())
	}
	l := decodeList(t, serve(t, s, "GET", "/repos/acme/repo-007/actions/artifacts?per_page=100&page=25"))
	if *l.TotalCount != 2_500 || len(l.Artifacts) != 100 {
		t.Errorf("last page: total %d, %d artifacts", *l.TotalCount, len(l.Artifacts))
	}
	// Generating again adds to what is there and keeps every index sorted.
	s.Generate(GenerateOptions{Seed: 2, Repositories: 1, ArtifactsPerRepository: 10, Now: testNow})
	arts := s.Artifacts("acme/repo-000")
	if len(arts) != 2_510 || arts[0].ID <= arts[10].ID {
		t.Errorf("after a second Generate: %d artifacts, newest %d", len(arts), arts[0].ID)
	}
	first := arts[0]
	run := decodeList(t, serve(t, s, "GET", fmt.Sprintf("/repos/acme/repo-000/actions/runs/%d/artifacts", first.WorkflowRunID)))
	if first.WorkflowRunID != 0 && (len(run.Artifacts) == 0 || run.Artifacts[0].ID != first.ID) {
		t.Errorf("run list of the newest artifact: %v", listIDs(run))
	}
}

func TestDemoOrg(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	s, _ := newSim(t, Options{})
	names := s.DemoOrg(now)
	if diff := cmp.Diff([]artifact.Repository{"octo-org/api", "octo-org/web", "octo-org/mobile", "octo-org/infra", "octo-org/docs"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	var total, huge, expired, nullRun, nullDigest int
	branches, artNames := map[string]bool{}, map[string]bool{}
	for _, repo := range names {
		for _, a := range s.Artifacts(repo) {
			total++
			if a.SizeInBytes >= 1<<30 {
				huge++
			}
			if a.Expired {
				expired++
			}
			if a.WorkflowRunID == 0 {
				nullRun++
			}
			if a.Digest == "" {
				nullDigest++
			}
			prefix, _, _ := strings.Cut(a.Branch, "/")
			branches[prefix] = true
			artNames[strings.TrimRight(a.Name, "0123456789")] = true
		}
	}
	if total != 3000 {
		t.Errorf("total = %d, want 3000", total)
	}
	if huge < 3 || expired < 300 || nullRun < 5 || nullDigest < 20 {
		t.Errorf("huge %d, expired %d, null run %d, null digest %d: want some of each", huge, expired, nullRun, nullDigest)
	}
	for _, b := range []string{"main", "release", "feature", "dependabot", "fix"} {
		if !branches[b] {
			t.Errorf("no %s branch", b)
		}
	}
	for _, n := range []string{"build-linux", "build-macos", "test-results-", "coverage-report", "docker-image", "playwright-report", "docs-site"} {
		if !artNames[n] {
			t.Errorf("no artifact named %s", n)
		}
	}
}
