package githubsim

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
)

// GenerateOptions shapes a generated data set. Zero fields take the defaults
// in brackets.
type GenerateOptions struct {
	Seed                   uint64        // random seed; the same options give the same data [0]
	Owner                  string        // repositories are <Owner>/repo-000, ... ["acme"]
	Repositories           int           // [1]
	ArtifactsPerRepository int           // [100]
	Now                    time.Time     // newest artifacts are just before it [the Clock's now]
	Span                   time.Duration // created_at spreads over [Now-Span, Now) [120 days]
	Retention              time.Duration // expires_at = created_at + Retention, at most 30 days for half the runs off main [90 days]
}

// Generate adds opts.Repositories × opts.ArtifactsPerRepository artifacts and
// returns the repository names. The data looks like DemoOrg's (see generate
// and DemoOrg); 200,000 artifacts take well under a second.
func (s *Server) Generate(opts GenerateOptions) []artifact.Repository {
	if opts.Owner == "" {
		opts.Owner = "acme"
	}
	opts.Repositories = max(opts.Repositories, 1)
	if opts.ArtifactsPerRepository <= 0 {
		opts.ArtifactsPerRepository = 100
	}
	names := make([]string, opts.Repositories)
	counts := make([]int, opts.Repositories)
	for i := range names {
		names[i] = fmt.Sprintf("%s/repo-%03d", opts.Owner, i)
		counts[i] = opts.ArtifactsPerRepository
	}
	s.generate(opts, names, counts)
	return repositories(names)
}

// DemoOrg seeds the organisation `retentiond demo` runs against and returns
// its repository names: octo-org/api (1,200 artifacts), octo-org/web (900),
// octo-org/mobile (500), octo-org/infra (250) and octo-org/docs (150), 3,000 in all
// (about 200 GB), created over the 120 days before now. Runs upload several
// artifacts each on main, release/x.y, feature/*, fix/* and dependabot/*
// branches: build-linux, build-macos, build-windows, test-results-<n>,
// coverage-report, playwright-report, playwright-traces, docs-site and
// docker-image (about 50 of those, 1-4.5 GB each). Retention is 90 days, or
// 30 days for half the runs off main, so over a third are expired. About 1%
// have "workflow_run": null and about 3% a null digest. Same now, same data.
func (s *Server) DemoOrg(now time.Time) []artifact.Repository {
	names := []string{"octo-org/api", "octo-org/web", "octo-org/mobile", "octo-org/infra", "octo-org/docs"}
	counts := []int{1200, 900, 500, 250, 150}
	s.generate(GenerateOptions{Seed: 20260101, Now: now}, names, counts)
	s.demoBranches(names)
	return repositories(names)
}

// runKind is a workflow and the artifacts one of its runs uploads.
type runKind int

const (
	kindCI runKind = iota
	kindE2E
	kindDocs
	kindRelease
)

var (
	featureWords = []string{"login", "checkout", "search", "dark-mode", "payments", "onboarding", "cache",
		"i18n", "metrics", "billing", "sso", "upload", "export", "graphql", "perf"}
	dependabotBranches = []string{
		"dependabot/npm_and_yarn/lodash-4.17.21",
		"dependabot/npm_and_yarn/vite-6.3.5",
		"dependabot/go_modules/golang.org/x/net-0.38.0",
		"dependabot/github_actions/actions/upload-artifact-4",
		"dependabot/docker/alpine-3.21",
		"dependabot/pip/requests-2.32.4",
	}
	releaseBranches = []string{"release/1.8", "release/1.9", "release/2.0", "release/2.1"}
	testResultNames = []string{"test-results-1", "test-results-2", "test-results-3", "test-results-4"}
)

// sizeRange is a log-uniform size distribution in bytes.
type sizeRange struct{ lo, hi float64 }

var sizes = map[string]sizeRange{
	"build-linux":       {20e6, 150e6},
	"build-macos":       {30e6, 200e6},
	"build-windows":     {40e6, 250e6},
	"coverage-report":   {1e6, 15e6},
	"playwright-report": {2e6, 80e6},
	"playwright-traces": {20e6, 400e6},
	"docs-site":         {3e6, 30e6},
	"docker-image":      {1e9, 4.5e9},
}

func sizeOf(rng *rand.Rand, name string) int64 {
	r, ok := sizes[name]
	if !ok { // test results
		r = sizeRange{20e3, 3e6}
	}
	return int64(math.Exp(math.Log(r.lo) + rng.Float64()*(math.Log(r.hi)-math.Log(r.lo))))
}

