package policy

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
)

// benchArtifacts builds n artifacts shaped like a busy organisation's:
// four repositories, listed a repository at a time, newest id first; runs
// of five artifacts sharing a head SHA; 20 names; 2,000 branches, a few of
// them main and release branches; sizes from bytes to gigabytes; created
// over 90 days, not monotonic in id; some expired.
func benchArtifacts(n int) []artifact.Artifact {
	rng := rand.New(rand.NewPCG(1, 2))
	repos := []string{"octo-org/api", "octo-org/web", "octo-org/mobile", "octo-org/infra"}
	names := []string{
		"build", "build-linux", "build-darwin", "build-windows", "dist-linux", "dist-darwin", "sbom-spdx",
		"test-results-unit", "test-results-e2e", "test-results-integration", "coverage-go", "coverage-js",
		"nightly-apk", "nightly-ipa", "signed-bundle", "logs", "trace", "screenshots", "bench", "docs",
	}
	branches := make([]string, 2000)
	for i := range branches {
		switch {
		case i < 20:
			branches[i] = "main"
		case i < 60:
			branches[i] = fmt.Sprintf("release/%d.%d", i/10, i%10)
		default:
			branches[i] = fmt.Sprintf("feature/user%d/topic-%d", i%97, i)
		}
	}
	arts := make([]artifact.Artifact, n)
	perRepo := n / len(repos)
	for i := range arts {
		run := i / 5
		r := min(i/perRepo, len(repos)-1)
		arts[i] = artifact.Artifact{
			ID:          int64(n - i),
			Repository:  artifact.Repository(repos[r]),
			Name:        names[rng.IntN(len(names))],
			SizeInBytes: int64(1) << rng.IntN(31),
			Expired:     rng.IntN(10) == 0,
			CreatedAt:   testNow.Add(-time.Duration(rng.Int64N(int64(90 * day)))),
			Branch:      branches[(run*7919)%len(branches)],
			HeadSHA:     fmt.Sprintf("%040x", run),
		}
	}
	return arts
}

// BenchmarkEvaluate measures a million artifacts against testdata/bench.yaml
// (10 rules, two of them keep_latest, one grouping by name and branch).
//
//	go test -run '^$' -bench BenchmarkEvaluate -benchmem ./policy/
func BenchmarkEvaluate(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "bench.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	p := mustParse(b, string(data))
	if len(p.Rules) != 10 {
		b.Fatalf("bench policy has %d rules", len(p.Rules))
	}
	const n = 1_000_000
	arts := benchArtifacts(n)
	b.ReportAllocs()
	var ds []Decision
	for b.Loop() {
		ds = Evaluate(p, arts, testNow)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "artifacts/s")
	deleted := 0
	for _, d := range ds {
		if d.Action == Delete {
			deleted++
		}
	}
	b.ReportMetric(float64(deleted), "deleted")
}
