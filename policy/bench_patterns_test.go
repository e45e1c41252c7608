package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkEvaluatePatterns is BenchmarkEvaluate with the repositories
// list written as patterns and an exclusion, which select the same four
// repositories: the selector is consulted once per distinct repository of
// the input, so the figures should match BenchmarkEvaluate's.
//
//	go test -run '^$' -bench 'BenchmarkEvaluate' -benchmem ./policy/
func BenchmarkEvaluatePatterns(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "bench.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	const plain = "repositories: [octo-org/api, octo-org/web, octo-org/mobile, octo-org/infra]"
	src := strings.Replace(string(data), plain, `repositories: ["octo-org/*", "!octo-org/legacy-*", "!octo-org/docs"]`, 1)
	if src == string(data) {
		b.Fatal("bench.yaml's repositories line changed")
	}
	p := mustParse(b, src)
	const n = 1_000_000
	arts := benchArtifacts(n)
	want := Evaluate(mustParse(b, string(data)), arts[:10_000], testNow)
	for i, d := range Evaluate(p, arts[:10_000], testNow) {
		if d != want[i] {
			b.Fatalf("decision %d differs with patterns: %+v, want %+v", i, d, want[i])
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(p, arts, testNow)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "artifacts/s")
}
