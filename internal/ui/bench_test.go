package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/ui"
)

// BenchmarkRunPage renders the page of a run of 100,000 decisions (beside
// an older run of as many), as a reader gets it over HTTP: the first page,
// a page deep in the run, and a filter that matches 1% of it. The breakdown
// of a finished run is computed on the first view and kept; "first_view"
// pays for it each time.
func BenchmarkRunPage(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var run int64
	for i := range 2 {
		id, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: store.TriggerManual, DryRun: true, PolicySHA256: "x", MaxDeletions: 500})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Pool().Exec(ctx, `
			INSERT INTO audit_log (run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes, branch,
				action, rule, reason, outcome, expired)
			SELECT $1, $2, 'bench/repo-' || (g % 20), g, 'build-' || (g % 7), 1000 + g, 'main',
			       CASE WHEN g % 3 = 0 THEN 'delete' ELSE 'keep' END,
			       CASE WHEN g % 100 = 0 THEN 'rare' WHEN g % 3 = 0 THEN 'stale' ELSE 'keep-latest' END,
			       'because', CASE WHEN g % 3 = 0 THEN 'dry_run' ELSE 'kept' END, false
			FROM generate_series($3::bigint * 1000000 + 1, $3::bigint * 1000000 + $4) g`, id, t0, i, n); err != nil {
			b.Fatal(err)
		}
		if err := st.FinishRun(ctx, id, store.RunTotals{FinishedAt: t0.Add(time.Minute), Status: store.RunSucceeded}); err != nil {
			b.Fatal(err)
		}
		run = id
	}
	if _, err := st.Pool().Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	var mid int64
	if err := st.Pool().QueryRow(ctx, `SELECT id FROM audit_log WHERE run_id = $1 ORDER BY id OFFSET $2 LIMIT 1`, run, n*9/10).Scan(&mid); err != nil {
		b.Fatal(err)
	}
	get := func(b *testing.B, h http.Handler, path string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", path, rec.Code)
		}
	}
	opts := ui.Options{Store: st, Clock: clock.NewFake(t0)}
	warm := ui.Handler(opts)
	for _, c := range []struct{ name, path string }{
		{"first_page", fmt.Sprintf("/runs/%d", run)},
		{"page_at_90pct", fmt.Sprintf("/runs/%d?after=%d", run, mid)},
		{"filter_1pct", fmt.Sprintf("/runs/%d?rule=rare", run)},
		{"filter_repository_deletes", fmt.Sprintf("/runs/%d?repository=bench/repo-3&action=delete", run)},
		{"runs", "/"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				get(b, warm, c.path)
			}
		})
	}
	b.Run("first_view", func(b *testing.B) {
		for b.Loop() {
			get(b, ui.Handler(opts), fmt.Sprintf("/runs/%d", run)) // a new handler: no breakdown kept
		}
	})
}
