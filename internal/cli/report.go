package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/savings"
	"github.com/retentiond/retentiond/internal/store"
)

type reportOpts struct {
	by, repository, section, format string
	top, days, months, runs         int
}

// reportSections are the report's parts, in the order a terminal shows them.
var reportSections = []string{"totals", "storage", "largest", "oldest", "trend", "runs", "months"}

func reportCommand() *command {
	return &command{
		name:    "report",
		args:    "[--by repository|name|branch] [--repository OWNER/REPO] [--top N] [--section S] [--format table|json|csv]",
		summary: "Show artifact storage and what deletions saved, from the database (no GitHub calls)",
		help: `Reads what the scans recorded; it sends nothing to GitHub. Sections:
  totals   live artifacts and bytes, expired listings, storage accruing
  storage  the top N groups (--by repository, name or branch) by live
           storage, the rest summed in one (other) row
  largest  the N largest live artifacts
  oldest   the N oldest live artifacts
  trend    live storage at the end of each day with a complete scan
  runs     GB-hours each recent run saved (or, a dry-run, would save)
  months   per calendar month (UTC): GB-hours saved by deletions, what the
           month's latest dry-run would save, and the GB-hours accrued

Live storage is what GitHub bills by the hour: artifacts not gone and not
expired. An expired artifact is only a listing; GitHub freed its storage.
A deletion saves size x the hours left until its expires_at (GB = 10^9
bytes); with STORAGE_PRICE_PER_GB_MONTH set, the runs and months sections
add money. A table shows every section; --section picks one. JSON is one
object keyed by section (or the one section's rows); CSV is one section,
storage unless --section says otherwise.`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &reportOpts{}
			fs.StringVar(&o.by, "by", "repository", "group storage by repository, name or branch")
			fs.StringVar(&o.repository, "repository", "", "only this repository (owner/name)")
			fs.StringVar(&o.section, "section", "", "only this section: "+strings.Join(reportSections, ", "))
			fs.StringVar(&o.format, "format", "table", "table, json or csv")
			fs.IntVar(&o.top, "top", 10, "groups and artifacts listed per section")
			fs.IntVar(&o.days, "days", 14, "days of trend")
			fs.IntVar(&o.months, "months", 3, "calendar months of savings, this one included")
			fs.IntVar(&o.runs, "runs", 10, "recent runs listed")
			return func(ctx context.Context, e *Env, args []string) error { return runReport(ctx, e, args, o) }
		},
		config: []config.Concern{config.DatabaseConcern, config.StorageConcern, config.LogConcern},
	}
}

