package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
)

// BenchmarkScanPath measures the repository scan path end to end: pages of
// 100 artifacts are staged with COPY and every 50 pages the scan is completed
// (merged into artifacts). Each parallel goroutine scans its own repository,
// as the scanner does with several repositories at once. Successive scans of
// a repository slide a 5,000-artifact window by one page, so a steady-state
// scan updates 4,900 artifacts, inserts 100 and marks 100 gone. One op is one
// page; the artifacts/s metric is the throughput across all goroutines.
func BenchmarkScanPath(b *testing.B) {
	const (
		pageSize     = 100
		pagesPerScan = 50
	)
	ctx := context.Background()
	st := newStore(b)
	var repoSeq atomic.Int64
	b.SetParallelism(2) // 2 × GOMAXPROCS repositories at once
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := repoSeq.Add(1)
		repo := artifact.Repository(fmt.Sprintf("bench/repo-%d", g))
		base := g * 1_000_000_000
		page := make([]artifact.Artifact, pageSize)
		var (
			scanNo, pageNo int
			scanID         int64
			started        time.Time
		)
		startNext := func() {
			started = t0.Add(time.Duration(scanNo) * time.Hour)
			id, err := st.StartScan(ctx, store.NewScan{Repository: repo, Kind: store.ScanKindRepository, StartedAt: started})
			if err != nil {
				b.Fatal(err)
			}
			scanID, pageNo = id, 0
		}
		finish := func() {
			r := store.ScanResult{Pages: pageNo, Requests: pageNo, TotalCount: pageNo * pageSize, FinishedAt: started.Add(time.Minute)}
			if _, err := st.CompleteScan(ctx, scanID, r); err != nil {
				b.Fatal(err)
			}
			scanNo++
		}
		startNext()
		for pb.Next() {
			first := base + int64(scanNo*pageSize+pageNo*pageSize) + 1
			for i := range page {
				page[i] = fullArtifact(repo, first+int64(i))
			}
			if err := st.StageArtifacts(ctx, scanID, started.Add(time.Duration(pageNo+1)*time.Second), page); err != nil {
				b.Fatal(err)
			}
			pageNo++
			if pageNo == pagesPerScan {
				finish()
				startNext()
			}
		}
		finish()
	})
	b.ReportMetric(float64(b.N*pageSize)/b.Elapsed().Seconds(), "artifacts/s")
}