// generate adds counts[i] artifacts to names[i]. Runs are spread evenly over
// the span, each in a repository picked in proportion to what it still
// needs, so every repository covers the whole span and ids interleave across
// repositories as they do on GitHub. Ids increase with time but created_at
// jitters by up to ±20 minutes, so it is not monotonic in id order, as on
// GitHub. Digests are computed lazily.
func (s *Server) generate(opts GenerateOptions, names []string, counts []int) {
	if opts.Now.IsZero() {
		opts.Now = s.clock.Now()
	}
	if opts.Span <= 0 {
		opts.Span = 120 * 24 * time.Hour
	}
	if opts.Retention <= 0 {
		opts.Retention = 90 * 24 * time.Hour
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))

	s.mu.Lock()
	defer s.mu.Unlock()
	repos := make([]*repository, len(names))
	remaining := slices.Clone(counts)
	total, left := 0, 0
	added := make([][]*entry, len(names))
	for i, n := range names {
		repos[i] = s.ensureRepoLocked(n, mustParseRepository(n, "Generate"), 0)
		total += counts[i]
		added[i] = make([]*entry, 0, counts[i])
	}
	left = total
	if len(s.owner) == 0 {
		s.owner = make(map[int64]*repository, total)
	}
	// One allocation for all entries rather than one each.
	pool := make([]entry, total)
	start := opts.Now.Add(-opts.Span)
	var sha [20]byte
	var artNames []string
	for left > 0 {
		ri := pickWeighted(rng, remaining, left)
		repo := repos[ri]
		frac := float64(total-left) / float64(total)
		runAt := start.Add(time.Duration(frac * float64(opts.Span)))
		runAt = runAt.Add(time.Duration(rng.Int64N(int64(40*time.Minute))) - 20*time.Minute)
		if latest := opts.Now.Add(-10 * time.Minute); runAt.After(latest) {
			runAt = latest
		}

		kind := pickKind(rng)
		branch := pickBranch(rng, kind)
		artNames = runArtifacts(rng, kind, artNames[:0])
		artNames = artNames[:min(len(artNames), remaining[ri])]

		s.nextRunID += 1 + rng.Int64N(40)
		runID := s.nextRunID
		for i := range sha {
			sha[i] = byte(rng.Uint32())
		}
		headSHA := hex.EncodeToString(sha[:])
		retention := opts.Retention
		if branch != "main" && rng.IntN(2) == 0 {
			retention = min(retention, 30*24*time.Hour)
		}
		nullRun := rng.IntN(100) == 0

		at := runAt
		for _, name := range artNames {
			at = at.Add(time.Duration(5+rng.IntN(85)) * time.Second)
			id := s.nextArtifactID
			s.nextArtifactID++
			a := artifact.Artifact{
				ID:          id,
				Repository:  artifact.Repository(repo.key),
				NodeID:      nodeID(id),
				Name:        name,
				SizeInBytes: sizeOf(rng, name),
				CreatedAt:   at.UTC().Truncate(time.Second),
				UpdatedAt:   at.UTC().Truncate(time.Second).Add(time.Duration(rng.IntN(3)) * time.Second),
				ExpiresAt:   at.UTC().Truncate(time.Second).Add(retention),
			}
			a.Expired = !a.ExpiresAt.After(opts.Now)
			if !nullRun {
				a.WorkflowRunID = runID
				a.RepositoryID = repo.id
				a.HeadRepositoryID = repo.id
				a.Branch = branch
				a.HeadSHA = headSHA
			}
			e := &pool[0]
			pool = pool[1:]
			e.a, e.lazyDigest = a, rng.IntN(100) >= 3
			added[ri] = append(added[ri], e)
		}
		remaining[ri] -= len(artNames)
		left -= len(artNames)
	}
	for i, repo := range repos {
		s.bulkAddLocked(repo, added[i])
	}
}

// bulkAddLocked adds fresh entries (ids unused so far) to repo and rebuilds
// its indexes once, instead of inserting one by one.
func (s *Server) bulkAddLocked(repo *repository, entries []*entry) {
	if len(entries) == 0 {
		return
	}
	for _, e := range entries {
		s.owner[e.a.ID] = repo
	}
	repo.arts = append(repo.arts, entries...)
	slices.SortFunc(repo.arts, func(a, b *entry) int { return cmp.Compare(b.a.ID, a.a.ID) })
	clear(repo.byName)
	for run, list := range repo.byRun {
		repo.byRun[run] = list[:0]
	}
	for _, e := range repo.arts {
		repo.byName[e.a.Name] = append(repo.byName[e.a.Name], e)
		if run := e.a.WorkflowRunID; run != 0 {
			repo.byRun[run] = append(repo.byRun[run], e)
		}
	}
	repo.version++
}

// pickWeighted picks index i with probability weights[i]/sum.
func pickWeighted(rng *rand.Rand, weights []int, sum int) int {
	n := rng.IntN(sum)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func pickKind(rng *rand.Rand) runKind {
	switch n := rng.IntN(100); {
	case n < 62:
		return kindCI
	case n < 82:
		return kindE2E
	case n < 96:
		return kindDocs
	default:
		return kindRelease
	}
}

func pickBranch(rng *rand.Rand, kind runKind) string {
	n := rng.IntN(100)
	if kind == kindRelease {
		n %= 60 // releases build from main or release branches only
	}
	switch {
	case n < 50:
		return "main"
	case n < 60:
		return releaseBranches[rng.IntN(len(releaseBranches))]
	case n < 82:
		return "feature/" + featureWords[rng.IntN(len(featureWords))]
	case n < 87:
		return "fix/" + featureWords[rng.IntN(len(featureWords))] + "-" + strconv.Itoa(100+rng.IntN(900))
	default:
		return dependabotBranches[rng.IntN(len(dependabotBranches))]
	}
}

// runArtifacts appends the artifact names one run of kind uploads.
func runArtifacts(rng *rand.Rand, kind runKind, out []string) []string {
	switch kind {
	case kindE2E:
		out = append(out, "playwright-report")
		if rng.IntN(10) < 3 {
			out = append(out, "playwright-traces")
		}
	case kindDocs:
		out = append(out, "docs-site")
	case kindRelease:
		out = append(out, "build-linux", "docker-image")
	default:
		out = append(out, "build-linux")
		if rng.IntN(2) == 0 {
			out = append(out, "build-macos")
		}
		if rng.IntN(5) == 0 {
			out = append(out, "build-windows")
		}
		out = append(out, testResultNames[:1+rng.IntN(len(testResultNames))]...)
		if rng.IntN(10) < 6 {
			out = append(out, "coverage-report")
		}
	}
	return out
}
