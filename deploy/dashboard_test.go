package deploy_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// dashboard is the part of a Grafana dashboard that names metrics.
type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int     `json:"id"`
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"` // a collapsed row's
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
}

func dashboardExpressions(t *testing.T) (dashboard, []expression) {
	t.Helper()
	const file = "grafana/retentiond.json"
	var d dashboard
	if err := json.Unmarshal(readFile(t, file), &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []expression
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, expression{file + " panel " + p.Title + " " + tg.RefID, grafanaVars.Replace(tg.Expr)})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if m := regexp.MustCompile(`^label_values\((\w+), *\w+\)$`).FindStringSubmatch(v.Definition); m != nil {
			out = append(out, expression{file + " variable " + v.Name, m[1]})
		} else if v.Type == "query" {
			t.Errorf("%s: variable %s: query %q is not label_values(METRIC, LABEL)", file, v.Name, v.Definition)
		}
	}
	return d, out
}

// TestDashboard checks deploy/grafana/retentiond.json's structure: every
// query parses, every panel uses the datasource variable, and the panels
// the issue asks for are there.
func TestDashboard(t *testing.T) {
	t.Parallel()
	d, exprs := dashboardExpressions(t)
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard needs a uid and a title")
	}
	used := map[string]bool{}
	for _, e := range exprs {
		for _, s := range parseExpr(t, e) {
			used[strings.TrimSuffix(s.name, "_bucket")] = true
		}
	}
	ids := map[int]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel id %d twice", p.ID)
			}
			ids[p.ID] = true
			if p.Type != "row" && (p.Datasource == nil || p.Datasource.UID != "${datasource}") {
				t.Errorf("panel %s: datasource must be the ${datasource} variable, so the dashboard imports anywhere", p.Title)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for what, metric := range map[string]string{
		"runs by status":       "retentiond_runs_total",
		"deletions by outcome": "retentiond_deletions_total",
		"bytes reclaimed":      "retentiond_bytes_reclaimed_total",
		"storage":              "retentiond_would_reclaim_bytes",
		"scan duration":        "retentiond_scan_duration_seconds",
		"rate limit remaining": "retentiond_github_rate_limit_remaining",
	} {
		if !used[metric] {
			t.Errorf("no panel shows %s (%s)", what, metric)
		}
	}
}
