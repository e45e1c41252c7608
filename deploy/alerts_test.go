package deploy_test

import (
	"slices"
	"testing"
	"text/template"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// ruleFile is a Prometheus rule file, decoded strictly.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert         string            `yaml:"alert"`
			Record        string            `yaml:"record"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func alertExpressions(t *testing.T) (ruleFile, []expression) {
	t.Helper()
	const file = "prometheus/alerts.yaml"
	docs := documents(t, file)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents", file, len(docs))
	}
	var rf ruleFile
	decodeStrict(t, file, docs[0], &rf)
	var out []expression
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			out = append(out, expression{file + " " + r.Alert + r.Record, r.Expr})
		}
	}
	return rf, out
}

// TestAlertRules checks deploy/prometheus/alerts.yaml's structure: the
// alerts the issue asks for, PromQL that parses, durations, labels and
// annotations that are valid templates.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	rf, exprs := alertExpressions(t)
	for _, e := range exprs {
		parseExpr(t, e)
	}
	var names []string
	for _, g := range rf.Groups {
		if g.Name == "" {
			t.Error("a rule group without a name")
		}
		for _, r := range g.Rules {
			names = append(names, r.Alert)
			if r.Alert == "" {
				t.Errorf("group %s: a rule that is not an alert", g.Name)
			}
			for _, d := range []string{r.For, r.KeepFiringFor} {
				if _, err := model.ParseDuration(d); d != "" && err != nil {
					t.Errorf("%s: %v", r.Alert, err)
				}
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
			}
			for _, a := range []string{"summary", "description"} {
				text, ok := r.Annotations[a]
				if !ok {
					t.Errorf("%s: no %s annotation", r.Alert, a)
				}
				// Prometheus defines $labels and $value before expanding.
				if _, err := template.New(a).Parse(`{{$labels := .Labels}}{{$value := .Value}}` + text); err != nil {
					t.Errorf("%s: annotation %s: %v", r.Alert, a, err)
				}
			}
		}
	}
	for _, want := range []string{"RetentiondRunFailed", "RetentiondNoSuccessfulRun", "RetentiondRateLimitLow",
		"RetentiondDeletionsFailing", "RetentiondPendingDeletionStuck"} {
		if !slices.Contains(names, want) {
			t.Errorf("alerts.yaml has no %s", want)
		}
	}
}

// ruleTests is a promtool rule test file (promtool test rules), decoded
// strictly.
type ruleTests struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	Tests              []struct {
		Name        string `yaml:"name"`
		Interval    string `yaml:"interval"`
		InputSeries []struct {
			Series string `yaml:"series"`
			Values string `yaml:"values"`
		} `yaml:"input_series"`
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestAlertRulesAreUnitTested: promtool cannot run here, so its test file
// is checked for what it must cover — each alert firing at least once, and
// not firing at least once — and that its input series parse as series.
// `promtool test rules deploy/prometheus/alerts_test.yaml` runs it.
func TestAlertRulesAreUnitTested(t *testing.T) {
	t.Parallel()
	const file = "prometheus/alerts_test.yaml"
	var rt ruleTests
	decodeStrict(t, file, documents(t, file)[0], &rt)
	if !slices.Equal(rt.RuleFiles, []string{"alerts.yaml"}) {
		t.Errorf("%s: rule_files %q, want [alerts.yaml]", file, rt.RuleFiles)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	p := parser.NewParser(parser.Options{})
	for _, tc := range rt.Tests {
		for _, in := range tc.InputSeries {
			if _, err := p.ParseMetric(in.Series); err != nil {
				t.Errorf("%s: %s: series %q: %v", file, tc.Name, in.Series, err)
			}
		}
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	rf, _ := alertExpressions(t)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if !fires[r.Alert] || !quiet[r.Alert] {
				t.Errorf("%s: %s is not tested both firing and not firing", file, r.Alert)
			}
		}
	}
}
