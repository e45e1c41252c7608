package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
)

// seedDecisions records a finished dry-run with n decisions spread over 20
// repositories and three rules (rule "rare" on 1% of them), as a run writes
// them, and returns its id.
func seedDecisions(tb testing.TB, st *store.Store, n int) int64 {
	tb.Helper()
	ctx := context.Background()
	id, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: store.TriggerManual, DryRun: true, PolicySHA256: "x", MaxDeletions: 500})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.EnsureAuditPartitions(ctx, t0); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `
		INSERT INTO audit_log (run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes, branch,
			action, rule, reason, outcome, expired)
		SELECT $1, $2, 'bench/repo-' || (g % 20), g, 'build-' || (g % 7), 1000 + g, 'main',
		       CASE WHEN g % 3 = 0 THEN 'delete' ELSE 'keep' END,
		       CASE WHEN g % 100 = 0 THEN 'rare' WHEN g % 3 = 0 THEN 'stale' ELSE 'keep-latest' END,
		       'because', CASE WHEN g % 3 = 0 THEN 'dry_run' ELSE 'kept' END, false
		FROM generate_series(1, $3) g`, id, t0, n); err != nil {
		tb.Fatalf("seeding %d decisions: %v", n, err)
	}
	if err := st.FinishRun(ctx, id, store.RunTotals{FinishedAt: t0.Add(time.Minute), Status: store.RunSucceeded}); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `ANALYZE audit_log`); err != nil {
		tb.Fatal(err)
	}
	return id
}

func countRows(tb testing.TB, st *store.Store, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

// Walking the pages of a filter visits each matching decision of the run
// once, in id order, and nothing of another run.
func TestReviewDecisionsKeyset(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	seedDecisions(t, st, 300)
	run := seedDecisions(t, st, 700)
	seedDecisions(t, st, 300)
	for _, tc := range []struct {
		name  string
		page  store.DecisionPage
		where string
	}{
		{"all", store.DecisionPage{}, "true"},
		{"repository", store.DecisionPage{Repository: "bench/repo-3"}, "repository = 'bench/repo-3'"},
		{"rule", store.DecisionPage{Rule: "rare"}, "rule = 'rare'"},
		{"action", store.DecisionPage{Action: store.ActionDelete}, "action = 'delete'"},
		{"outcome and repository", store.DecisionPage{Outcome: store.OutcomeKept, Repository: "bench/repo-7"}, "outcome = 'kept' AND repository = 'bench/repo-7'"},
		{"nothing", store.DecisionPage{Rule: "Rare"}, "rule = 'Rare'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := countRows(t, st, `SELECT count(*) FROM audit_log WHERE run_id = $1 AND `+tc.where, run)
			b, err := st.ReviewBreakdown(ctx, run)
			if err != nil {
				t.Fatal(err)
			}
			if n := countRows(t, st, `SELECT count(*) FROM audit_log WHERE run_id = $1 AND id BETWEEN $2 AND $3`, run, b.FirstID, b.LastID); n != 700 {
				t.Fatalf("ids %d..%d hold %d of the run's 700 rows", b.FirstID, b.LastID, n)
			}
			p := tc.page
			p.RunID, p.Limit, p.After, p.Through = run, 50, b.FirstID-1, b.LastID
			var seen int
			last := int64(0)
			for {
				got, err := st.ReviewDecisions(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range got {
					if e.RunID != run || e.ID <= last {
						t.Fatalf("row %d of run %d after row %d", e.ID, e.RunID, last)
					}
					if (p.Repository != "" && e.Repository != p.Repository) || (p.Rule != "" && e.Rule != p.Rule) ||
						(p.Action != "" && e.Action != p.Action) || (p.Outcome != "" && e.Outcome != p.Outcome) {
						t.Fatalf("row %+v does not match %+v", e, p)
					}
					last = e.ID
				}
				seen += len(got)
				if len(got) < p.Limit {
					break
				}
				p.After = last
			}
			if seen != want {
				t.Errorf("%d decisions over the pages, want %d", seen, want)
			}
		})
	}
}

func TestReviewBreakdown(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	run := seedDecisions(t, st, 600)
	seedDecisions(t, st, 100)
	b, err := st.ReviewBreakdown(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.ByRule) != 3 || len(b.ByRepository) != 20 {
		t.Fatalf("%d rules, %d repositories; want 3 and 20", len(b.ByRule), len(b.ByRepository))
	}
	check := func(col string, gs []store.DecisionGroup) {
		var total int64
		for i, g := range gs {
			want := store.DecisionGroup{Key: g.Key}
			err := st.Pool().QueryRow(context.Background(), `
				SELECT count(*) FILTER (WHERE action = 'keep'), coalesce(sum(size_in_bytes) FILTER (WHERE action = 'keep'), 0),
				       count(*) FILTER (WHERE action = 'delete'), coalesce(sum(size_in_bytes) FILTER (WHERE action = 'delete'), 0)
				FROM audit_log WHERE run_id = $1 AND `+col+` = $2`, run, g.Key).Scan(&want.Kept, &want.KeptBytes, &want.Deletes, &want.DeleteBytes)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("by %s %s (-want +got):\n%s", col, g.Key, diff)
			}
			if i > 0 && gs[i-1].DeleteBytes < g.DeleteBytes {
				t.Errorf("by %s: %s before %s is not largest first", col, gs[i-1].Key, g.Key)
			}
			total += g.Kept + g.Deletes
		}
		if total != 600 {
			t.Errorf("by %s: %d decisions, want 600", col, total)
		}
	}
	check("rule", b.ByRule)
	check("repository", b.ByRepository)
}

