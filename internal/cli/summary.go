package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/store"
)

// printRun prints a run's summary and its top would-delete (or deleted)
// items, then what to look at next.
func printRun(ctx context.Context, e *Env, a *app, runID int64, top int) error {
	if err := printRunSummary(ctx, e, a, runID, top); err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "\nAll decisions: retentiond audit --run %d   (or SQL: SELECT * FROM decisions WHERE run_id = %d)\n", runID, runID)
	return nil
}

// printRunSummary prints a run's summary and its top would-delete (or
// deleted) items.
func printRunSummary(ctx context.Context, e *Env, a *app, runID int64, top int) error {
	r, err := a.store.Run(ctx, runID)
	if err != nil {
		return err
	}
	w := e.Stdout
	mode := "DELETING"
	if r.DryRun {
		mode = "dry-run"
	}
	fmt.Fprintf(w, "Run %d (%s, %s): %s in %s, started %s UTC\n", r.ID, r.Trigger, mode, r.Status, r.FinishedAt.Sub(r.StartedAt).Round(1e6), report.Time(r.StartedAt))
	if r.Trigger == store.TriggerApply {
		fmt.Fprintf(w, "  reviewed run   %d: %d decisions to apply\n", r.ReviewedRunID, r.PlannedDeletions)
	} else {
		fmt.Fprintf(w, "  repositories   %d scanned, %d failed\n", r.RepositoriesScanned, r.RepositoriesFailed)
		if err := printRunDiscovery(ctx, w, a, r.ID); err != nil {
			return err
		}
		fmt.Fprintf(w, "  artifacts      %d seen, %d kept, %d to delete\n", r.ArtifactsSeen, r.Kept, r.PlannedDeletions)
	}
	if r.DryRun {
		fmt.Fprintf(w, "  would delete   %d, freeing %s", r.PlannedDeletions-r.Skipped, report.Bytes(r.WouldReclaim))
	} else {
		fmt.Fprintf(w, "  deleted        %d, already gone %d, failed %d, freeing %s", r.Deleted, r.AlreadyGone, r.Failed, report.Bytes(r.BytesReclaimed))
	}
	if r.Skipped > 0 {
		fmt.Fprintf(w, "; %d skipped", r.Skipped)
	}
	fmt.Fprintln(w)
	if r.ExpiredListings > 0 {
		// Their storage was freed when they expired: deleting them tidies
		// the listing and saves nothing, so they are not in the figure above.
		fmt.Fprintf(w, "                 of which %d are expired listings: GitHub already freed their storage\n", r.ExpiredListings)
	}
	if rs, err := a.store.RunSavings(ctx, runID); err != nil {
		return err
	} else if rs.LiveBytes >= 0 {
		printRunSavings(w, r, rs, a.cfg.Storage.PricePerGBMonth)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  note           %s\n", r.Error)
	}
	outcome := store.OutcomeDeleted
	title := "Largest deleted"
	if r.DryRun {
		outcome, title = store.OutcomeDryRun, "Largest would-delete"
	}
	entries, err := a.store.AuditEntries(ctx, store.AuditFilter{RunID: runID, Outcome: outcome, Limit: top, LargestFirst: true})
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		fmt.Fprintf(w, "\n%s items (top %d):\n", title, len(entries))
		if err := topTable(entries).Write(w, report.FormatTable); err != nil {
			return err
		}
		for _, en := range entries {
			if en.Expired {
				fmt.Fprintln(w, "  * expired: GitHub already freed its storage; deleting it only tidies the listing")
				break
			}
		}
	}
	return nil
}

