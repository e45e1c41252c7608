package ui

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/store"
)

// historyLimit bounds one artifact's history page: an artifact is decided
// on once per run, so this is months of hourly runs.
const historyLimit = 500

// homeChartRepos and storageRepos bound the chart on the runs page and on
// the storage page.
const (
	homeChartRepos = 10
	storageRepos   = 100
)

var funcs = template.FuncMap{
	"bytes": report.Bytes,
	"time":  report.Time,
	"duration": func(r store.Run) string {
		if r.FinishedAt.IsZero() {
			return "running"
		}
		return r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
	},
	// gbh is a GB-hours figure, GitHub's billing unit (GB = 10^9 bytes).
	"gbh": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " GB-h" },
	"rulename": func(rule string) string {
		if rule == "" {
			return "(no rule matched)"
		}
		return rule
	},
}

// parsePages parses each page with the shared layout. A page is a file
// templates/NAME.html defining "title" and "content".
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "chart" {
			continue
		}
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/chart.html", n))
	}
	return pages
}

// badRequest is a query parameter the page cannot use.
type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }

func int64Param(q url.Values, name string) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest{fmt.Sprintf("%s must be a whole number, not %q", name, s)}
	}
	return n, nil
}

func pathID(r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return n, err == nil && n > 0
}

type runsView struct {
	Title      string
	Runs       []store.RunWithSavings
	Next       string // URL of the next (older) page, "" on the last
	First      bool
	Chart      chart
	ChartAll   bool // the chart shows every repository
	Storage    int
	StorageErr bool
}

func (s *server) runsPage(w http.ResponseWriter, r *http.Request) {
	before, err := int64Param(r.URL.Query(), "before")
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	runs, err := s.opts.Store.RecentRuns(r.Context(), before, s.opts.PageSize+1)
	if err != nil {
		s.storeFailed(w, r, "runs", err)
		return
	}
	v := runsView{Title: "Runs", First: before == 0}
	if len(runs) > s.opts.PageSize {
		runs = runs[:s.opts.PageSize]
		v.Next = "/?before=" + strconv.FormatInt(runs[len(runs)-1].ID, 10)
	}
	v.Runs = runs
	if v.First {
		repos, err := s.opts.Store.StorageByRepository(r.Context(), s.opts.Clock.Now(), homeChartRepos+1)
		if err != nil {
			s.storeFailed(w, r, "storage", err)
			return
		}
		v.ChartAll = len(repos) <= homeChartRepos
		if !v.ChartAll {
			repos = repos[:homeChartRepos]
		}
		v.Chart, v.Storage = storageChart(repos), len(repos)
	}
	s.render(w, r, http.StatusOK, "runs", v)
}

// decisionFilter is the run page's query, parsed once.
type decisionFilter struct {
	Repository artifact.Repository
	Rule       string
	Action     store.Action
	Outcome    store.Outcome
	After      int64
}

func parseDecisionFilter(q url.Values) (decisionFilter, error) {
	var f decisionFilter
	var err error
	if s := q.Get("repository"); s != "" {
		if f.Repository, err = artifact.ParseRepository(s); err != nil {
			return f, badRequest{fmt.Sprintf("repository: %v", err)}
		}
	}
	f.Rule = q.Get("rule")
	switch a := store.Action(q.Get("action")); a {
	case "", store.ActionKeep, store.ActionDelete:
		f.Action = a
	default:
		return f, badRequest{fmt.Sprintf("action must be keep or delete, not %q", a)}
	}
	if s := q.Get("outcome"); s != "" {
		if f.Outcome, err = store.ParseOutcome(s); err != nil {
			return f, badRequest{"outcome: " + err.Error()}
		}
	}
	f.After, err = int64Param(q, "after")
	return f, err
}