func runReport(ctx context.Context, e *Env, args []string, o *reportOpts) error {
	if len(args) != 0 {
		return usagef("report takes no arguments")
	}
	f, err := report.ParseFormat(o.format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	by, err := store.ParseStorageKey(o.by)
	if err != nil {
		return usagef("--by: %v", err)
	}
	var repo artifact.Repository
	if o.repository != "" {
		if repo, err = artifact.ParseRepository(o.repository); err != nil {
			return usagef("--repository: %v", err)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"top", o.top}, {"days", o.days}, {"months", o.months}, {"runs", o.runs}} {
		if n.v < 1 || n.v > 10_000 {
			return usagef("--%s %d: accepted: 1 to 10000", n.name, n.v)
		}
	}
	sections := reportSections
	switch {
	case o.section != "":
		if !slices.Contains(reportSections, o.section) {
			return usagef("--section %q: accepted: %s", o.section, strings.Join(reportSections, ", "))
		}
		sections = []string{o.section}
	case f == report.FormatCSV:
		sections = []string{"storage"}
	}
	a, closeFn, err := setup(ctx, e, needs{db: true})
	if err != nil {
		return err
	}
	defer closeFn()
	rp := &reporter{st: a.store, now: e.Clock.Now().UTC(), by: by, repo: repo, o: o, price: a.cfg.Storage.PricePerGBMonth}
	tables := make([]*report.Table, len(sections))
	for i, s := range sections {
		if tables[i], err = rp.section(ctx, s); err != nil {
			return err
		}
	}
	return writeReport(e.Stdout, f, sections, tables, rp)
}

func writeReport(w io.Writer, f report.Format, sections []string, tables []*report.Table, rp *reporter) error {
	if f != report.FormatTable && len(tables) == 1 {
		return tables[0].Write(w, f)
	}
	if f == report.FormatJSON {
		out := map[string]json.RawMessage{}
		for i, t := range tables {
			var buf bytes.Buffer
			if err := t.Write(&buf, f); err != nil {
				return err
			}
			out[sections[i]] = buf.Bytes()
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n", rp.title(sections[i]))
		if len(t.Rows) == 0 {
			fmt.Fprintln(w, "  (none)")
			continue
		}
		if err := t.Write(w, f); err != nil {
			return err
		}
	}
	return nil
}

// reporter builds the report's sections.
type reporter struct {
	st    *store.Store
	now   time.Time
	by    store.StorageKey
	repo  artifact.Repository
	o     *reportOpts
	price *float64
}

func (rp *reporter) title(section string) string {
	scope := "every repository"
	if rp.repo != "" {
		scope = string(rp.repo)
	}
	switch section {
	case "totals":
		return fmt.Sprintf("Storage of %s at %s", scope, report.Time(rp.now))
	case "storage":
		return fmt.Sprintf("Live storage by %s (top %d)", rp.by, rp.o.top)
	case "largest":
		return fmt.Sprintf("Largest live artifacts (top %d)", rp.o.top)
	case "oldest":
		return fmt.Sprintf("Oldest live artifacts (top %d)", rp.o.top)
	case "trend":
		return fmt.Sprintf("Live storage after each day's last complete scan (last %d days)", rp.o.days)
	case "runs":
		t := fmt.Sprintf("Savings of the latest %d runs (every repository; GB = 10^9 bytes)", rp.o.runs)
		if rp.price == nil {
			t += "; set STORAGE_PRICE_PER_GB_MONTH for money"
		}
		return t
	case "months":
		return fmt.Sprintf("Savings by month (UTC), %s", scope)
	}
	return section
}

func (rp *reporter) section(ctx context.Context, s string) (*report.Table, error) {
	switch s {
	case "totals":
		return rp.totals(ctx)
	case "storage":
		return rp.storage(ctx)
	case "largest":
		return rp.artifacts(ctx, store.LargestFirst)
	case "oldest":
		return rp.artifacts(ctx, store.OldestFirst)
	case "trend":
		return rp.trend(ctx)
	case "runs":
		return rp.runs(ctx)
	case "months":
		return rp.months(ctx)
	}
	return nil, fmt.Errorf("report: unknown section %q", s)
}

func (rp *reporter) totals(ctx context.Context) (*report.Table, error) {
	groups, err := rp.st.Storage(ctx, store.StorageFilter{By: store.ByRepository, Repository: rp.repo, Now: rp.now})
	if err != nil {
		return nil, err
	}
	var sum store.StorageGroup
	for _, g := range groups {
		sum.Live += g.Live
		sum.LiveBytes += g.LiveBytes
		sum.Expired += g.Expired
		sum.ExpiredBytes += g.ExpiredBytes
	}
	t := &report.Table{
		Header: []string{"REPOSITORIES", "LIVE", "LIVE SIZE", "EXPIRED LISTINGS", "EXPIRED SIZE", "ACCRUING"},
		Keys:   []string{"repositories", "live", "live_bytes", "expired_listings", "expired_bytes", "gb_hours_per_day"},
	}
	perDay := float64(sum.LiveBytes) / savings.BytesPerGB * 24
	t.Add([]string{strconv.Itoa(len(groups)), strconv.Itoa(sum.Live), report.Bytes(sum.LiveBytes), strconv.Itoa(sum.Expired),
		report.Bytes(sum.ExpiredBytes), formatGBHours(perDay) + " GB-hours/day"},
		[]any{len(groups), sum.Live, sum.LiveBytes, sum.Expired, sum.ExpiredBytes, round(perDay, 3)})
	return t, nil
}

func (rp *reporter) storage(ctx context.Context) (*report.Table, error) {
	groups, err := rp.st.Storage(ctx, store.StorageFilter{By: rp.by, Repository: rp.repo, Top: rp.o.top, Now: rp.now})
	if err != nil {
		return nil, err
	}
	var total int64
	for _, g := range groups {
		total += g.LiveBytes
	}
	t := &report.Table{
		Header: []string{strings.ToUpper(string(rp.by)), "LIVE", "LIVE SIZE", "SHARE", "LARGEST", "OLDEST", "EXPIRED LISTINGS", "EXPIRED SIZE"},
		Keys: []string{string(rp.by), "other_groups", "live", "live_bytes", "share", "largest_bytes", "oldest_created_at",
			"expired_listings", "expired_bytes"},
	}
	for _, g := range groups {
		key, raw, others := g.Key, any(g.Key), any(nil)
		switch {
		case g.Other:
			key, raw, others = fmt.Sprintf("(%d others)", g.Groups), nil, g.Groups
			if g.Groups == 1 {
				key = "(1 other)"
			}
		case key == "":
			key, raw = "(none)", nil
		}
		share := 0.0
		if total > 0 {
			share = float64(g.LiveBytes) / float64(total)
		}
		t.Add([]string{key, strconv.Itoa(g.Live), report.Bytes(g.LiveBytes), strconv.FormatFloat(share*100, 'f', 1, 64) + "%",
			report.Bytes(g.LargestBytes), report.AgeSince(rp.now, g.OldestCreated), strconv.Itoa(g.Expired), report.Bytes(g.ExpiredBytes)},
			[]any{raw, others, g.Live, g.LiveBytes, round(share, 4), g.LargestBytes, g.OldestCreated, g.Expired, g.ExpiredBytes})
	}
	return t, nil
}

func (rp *reporter) artifacts(ctx context.Context, order store.StoredOrder) (*report.Table, error) {
	arts, err := rp.st.ListStored(ctx, rp.repo, order, rp.o.top, rp.now)
	if err != nil {
		return nil, err
	}
	t := &report.Table{
		Header: []string{"REPOSITORY", "ARTIFACT", "NAME", "BRANCH", "SIZE", "AGE", "EXPIRES IN", "LEFT TO BILL"},
		Keys: []string{"repository", "artifact_id", "artifact_name", "branch", "size_in_bytes", "created_at", "expires_at",
			"gb_hours_left"},
	}
	for _, a := range arts {
		left := savings.Saved(savings.Deletion{SizeInBytes: a.SizeInBytes, At: rp.now, ExpiresAt: a.ExpiresAt})
		expiresIn := "-"
		if !a.ExpiresAt.IsZero() {
			expiresIn = report.Age(a.ExpiresAt.Sub(rp.now))
		}
		t.Add([]string{a.Repository.String(), strconv.FormatInt(a.ID, 10), a.Name, dash(a.Branch), report.Bytes(a.SizeInBytes),
			report.AgeSince(rp.now, a.CreatedAt), expiresIn, formatGBHours(left.GBHours) + " GB-h"},
			[]any{a.Repository, a.ID, a.Name, orNil(a.Branch), a.SizeInBytes, a.CreatedAt, a.ExpiresAt, round(left.GBHours, 3)})
	}
	return t, nil
}

func (rp *reporter) trend(ctx context.Context) (*report.Table, error) {
	since := rp.now.Truncate(24*time.Hour).AddDate(0, 0, -(rp.o.days - 1))
	points, err := rp.st.StorageTrend(ctx, rp.repo, since)
	if err != nil {
		return nil, err
	}
	t := &report.Table{
		Header: []string{"DAY", "LIVE", "LIVE SIZE", "CHANGE"},
		Keys:   []string{"day", "scanned_at", "live", "live_bytes", "change_bytes"},
	}
	for i, p := range points {
		change, rawChange := "-", any(nil)
		if i > 0 {
			d := p.LiveBytes - points[i-1].LiveBytes
			change, rawChange = report.Bytes(d), d
			if d >= 0 {
				change = "+" + change
			}
		}
		t.Add([]string{p.Day.Format(time.DateOnly), strconv.Itoa(p.Live), report.Bytes(p.LiveBytes), change},
			[]any{p.Day.Format(time.DateOnly), p.At, p.Live, p.LiveBytes, rawChange})
	}
	return t, nil
}

func (rp *reporter) runs(ctx context.Context) (*report.Table, error) {
	runs, err := rp.st.RecentRunSavings(ctx, rp.o.runs)
	if err != nil {
		return nil, err
	}
	t := &report.Table{
		Header: []string{"RUN", "STARTED", "MODE", "STATUS", "DELETED", "GB-HOURS SAVED", "GB-MONTHS", "STILL BILLED"},
		Keys: []string{"id", "started_at", "dry_run", "status", "deleted", "planned_deletions", "gb_hours_saved", "gb_months_saved",
			"gb_hours_would_save", "gb_months_would_save", "money_saved", "money_would_save", "storage_live_bytes"},
	}
	if rp.price != nil {
		t.Header = slices.Insert(t.Header, 7, "MONEY")
	}
	for _, r := range runs {
		mode, n, u := "delete", strconv.Itoa(r.Deleted), r.Savings.Saved
		if r.DryRun {
			mode, n, u = "dry-run", "("+strconv.Itoa(r.PlannedDeletions-r.Skipped)+")", r.Savings.WouldSave
		}
		hours, months := formatGBHours(u.GBHours), strconv.FormatFloat(u.GBMonths, 'f', 2, 64)
		if r.DryRun {
			hours, months = "("+hours+")", "("+months+")"
		}
		live, rawLive := "-", any(nil)
		if r.Savings.LiveBytes >= 0 {
			live, rawLive = report.Bytes(r.Savings.LiveBytes), r.Savings.LiveBytes
		}
		cells := []string{strconv.FormatInt(r.ID, 10), report.Time(r.StartedAt), mode, string(r.Status), n, hours, months, live}
		if rp.price != nil {
			m := money(u, rp.price, "%s")
			if r.DryRun {
				m = "(" + m + ")"
			}
			cells = slices.Insert(cells, 7, m)
		}
		t.Add(cells, []any{r.ID, r.StartedAt, r.DryRun, r.Status, r.Deleted, r.PlannedDeletions,
			round(r.Savings.Saved.GBHours, 3), round(r.Savings.Saved.GBMonths, 5),
			round(r.Savings.WouldSave.GBHours, 3), round(r.Savings.WouldSave.GBMonths, 5),
			rp.cost(r.Savings.Saved), rp.cost(r.Savings.WouldSave), rawLive})
	}
	return t, nil
}

func (rp *reporter) months(ctx context.Context) (*report.Table, error) {
	since := savings.MonthOf(rp.now).AddDate(0, -(rp.o.months - 1), 0)
	months, err := rp.st.MonthlySavings(ctx, rp.repo, since, rp.now)
	if err != nil {
		return nil, err
	}
	t := &report.Table{
		Header: []string{"MONTH", "DELETED", "SAVED GB-H", "DRY-RUN", "WOULD SAVE GB-H", "ACCRUED GB-H", "ACCRUED GB-MONTHS"},
		Keys: []string{"month", "deletions", "gb_hours_saved", "gb_months_saved", "money_saved", "dry_run_id",
			"gb_hours_would_save", "gb_months_would_save", "money_would_save", "gb_hours_accrued", "gb_months_accrued", "money_accrued"},
	}
	if rp.price != nil {
		t.Header = append(t.Header, "MONEY SAVED", "MONEY WOULD SAVE", "MONEY ACCRUED")
	}
	for _, m := range months {
		dry, rawDry := "-", any(nil)
		if m.DryRunID != 0 {
			dry, rawDry = "run "+strconv.FormatInt(m.DryRunID, 10), m.DryRunID
		}
		cells := []string{m.Month.Format("2006-01"), strconv.Itoa(m.Deletions), formatGBHours(m.Saved.GBHours), dry,
			formatGBHours(m.WouldSave.GBHours), formatGBHours(m.Accrued.GBHours), strconv.FormatFloat(m.Accrued.GBMonths, 'f', 2, 64)}
		if rp.price != nil {
			cells = append(cells, money(m.Saved, rp.price, "%s"), money(m.WouldSave, rp.price, "%s"), money(m.Accrued, rp.price, "%s"))
		}
		t.Add(cells, []any{m.Month.Format("2006-01"), m.Deletions, round(m.Saved.GBHours, 3), round(m.Saved.GBMonths, 5), rp.cost(m.Saved),
			rawDry, round(m.WouldSave.GBHours, 3), round(m.WouldSave.GBMonths, 5), rp.cost(m.WouldSave),
			round(m.Accrued.GBHours, 3), round(m.Accrued.GBMonths, 5), rp.cost(m.Accrued)})
	}
	return t, nil
}

// cost is u's price for scripts, or nil (null) when no price is set.
func (rp *reporter) cost(u savings.Usage) any {
	if rp.price == nil {
		return nil
	}
	return round(u.Cost(*rp.price), 4)
}

// round keeps scripts' figures to a few decimals: the inputs are whole
// bytes and seconds, and more digits would only be float noise.
func round(v float64, decimals int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', decimals, 64), 64)
	return f
}