// entryTable builds the table of audit entries that audit and plan print.
func entryTable(entries []store.AuditEntry, withOutcome bool) *report.Table {
	t := &report.Table{
		Header: []string{"REPOSITORY", "ARTIFACT", "NAME", "BRANCH", "SIZE", "CREATED", "RULE", "REASON"},
		Keys: []string{"repository", "artifact_id", "artifact_name", "branch", "size_in_bytes", "artifact_created_at",
			"action", "rule", "reason", "outcome", "http_status", "error", "run_id", "expired"},
	}
	if withOutcome {
		t.Header = append(t.Header, "OUTCOME")
	}
	for _, en := range entries {
		cells := []string{en.Repository.String(), strconv.FormatInt(en.ArtifactID, 10), en.ArtifactName, dash(en.Branch),
			sizeCell(en.SizeInBytes, en.Expired), report.Time(en.ArtifactCreatedAt), dash(en.Rule), en.Reason}
		if withOutcome {
			o := string(en.Outcome)
			if en.Error != "" && en.Outcome != store.OutcomeSkippedCap {
				o += ": " + en.Error
			}
			cells = append(cells, o)
		}
		t.Add(cells, []any{en.Repository, en.ArtifactID, en.ArtifactName, orNil(en.Branch), en.SizeInBytes, en.ArtifactCreatedAt,
			string(en.Action), en.Rule, en.Reason, string(en.Outcome), orNil(en.HTTPStatus), orNil(en.Error), en.RunID, en.Expired})
	}
	return t
}

// summaryWidth is what a run's summary fits in: a terminal a little wider
// than the classic 80 columns, the common default of terminal windows.
const summaryWidth = 100

// topTable is the short table of a run's largest decisions that run, apply
// and demo print under the summary: the columns that tell an artifact apart
// and why it goes, trimmed to fit summaryWidth. The reasons and ids are in
// 'retentiond audit', which the summary points to.
func topTable(entries []store.AuditEntry) *report.Table {
	t := &report.Table{Header: []string{"REPOSITORY", "NAME", "BRANCH", "SIZE", "CREATED (UTC)", "RULE"}}
	for _, en := range entries {
		size := report.Bytes(en.SizeInBytes)
		if en.Expired {
			size += "*" // explained under the table
		}
		created := "-"
		if !en.ArtifactCreatedAt.IsZero() {
			created = en.ArtifactCreatedAt.UTC().Format(time.DateOnly) // the day is enough to judge an age
		}
		t.Add([]string{en.Repository.String(), en.ArtifactName, dash(en.Branch), size, created, dash(en.Rule)}, nil)
	}
	t.Fit(summaryWidth, 2, 1, 5, 0)
	return t
}

// sizeCell is a size for people, marked when the artifact has expired: its
// storage is freed already, so deleting it frees nothing.
func sizeCell(n int64, expired bool) string {
	if expired {
		return report.Bytes(n) + " (expired)"
	}
	return report.Bytes(n)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// orNil is nil for a zero v, else v: the store reads NULL as the zero value,
// and a report.Table writes nil as NULL (an empty CSV field, JSON null).
func orNil[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// runsTable lists runs, newest first.
func runsTable(w io.Writer, runs []store.Run, f report.Format) error {
	t := &report.Table{
		Header: []string{"RUN", "STARTED", "TRIGGER", "MODE", "STATUS", "SEEN", "TO DELETE", "DELETED", "GONE", "FAILED", "SKIPPED", "RECLAIMED"},
		Keys: []string{"id", "started_at", "finished_at", "trigger", "dry_run", "status", "artifacts_seen", "planned_deletions",
			"deleted", "already_gone", "failed", "skipped", "bytes_reclaimed", "would_reclaim", "expired_listings", "error"},
	}
	for _, r := range runs {
		mode, reclaimed := "delete", report.Bytes(r.BytesReclaimed)
		if r.DryRun {
			mode, reclaimed = "dry-run", "("+report.Bytes(r.WouldReclaim)+")"
		}
		t.Add([]string{strconv.FormatInt(r.ID, 10), report.Time(r.StartedAt), string(r.Trigger), mode, string(r.Status),
			strconv.Itoa(r.ArtifactsSeen), strconv.Itoa(r.PlannedDeletions), strconv.Itoa(r.Deleted),
			strconv.Itoa(r.AlreadyGone), strconv.Itoa(r.Failed), strconv.Itoa(r.Skipped), reclaimed},
			[]any{r.ID, r.StartedAt, r.FinishedAt, r.Trigger, r.DryRun, r.Status, r.ArtifactsSeen, r.PlannedDeletions,
				r.Deleted, r.AlreadyGone, r.Failed, r.Skipped, r.BytesReclaimed, r.WouldReclaim, r.ExpiredListings, orNil(r.Error)})
	}
	return t.Write(w, f)
}
