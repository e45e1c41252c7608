package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/store"
)

// runAuditArtifact prints one artifact's decision history (audit --artifact).
func runAuditArtifact(ctx context.Context, e *Env, opts *auditOpts, f report.Format) error {
	if opts.run != 0 || opts.outcome != "" || opts.repository != "" || opts.rule != "" || opts.act != "" {
		return usagef("--artifact prints one artifact's history across runs; it takes no --run, --outcome, --repository, --rule or --action")
	}
	a, closeFn, err := setup(ctx, e, needs{db: true})
	if err != nil {
		return err
	}
	defer closeFn()
	spans, err := a.store.ArtifactHistory(ctx, opts.artifact)
	if err != nil {
		return err
	}
	if len(spans) == 0 && f == report.FormatTable {
		fmt.Fprintf(e.Stdout, "no decision about artifact %d is recorded (never evaluated, or pruned by AUDIT_RETENTION)\n", opts.artifact)
		return nil
	}
	if err := historyTable(spans).Write(e.Stdout, f); err != nil {
		return err
	}
	if f == report.FormatTable {
		first := spans[0]
		fmt.Fprintf(e.Stdout, "\nartifact %d: %s %s (%s), %d decisions recorded\n", first.ArtifactID, first.Repository,
			first.ArtifactName, report.Bytes(first.SizeInBytes), len(spans))
	}
	return nil
}

// historyTable lists decision spans, oldest first.
func historyTable(spans []store.DecisionSpan) *report.Table {
	t := &report.Table{
		Header: []string{"RUN", "THROUGH", "RUNS", "RECORDED", "ACTION", "RULE", "REASON", "OUTCOME"},
		Keys: []string{"run_id", "last_run_id", "runs", "recorded_at", "action", "rule", "reason", "outcome",
			"http_status", "error", "executed_at", "audit_id"},
	}
	for _, s := range spans {
		o := string(s.Outcome)
		if s.Error != "" {
			o += ": " + s.Error
		}
		t.Add([]string{strconv.FormatInt(s.RunID, 10), strconv.FormatInt(s.LastRunID, 10), strconv.Itoa(s.Runs),
			report.Time(s.RecordedAt), string(s.Action), dash(s.Rule), s.Reason, o},
			[]any{s.RunID, s.LastRunID, s.Runs, s.RecordedAt, string(s.Action), s.Rule, s.Reason, string(s.Outcome),
				orNil(s.HTTPStatus), orNil(s.Error), s.ExecutedAt, s.ID})
	}
	return t
}

// runAuditPrune is 'audit prune [--dry-run]'.
// The audit command's flag set has parsed --dry-run already (flags may come
// after the word prune); a second parse takes it right after prune too.
func runAuditPrune(ctx context.Context, e *Env, args []string, dry bool) error {
	fs := flag.NewFlagSet("audit prune", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dryRun := fs.Bool("dry-run", dry, "list the partitions that would be dropped; drop nothing")
	if err := fs.Parse(args); err != nil {
		return usagef("audit prune: %v (usage: retentiond audit prune [--dry-run])", err)
	}
	if fs.NArg() != 0 {
		return usagef("audit prune takes no arguments (usage: retentiond audit prune [--dry-run])")
	}
	a, closeFn, err := setup(ctx, e, needs{db: true})
	if err != nil {
		return err
	}
	defer closeFn()
	now := e.Clock.Now()
	parts, horizon, err := a.pruneAudit(ctx, now, *dryRun, "retentiond audit prune")
	if err != nil {
		return err
	}
	return writePrune(e.Stdout, parts, horizon, a.cfg.Audit.Retention, *dryRun)
}

// pruneAudit drops (or, in dry-run, lists) the audit partitions older than
// AUDIT_RETENTION at now. serve calls it before each run.
func (a *app) pruneAudit(ctx context.Context, now time.Time, dryRun bool, by string) ([]store.AuditPartition, time.Time, error) {
	horizon := now.Add(-a.cfg.Audit.Retention)
	host, _ := os.Hostname() // best effort: the record says who, the host only where
	parts, err := a.store.PruneAudit(ctx, store.Prune{Horizon: horizon, DryRun: dryRun, At: now, By: by, Host: host})
	for _, p := range parts {
		if !dryRun {
			a.logger.InfoContext(ctx, "pruned an audit partition", slog.String("partition", p.Name),
				slog.Int64("rows", p.Rows), slog.Time("range_end", p.RangeEnd), slog.Time("horizon", horizon))
		}
	}
	return parts, horizon, err
}

func writePrune(w io.Writer, parts []store.AuditPartition, horizon time.Time, retention time.Duration, dryRun bool) error {
	fmt.Fprintf(w, "horizon %s (AUDIT_RETENTION %s)\n", report.Time(horizon), report.Age(retention))
	if len(parts) == 0 {
		fmt.Fprintln(w, "nothing to prune: no audit partition ends before the horizon")
		return nil
	}
	t := &report.Table{Header: []string{"PARTITION", "FROM", "TO", "ROWS"}}
	var rows int64
	for _, p := range parts {
		from := "-"
		if !p.RangeStart.IsZero() {
			from = report.Time(p.RangeStart)
		}
		t.Add([]string{p.Name, from, report.Time(p.RangeEnd), strconv.FormatInt(p.Rows, 10)}, nil)
		rows += p.Rows
	}
	fmt.Fprintln(w)
	if err := t.Write(w, report.FormatTable); err != nil {
		return err
	}
	if dryRun {
		fmt.Fprintf(w, "\nwould drop %d partitions, %d rows (dry-run: nothing dropped)\n", len(parts), rows)
		return nil
	}
	fmt.Fprintf(w, "\ndropped %d partitions, %d rows; recorded in audit_prunes\n", len(parts), rows)
	return nil
}

// servePrune is serve's automatic AUDIT_RETENTION, before each run. A
// prune that fails (a reader held the table past the lock timeout, the
// database is away) is logged and tried again before the next run: it must
// not cost a run.
func (a *app) servePrune(ctx context.Context, now time.Time) {
	if _, _, err := a.pruneAudit(ctx, now, false, "retentiond serve"); err != nil {
		a.logger.WarnContext(ctx, "could not prune the audit log; trying again before the next run", slog.Any("error", err))
	}
}