func TestArtifactHistoryAndRecentRuns(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	var runs []int64
	for range 4 {
		runs = append(runs, seedDecisions(t, st, 10))
	}
	h, err := st.ArtifactHistory(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 4 || h[0].RunID != runs[0] || h[3].RunID != runs[3] || h[0].ArtifactID != 3 {
		t.Errorf("history of artifact 3: %+v", h)
	}
	page1, err := st.RecentRuns(ctx, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	page2, err := st.RecentRuns(ctx, page1[len(page1)-1].ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range append(page1, page2...) {
		got = append(got, r.ID)
	}
	if diff := cmp.Diff([]int64{runs[3], runs[2], runs[1], runs[0]}, got); diff != "" {
		t.Errorf("runs over two pages (-want +got):\n%s", diff)
	}
}

func TestStorageByRepository(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	now := t0.Add(48 * time.Hour)
	// id, repository, size, expired flag, expires_at offset from now (0: none), gone
	rows := []struct {
		repo    string
		size    int64
		expired bool
		expires time.Duration
		gone    bool
	}{
		{"a/big", 5000, false, 0, false},
		{"a/big", 3000, false, time.Hour, false},
		{"a/big", 9999, true, 0, false},           // expired: a listing, no storage
		{"a/big", 7777, false, -time.Hour, false}, // expires_at passed, flag not yet set
		{"a/big", 8888, false, 0, true},           // gone
		{"b/small", 100, false, 0, false},
		{"c/expired-only", 400, true, -time.Hour, false},
	}
	for i, r := range rows {
		var expiresAt, goneAt any
		if r.expires != 0 {
			expiresAt = now.Add(r.expires)
		}
		if r.gone {
			goneAt = now
		}
		if _, err := st.Pool().Exec(ctx, `INSERT INTO artifacts (id, repository, node_id, name, size_in_bytes, url, archive_download_url,
			expired, expires_at, first_seen_at, last_seen_at, gone_at) VALUES ($1, $2, '', 'x', $3, '', '', $4, $5, $6, $6, $7)`,
			i+1, r.repo, r.size, r.expired, expiresAt, t0, goneAt); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.StorageByRepository(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ReviewStorage{
		{Repository: "a/big", Artifacts: 4, Bytes: 8000, Expired: 2},
		{Repository: "b/small", Artifacts: 1, Bytes: 100},
		{Repository: "c/expired-only", Artifacts: 1, Bytes: 0, Expired: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("storage (-want +got):\n%s", diff)
	}
	if top, err := st.StorageByRepository(ctx, now, 1); err != nil || len(top) != 1 || top[0].Repository != artifact.Repository("a/big") {
		t.Errorf("top 1: %+v %v", top, err)
	}
}

// BenchmarkReview measures the review page's queries on a run of 100,000
// decisions, beside two other runs of as many: the first page, a page deep
// in the run (keyset: as cheap as the first), the first page without the
// run's id bounds, a filter matching 1% of the run and one matching nothing
// (the worst case: every row of the run is read), the grouping by rule and
// repository, and the runs list. It logs the plans of the page queries.
func BenchmarkReview(b *testing.B) {
	const n = 100_000
	st := newStore(b)
	ctx := context.Background()
	seedDecisions(b, st, n)
	run := seedDecisions(b, st, n)
	seedDecisions(b, st, n)
	var mid int64
	if err := st.Pool().QueryRow(ctx, `SELECT id FROM audit_log WHERE run_id = $1 ORDER BY id OFFSET $2 LIMIT 1`, run, n*9/10).Scan(&mid); err != nil {
		b.Fatal(err)
	}
	explain := func(name, q string, args ...any) {
		rows, err := st.Pool().Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+q, args...)
		if err != nil {
			b.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				b.Fatal(err)
			}
			lines = append(lines, l)
		}
		b.Logf("%s:\n%s", name, strings.Join(lines, "\n"))
	}
	bd, err := st.ReviewBreakdown(ctx, run)
	if err != nil {
		b.Fatal(err)
	}
	page := `SELECT id FROM audit_log WHERE run_id = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT 51`
	cases := []struct {
		name string
		fn   func() error
		plan func()
	}{
		{"first_page", func() error {
			_, err := st.ReviewDecisions(ctx, store.DecisionPage{RunID: run, After: bd.FirstID - 1, Through: bd.LastID, Limit: 51})
			return err
		}, func() { explain("first page", page, run, bd.FirstID-1, bd.LastID) }},
		{"first_page_unbounded", func() error {
			_, err := st.ReviewDecisions(ctx, store.DecisionPage{RunID: run, Limit: 51})
			return err
		}, nil},
		{"page_at_90pct", func() error {
			_, err := st.ReviewDecisions(ctx, store.DecisionPage{RunID: run, After: mid, Through: bd.LastID, Limit: 51})
			return err
		}, func() { explain("page at 90%", page, run, mid, bd.LastID) }},
		{"filter_1pct", func() error {
			_, err := st.ReviewDecisions(ctx, store.DecisionPage{RunID: run, Rule: "rare", After: bd.FirstID - 1, Through: bd.LastID, Limit: 51})
			return err
		}, func() {
			explain("rule matching 1%", `SELECT id FROM audit_log WHERE run_id = $1 AND id > $2 AND id <= $3 AND rule = 'rare' ORDER BY id LIMIT 51`, run, bd.FirstID-1, bd.LastID)
		}},
		{"filter_none", func() error {
			_, err := st.ReviewDecisions(ctx, store.DecisionPage{RunID: run, Rule: "no-such-rule", After: bd.FirstID - 1, Through: bd.LastID, Limit: 51})
			return err
		}, nil},
		{"breakdown", func() error {
			_, err := st.ReviewBreakdown(ctx, run)
			return err
		}, nil},
		{"runs", func() error {
			_, err := st.RecentRuns(ctx, 0, 51)
			return err
		}, nil},
	}
	for _, c := range cases {
		if c.plan != nil {
			c.plan()
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.fn(); err != nil {
					b.Fatal(fmt.Errorf("%s: %w", c.name, err))
				}
			}
		})
	}
}
