// Command auditsize measures the audit log at org scale and prints the
// figures the README quotes:
//
//   - growth: the database growth per steady-state hourly run over
//     -artifacts artifacts in -repos repositories where -change of them
//     change per hour, written the 0004 way (a row per artifact per run)
//     and the 0005 way (store.InsertAudit, InsertPending, ResolveAudit);
//   - queries: the time of `audit --artifact` (store.ArtifactHistory) and of
//     the README's review queries over -history historical rows, and of a
//     prune of one month's partition.
//
// It creates its own databases (auditsize_0004, auditsize_0005,
// auditsize_history) on DATABASE_URL's server and drops them at the end
// unless -keep. Run it under withpostgres:
//
//	go run ./internal/tools/withpostgres -- go run ./internal/tools/auditsize
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/migrations"
)

func main() {
	artifacts := flag.Int("artifacts", 200_000, "artifacts in the organisation")
	repos := flag.Int("repos", 50, "repositories")
	change := flag.Float64("change", 0.01, "share of artifacts that change per hour (half deleted, half new)")
	runs := flag.Int("runs", 3, "steady-state runs measured (after two warm-up runs)")
	history := flag.Int("history", 10_000_000, "historical audit rows for the query timings (0 skips them)")
	only := flag.String("only", "growth,queries", "which measurements: growth, queries")
	keep := flag.Bool("keep", false, "keep the databases")
	flag.Parse()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		log.Fatal("DATABASE_URL is not set; run under go run ./internal/tools/withpostgres --")
	}
	ctx := context.Background()
	cfg := org{artifacts: *artifacts, repos: *repos, change: int(float64(*artifacts) * *change)}
	if strings.Contains(*only, "growth") {
		fmt.Printf("growth per hourly run: %d artifacts, %d repositories, %d changes per hour (%d deleted, %d new, %d new ones kept by another rule an hour later)\n",
			cfg.artifacts, cfg.repos, cfg.change, cfg.change/2, cfg.change/2, cfg.change/2)
		before := growth(ctx, url, cfg, *runs, false, *keep)
		after := growth(ctx, url, cfg, *runs, true, *keep)
		report("0004 (a row per artifact per run)", before)
		report("0005 (compact)", after)
	}
	if strings.Contains(*only, "queries") && *history > 0 {
		queries(ctx, url, cfg, *history, *keep)
	}
}

type org struct{ artifacts, repos, change int }

type sample struct {
	rows                int64
	auditBytes, dbBytes int64
	writeTime           time.Duration
}

func report(name string, s []sample) {
	var rows, audit, db int64
	var dur time.Duration
	for _, x := range s {
		rows, audit, db, dur = rows+x.rows, audit+x.auditBytes, db+x.dbBytes, dur+x.writeTime
	}
	n := int64(len(s))
	fmt.Printf("  %-36s %9d rows/run  audit tables +%6.2f MB/run  database +%6.2f MB/run  writes %v/run\n",
		name, rows/n, float64(audit)/float64(n)/1e6, float64(db)/float64(n)/1e6, (dur / time.Duration(n)).Round(time.Millisecond))
}

func mustOpen(ctx context.Context, adminURL, name string) *store.Store {
	u, err := store.RecreateDatabase(ctx, adminURL, name)
	if err != nil {
		log.Fatal(err)
	}
	st, err := store.Open(ctx, u)
	if err != nil {
		log.Fatal(err)
	}
	return st
}

func drop(ctx context.Context, adminURL, name string) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
		log.Fatal(err)
	}
}

// schema0004 applies migrations 0001-0004 as the released binary did.
func schema0004(ctx context.Context, st *store.Store) {
	names, _ := fs.Glob(migrations.FS, "000[1-4]_*.sql")
	sort.Strings(names)
	for _, n := range names {
		body, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := st.Pool().Exec(ctx, string(body)); err != nil {
			log.Fatalf("%s: %v", n, err)
		}
	}
}

type art struct {
	id   int64
	repo artifact.Repository
	rule string
}

func repoName(i int) artifact.Repository {
	return artifact.Repository(fmt.Sprintf("acme/repo-%02d", i))
}

func seedArtifacts(ctx context.Context, st *store.Store, cfg org, at time.Time) []art {
	arts := make([]art, cfg.artifacts)
	for i := range arts {
		arts[i] = art{id: int64(1_000_000 + i), repo: repoName(i % cfg.repos), rule: "keep-latest"}
	}
	insertArtifacts(ctx, st, arts, at)
	return arts
}