// query returns the filter as a query string, with after set to after (left
// out when 0).
func (f decisionFilter) query(after int64) string {
	v := url.Values{}
	if f.Repository != "" {
		v.Set("repository", string(f.Repository))
	}
	if f.Rule != "" {
		v.Set("rule", f.Rule)
	}
	if f.Action != "" {
		v.Set("action", string(f.Action))
	}
	if f.Outcome != "" {
		v.Set("outcome", string(f.Outcome))
	}
	if after > 0 {
		v.Set("after", strconv.FormatInt(after, 10))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// with returns the URL of the run page filtered by f with one more
// parameter set (a group's link).
func (f decisionFilter) with(runID int64, key, value string) string {
	g := f
	g.After = 0
	switch key {
	case "repository":
		g.Repository = artifact.Repository(value)
	case "rule":
		g.Rule = value
	}
	return fmt.Sprintf("/runs/%d%s", runID, g.query(0))
}

type groupRow struct {
	store.DecisionGroup
	Link     string
	Selected bool
}

type option struct {
	Value, Label string
	Selected     bool
}

type runView struct {
	Title        string
	Run          store.Run
	Filter       decisionFilter
	Filtered     bool
	ByRule       []groupRow
	ByRepository []groupRow
	Repositories []option
	Rules        []option
	Actions      []option
	Outcomes     []option
	Decisions    []store.AuditEntry
	Next         string
	FirstPage    string // "" on the first page
	Total        int64  // decisions in the run
}

func (s *server) runPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		s.fail(w, r, http.StatusNotFound, "There is no such run.")
		return
	}
	f, err := parseDecisionFilter(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	run, err := s.opts.Store.Run(ctx, id)
	if err != nil {
		s.storeFailed(w, r, "run", err)
		return
	}
	b, err := s.breakdowns.get(ctx, s.opts.Store, run)
	if err != nil {
		s.storeFailed(w, r, "run's decisions", err)
		return
	}
	// The run's first and last row ids bound the walk (see
	// store.ReviewDecisions); a run still running may add rows past LastID,
	// so its pages are unbounded above.
	page := store.DecisionPage{
		RunID: id, Repository: f.Repository, Rule: f.Rule, Action: f.Action, Outcome: f.Outcome,
		After: max(f.After, b.FirstID-1), Limit: s.opts.PageSize + 1,
	}
	if !run.FinishedAt.IsZero() {
		page.Through = b.LastID
	}
	decisions, err := s.opts.Store.ReviewDecisions(ctx, page)
	if err != nil {
		s.storeFailed(w, r, "run's decisions", err)
		return
	}
	v := runView{Title: fmt.Sprintf("Run %d", id), Run: run, Filter: f,
		Filtered: f.Repository != "" || f.Rule != "" || f.Action != "" || f.Outcome != ""}
	if len(decisions) > s.opts.PageSize {
		decisions = decisions[:s.opts.PageSize]
		v.Next = fmt.Sprintf("/runs/%d%s", id, f.query(decisions[len(decisions)-1].ID))
	}
	v.Decisions = decisions
	if f.After > 0 {
		v.FirstPage = fmt.Sprintf("/runs/%d%s", id, f.query(0))
	}
	v.Repositories = []option{{Value: "", Label: "any repository"}}
	for _, g := range b.ByRepository {
		sel := artifact.Repository(g.Key) == f.Repository
		v.ByRepository = append(v.ByRepository, groupRow{g, f.with(id, "repository", g.Key), sel})
		v.Repositories = append(v.Repositories, option{g.Key, g.Key, sel})
		v.Total += g.Kept + g.Deletes
	}
	v.Rules = []option{{Value: "", Label: "any rule"}}
	for _, g := range b.ByRule {
		sel := g.Key == f.Rule && f.Rule != ""
		v.ByRule = append(v.ByRule, groupRow{g, f.with(id, "rule", g.Key), sel})
		if g.Key != "" { // "no rule matched" is not a filter value
			v.Rules = append(v.Rules, option{g.Key, g.Key, sel})
		}
	}
	v.Actions = []option{{"", "any action", f.Action == ""}, {"delete", "delete", f.Action == store.ActionDelete}, {"keep", "keep", f.Action == store.ActionKeep}}
	v.Outcomes = []option{{"", "any outcome", f.Outcome == ""}}
	for _, o := range store.Outcomes() {
		v.Outcomes = append(v.Outcomes, option{string(o), string(o), o == f.Outcome})
	}
	s.render(w, r, http.StatusOK, "run", v)
}

type artifactView struct {
	Title    string
	ID       int64
	Artifact store.StoredArtifact
	Known    bool // the artifacts table has it
	History  []store.DecisionSpan
	Limited  bool
}

func (s *server) artifactPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		s.fail(w, r, http.StatusNotFound, "There is no such artifact.")
		return
	}
	ctx := r.Context()
	v := artifactView{Title: fmt.Sprintf("Artifact %d", id), ID: id}
	a, err := s.opts.Store.Artifact(ctx, id)
	switch {
	case err == nil:
		v.Artifact, v.Known = a, true
	case !errors.Is(err, store.ErrNotFound):
		s.storeFailed(w, r, "artifact", err)
		return
	}
	h, err := s.opts.Store.ArtifactHistory(ctx, id)
	if err != nil {
		s.storeFailed(w, r, "artifact's history", err)
		return
	}
	slices.Reverse(h) // newest first
	if len(h) > historyLimit {
		h, v.Limited = h[:historyLimit], true
	}
	if !v.Known && len(h) == 0 {
		s.fail(w, r, http.StatusNotFound, "retentiond knows no artifact with this id.")
		return
	}
	v.History = h
	s.render(w, r, http.StatusOK, "artifact", v)
}

type storageView struct {
	Title string
	Chart chart
	Repos []store.ReviewStorage
	All   bool
}

func (s *server) storagePage(w http.ResponseWriter, r *http.Request) {
	repos, err := s.opts.Store.StorageByRepository(r.Context(), s.opts.Clock.Now(), storageRepos+1)
	if err != nil {
		s.storeFailed(w, r, "storage", err)
		return
	}
	v := storageView{Title: "Storage by repository", All: len(repos) <= storageRepos}
	if !v.All {
		repos = repos[:storageRepos]
	}
	v.Repos, v.Chart = repos, storageChart(repos)
	s.render(w, r, http.StatusOK, "storage", v)
}