func insertArtifacts(ctx context.Context, st *store.Store, arts []art, at time.Time) {
	_, err := st.Pool().CopyFrom(ctx, pgx.Identifier{"artifacts"},
		[]string{"id", "repository", "node_id", "name", "size_in_bytes", "url", "archive_download_url", "expired", "created_at", "first_seen_at", "last_seen_at", "branch", "head_sha"},
		pgx.CopyFromSlice(len(arts), func(i int) ([]any, error) {
			a := arts[i]
			return []any{a.id, string(a.repo), fmt.Sprintf("MDg6QXJ0aWZhY3Q%d", a.id), "test-results-linux", int64(5_000_000), "https://api.github.com/repos/x/actions/artifacts/1",
				"https://api.github.com/repos/x/actions/artifacts/1/zip", false, at, at, at, "main", "0123456789abcdef0123456789abcdef01234567"}, nil
		}))
	if err != nil {
		log.Fatal(err)
	}
}

func entryOf(run int64, at time.Time, a art) store.AuditEntry {
	e := store.AuditEntry{RunID: run, RecordedAt: at, Repository: a.repo, ArtifactID: a.id, ArtifactName: "test-results-linux",
		SizeInBytes: 5_000_000, Branch: "main", HeadSHA: "0123456789abcdef0123456789abcdef01234567", ArtifactCreatedAt: at,
		Action: store.ActionKeep, Rule: a.rule, Reason: "kept by " + a.rule + ": among the 10 newest of its name on main", Outcome: store.OutcomeKept}
	if a.rule == "" {
		e.Reason = "younger than safety.min_age 24h"
	}
	return e
}

// growth plays 2 + runs hourly runs and returns the growth of each run
// after the first two: the first records everything, the second has no
// artifacts yet that aged past min_age.
func growth(ctx context.Context, adminURL string, cfg org, runs int, compact, keep bool) []sample {
	name := "auditsize_0004"
	if compact {
		name = "auditsize_0005"
	}
	st := mustOpen(ctx, adminURL, name)
	defer func() {
		st.Close()
		if !keep {
			drop(ctx, adminURL, name)
		}
	}()
	if compact {
		if err := st.Migrate(ctx); err != nil {
			log.Fatal(err)
		}
	} else {
		schema0004(ctx, st)
	}
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	arts := seedArtifacts(ctx, st, cfg, t0.Add(-30*24*time.Hour))
	rng := rand.New(rand.NewPCG(1, 2))
	next := int64(1_000_000 + cfg.artifacts)
	var out []sample
	for r := 0; r <= runs+1; r++ {
		at := t0.Add(time.Duration(r) * time.Hour)
		runID, err := st.CreateRun(ctx, store.NewRun{StartedAt: at, Trigger: store.TriggerSchedule, PolicySHA256: "x", MaxDeletions: 500})
		if err != nil {
			log.Fatal(err)
		}
		var victims, fresh []art
		if r > 0 {
			// The new artifacts of the last run are past min_age now.
			for i := range arts {
				if arts[i].rule == "" {
					arts[i].rule = "keep-recent"
				}
			}
			// Half the changes are deletions of random artifacts, half new ones.
			rng.Shuffle(len(arts), func(i, j int) { arts[i], arts[j] = arts[j], arts[i] })
			victims = append(victims, arts[:cfg.change/2]...)
			arts = arts[cfg.change/2:]
			for i := 0; i < cfg.change/2; i++ {
				fresh = append(fresh, art{id: next, repo: repoName(int(next) % cfg.repos)})
				next++
			}
			insertArtifacts(ctx, st, fresh, at)
			arts = append(arts, fresh...)
		}
		aBefore, dBefore, nBefore := sizes(ctx, st)
		start := time.Now()
		// Keeps repository by repository, as the runner records them.
		byRepo := map[artifact.Repository][]store.AuditEntry{}
		for _, a := range arts {
			byRepo[a.repo] = append(byRepo[a.repo], entryOf(runID, at, a))
		}
		for _, entries := range byRepo {
			if compact {
				err = st.InsertAudit(ctx, entries)
			} else {
				err = copy0004(ctx, st, entries)
			}
			if err != nil {
				log.Fatal(err)
			}
		}
		for _, v := range victims {
			e := entryOf(runID, at, v)
			e.Action, e.Rule, e.Reason, e.Outcome = store.ActionDelete, "old-test-results", "older than 7d", store.OutcomePending
			if compact {
				id, err := st.InsertPending(ctx, e)
				if err != nil {
					log.Fatal(err)
				}
				err = st.ResolveAudit(ctx, id, store.Resolution{Outcome: store.OutcomeDeleted, HTTPStatus: 204, ExecutedAt: at, MarkGone: true})
				if err != nil {
					log.Fatal(err)
				}
			} else if err := delete0004(ctx, st, e, at); err != nil {
				log.Fatal(err)
			}
		}
		elapsed := time.Since(start)
		aAfter, dAfter, nAfter := sizes(ctx, st)
		// Run 1 is not steady yet: nothing aged past min_age since run 0.
		if r > 1 {
			out = append(out, sample{rows: nAfter - nBefore, auditBytes: aAfter - aBefore, dbBytes: dAfter - dBefore, writeTime: elapsed})
		}
	}
	return out
}

var cols0004 = []string{"run_id", "recorded_at", "repository", "artifact_id", "artifact_name", "size_in_bytes", "branch", "head_sha",
	"artifact_created_at", "action", "rule", "reason", "outcome", "expired"}

func row0004(e store.AuditEntry) []any {
	return []any{e.RunID, e.RecordedAt, string(e.Repository), e.ArtifactID, e.ArtifactName, e.SizeInBytes, e.Branch, e.HeadSHA,
		e.ArtifactCreatedAt, string(e.Action), e.Rule, e.Reason, string(e.Outcome), e.Expired}
}

// copy0004 is the 0004 release's InsertAudit: every entry, by COPY.
func copy0004(ctx context.Context, st *store.Store, entries []store.AuditEntry) error {
	_, err := st.Pool().CopyFrom(ctx, pgx.Identifier{"audit_log"}, cols0004, pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) {
		return row0004(entries[i]), nil
	}))
	return err
}

// delete0004 is the 0004 release's intent and resolution of one deletion.
func delete0004(ctx context.Context, st *store.Store, e store.AuditEntry, at time.Time) error {
	var id int64
	if err := st.Pool().QueryRow(ctx, `INSERT INTO audit_log (`+strings.Join(cols0004, ", ")+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`, row0004(e)...).Scan(&id); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, st.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE audit_log SET outcome = 'deleted', http_status = 204, executed_at = $2 WHERE id = $1`, id, at); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE artifacts SET gone_at = $2 WHERE id = $1`, e.ArtifactID, at)
		return err
	})
}

// sizes returns the bytes of the audit relations (tables, indexes, TOAST;
// every partition), of the whole database, and the audit_log row count.
func sizes(ctx context.Context, st *store.Store) (audit, db, rows int64) {
	err := st.Pool().QueryRow(ctx, `
		SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint, pg_database_size(current_database()),
		       (SELECT count(*) FROM audit_log)
		FROM pg_class c
		WHERE c.relkind = 'r' AND (c.relname LIKE 'audit\_%' OR c.relname = 'audit_log')`).Scan(&audit, &db, &rows)
	if err != nil {
		log.Fatal(err)
	}
	return audit, db, rows
}

// queries fills a 0005 database with history rows: an initial run that
// records every artifact, then hourly runs each writing what a steady
// state writes (per run: 1,000 deletions, 1% of them failed, 2,000 keeps),
// the last a dry-run with 1,000 would-deletes; then times the reads.
func queries(ctx context.Context, adminURL string, cfg org, history int, keep bool) {
	const name = "auditsize_history"
	st := mustOpen(ctx, adminURL, name)
	defer func() {
		st.Close()
		if !keep {
			drop(ctx, adminURL, name)
		}
	}()
	if err := st.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	perRun := cfg.change * 3 / 2
	nRuns := max((history-cfg.artifacts)/perRun, 1)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := t0.Add(time.Duration(nRuns) * time.Hour)
	fmt.Printf("\nqueries over %d audit rows: %d artifacts, then %d hourly runs of %d rows (%s to %s)\n",
		cfg.artifacts+nRuns*perRun, cfg.artifacts, nRuns, perRun, t0.Format("2006-01-02"), end.Format("2006-01-02"))
	insertArtifacts(ctx, st, seedArtifactsList(cfg), t0)
	for m := t0; m.Before(end.AddDate(0, 1, 0)); m = m.AddDate(0, 1, 0) {
		if _, err := st.EnsureAuditPartitions(ctx, m); err != nil {
			log.Fatal(err)
		}
	}
	// One connection for the generation: session_replication_role below is
	// a session setting.
	conn, err := st.Pool().Acquire(ctx)
	if err != nil {
		log.Fatal(err)
	}
	exec := func(what, sql string, args ...any) {
		start := time.Now()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			log.Fatalf("%s: %v", what, err)
		}
		fmt.Printf("  generated %s in %v\n", what, time.Since(start).Round(time.Millisecond))
	}
	exec("runs", `INSERT INTO runs (id, started_at, finished_at, trigger, dry_run, status, policy_sha256, max_deletions, artifacts_seen, kept, planned_deletions, deleted)
		SELECT r, $1::timestamptz + (r - 1) * interval '1 hour', $1::timestamptz + (r - 1) * interval '1 hour' + interval '2 minutes',
		       'schedule', r = $2, 'succeeded', 'x', 1000, $3, $3 - 1000, 1000, CASE WHEN r = $2 THEN 0 ELSE 1000 END
		FROM generate_series(1, $2) r`, t0, nRuns, cfg.artifacts)
	exec("audit_evaluations", `INSERT INTO audit_evaluations (run_id, repository, evaluated_at)
		SELECT r, 'acme/repo-' || lpad(p::text, 2, '0'), $1::timestamptz + (r - 1) * interval '1 hour' + interval '1 minute'
		FROM generate_series(1, $2) r, generate_series(0, $3 - 1) p`, t0, nRuns, cfg.repos)
	exec("the first run's rows", `INSERT INTO audit_log (run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes, branch, head_sha,
		  artifact_created_at, action, rule, reason, outcome, expired)
		SELECT 1, a.first_seen_at + interval '1 minute', a.repository, a.id, a.name, a.size_in_bytes, a.branch, a.head_sha, a.created_at,
		       'keep', 'keep-latest', 'kept by keep-latest: among the 10 newest of its name on main', 'kept', false
		FROM artifacts a ORDER BY a.id`)
	// The runs' rows, a month of runs per statement. Generated with the
	// triggers off (the per-row foreign-key check on run_id and the
	// append-only guard, which never fires on INSERT): it needs a superuser,
	// and it only changes how fast the history is made, not what it is.
	exec("triggers off", `SET session_replication_role = replica`)
	for lo := 1; lo <= nRuns; lo += 720 {
		hi := min(lo+719, nRuns)
		exec(fmt.Sprintf("runs %d-%d", lo, hi), `INSERT INTO audit_log (run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes, branch, head_sha,
		  artifact_created_at, action, rule, reason, outcome, http_status, error, executed_at, expired)
		SELECT r, t, 'acme/repo-' || lpad((i % $4)::text, 2, '0'), 100000000 + r::bigint * 10000 + i, 'test-results-linux', 5000000, 'main',
		       '0123456789abcdef0123456789abcdef01234567', t - interval '8 days',
		       CASE WHEN i <= $5 THEN 'delete' ELSE 'keep' END,
		       CASE WHEN i <= $5 THEN 'old-test-results' ELSE 'keep-recent' END,
		       CASE WHEN i <= $5 THEN 'older than 7d' ELSE 'kept by keep-recent: created less than 7d ago' END,
		       CASE WHEN i > $5 THEN 'kept' WHEN r = $6 THEN 'dry_run' WHEN i % 100 = 0 THEN 'failed' ELSE 'deleted' END,
		       CASE WHEN i > $5 OR r = $6 THEN NULL WHEN i % 100 = 0 THEN 502 ELSE 204 END,
		       CASE WHEN i <= $5 AND r <> $6 AND i % 100 = 0 THEN 'HTTP 502 Bad Gateway' END,
		       CASE WHEN i <= $5 AND r <> $6 THEN t END, false
		FROM generate_series($1::int, $2::int) r
		CROSS JOIN LATERAL (SELECT $3::timestamptz + (r - 1) * interval '1 hour' + interval '1 minute' AS t) tt
		CROSS JOIN generate_series(1, $7::int) i`, lo, hi, t0, cfg.repos, cfg.change/2, nRuns, perRun)
	}
	exec("triggers on", `SET session_replication_role = DEFAULT`)
	exec("ANALYZE", `ANALYZE`)
	conn.Release()
	var rows int64
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&rows); err != nil {
		log.Fatal(err)
	}
	_, dbBytes, _ := sizes(ctx, st)
	fmt.Printf("  %d rows in audit_log; database %.2f GB\n", rows, float64(dbBytes)/1e9)

	live := int64(1_000_000 + cfg.artifacts/2)
	gone := int64(100000000 + int64(nRuns/2)*10000 + 5)
	timeIt := func(what string, f func() error) {
		var ds []time.Duration
		for range 3 {
			start := time.Now()
			if err := f(); err != nil {
				log.Fatalf("%s: %v", what, err)
			}
			ds = append(ds, time.Since(start))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Printf("  %-60s %10v (median of 3)\n", what, ds[1].Round(100*time.Microsecond))
	}
	timeIt(fmt.Sprintf("audit --artifact %d (kept by every run)", live), func() error {
		spans, err := st.ArtifactHistory(ctx, live)
		if err == nil && (len(spans) != 1 || spans[0].Runs != nRuns) {
			err = fmt.Errorf("history %+v, want one span of %d runs", spans, nRuns)
		}
		return err
	})
	timeIt(fmt.Sprintf("audit --artifact %d (deleted)", gone), func() error {
		spans, err := st.ArtifactHistory(ctx, gone)
		if err == nil && len(spans) != 1 {
			err = fmt.Errorf("history %+v, want one decision", spans)
		}
		return err
	})
	q := func(sql string, args ...any) func() error {
		return func() error {
			rows, err := st.Pool().Query(ctx, sql, args...)
			if err != nil {
				return err
			}
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Err() == nil && n == 0 {
				return fmt.Errorf("no rows")
			}
			return rows.Err()
		}
	}
	timeIt("what would be deleted, largest first (pending_deletions)", q(`SELECT run_id, repository, artifact_name, branch, pg_size_pretty(size_in_bytes) AS size, expired, artifact_created_at,
       rule, reason FROM pending_deletions ORDER BY reclaimable_bytes DESC LIMIT 20`))
	timeIt("bytes reclaimable per repository", q(`SELECT repository, count(*) AS artifacts, count(*) FILTER (WHERE expired) AS expired_listings,
       pg_size_pretty(sum(reclaimable_bytes)) AS reclaimable FROM pending_deletions GROUP BY repository ORDER BY sum(reclaimable_bytes) DESC`))
	timeIt("everything a rule deleted in the last week", q(`SELECT run_id, repository, artifact_id, artifact_name, pg_size_pretty(size_in_bytes) AS size, reason, executed_at
FROM audit_log WHERE rule = 'old-test-results' AND outcome IN ('deleted', 'already_gone') AND executed_at > $1::timestamptz - interval '7 days'
ORDER BY executed_at`, end))
	timeIt("failures and everything not carried out (latest 50)", q(`SELECT run_id, repository, artifact_id, artifact_name, outcome, http_status, error, executed_at
FROM audit_log WHERE outcome IN ('failed', 'skipped_rate_limit', 'interrupted', 'changed', 'expired_not_archived') ORDER BY id DESC LIMIT 50`))
	timeIt("why one artifact is still here (decisions)", q(`SELECT run_id, action, rule, reason, outcome
FROM decisions WHERE artifact_id = $1 ORDER BY run_id DESC, id DESC LIMIT 1`, live))
	timeIt(fmt.Sprintf("the latest run by rule and outcome (decisions, %d artifacts)", cfg.artifacts), q(`SELECT rule, outcome, count(*), pg_size_pretty(sum(size_in_bytes))
FROM decisions WHERE run_id = (SELECT max(id) FROM runs) GROUP BY rule, outcome ORDER BY rule, outcome`))
	timeIt("the latest runs (run_summary)", q(`SELECT id, started_at, trigger, dry_run, status, artifacts_seen, planned_deletions, deleted, already_gone, failed,
       skipped, pg_size_pretty(bytes_reclaimed) AS reclaimed, pg_size_pretty(would_reclaim) AS would_reclaim, duration, error
FROM run_summary ORDER BY id DESC LIMIT 10`))

	// Prune one ordinary month, as AUDIT_RETENTION would once it expired:
	// January first, untimed (it also holds the first run's rows), then
	// February, timed.
	if _, err := st.PruneAudit(ctx, store.Prune{Horizon: t0.AddDate(0, 1, 0), At: end, By: "auditsize"}); err != nil {
		log.Fatal(err)
	}
	var febBytes int64
	if err := st.Pool().QueryRow(ctx, `SELECT pg_total_relation_size('audit_log_p202602')`).Scan(&febBytes); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	pruned, err := st.PruneAudit(ctx, store.Prune{Horizon: t0.AddDate(0, 2, 0), At: end, By: "auditsize"})
	elapsed := time.Since(start)
	if err != nil || len(pruned) != 1 {
		log.Fatalf("pruning February: %v, %v", pruned, err)
	}
	fmt.Printf("  %-60s %10v (%s: %d rows, %.0f MB with indexes)\n", "prune of one month (count + DROP TABLE + record)",
		elapsed.Round(time.Millisecond), pruned[0].Name, pruned[0].Rows, float64(febBytes)/1e6)
}

func seedArtifactsList(cfg org) []art {
	arts := make([]art, cfg.artifacts)
	for i := range arts {
		arts[i] = art{id: int64(1_000_000 + i), repo: repoName(i % cfg.repos), rule: "keep-latest"}
	}
	return arts
}
