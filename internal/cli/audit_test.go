package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// A filter that cannot match is refused and says what would; none is ignored.
func TestAuditRefusesFiltersThatCannotMatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if r := w.run(t, "run"); r.code != 0 {
		t.Fatalf("run: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown outcome", []string{"--run", "1", "--outcome", "bogus"},
			`--outcome: unknown outcome "bogus"; accepted: kept, dry_run, pending, deleted, already_gone, failed, skipped_cap, skipped_rate_limit, interrupted, changed, expired_not_archived`},
		{"unknown rule", []string{"--run", "1", "--rule", "nosuch"},
			`--rule "nosuch": run 1 recorded no decision by that rule; its audit log names keep-latest, old-builds`},
		{"outcome without --run", []string{"--outcome", "kept"},
			`--outcome needs --run ID: it filters the decisions of one run ('retentiond audit' lists the runs)`},
		{"filters without --run", []string{"--rule", "old-builds", "--repository", "octo/api", "--action", "keep"},
			`--repository, --rule and --action need --run ID: they filter the decisions of one run ('retentiond audit' lists the runs)`},
		{"a delete outcome with --action keep", []string{"--run", "1", "--outcome", "dry_run", "--action", "keep"},
			`--outcome dry_run and --action keep match nothing: keep decisions, and only they, end kept`},
		{"kept with --action delete", []string{"--run", "1", "--outcome", "kept", "--action", "delete"},
			`--outcome kept and --action delete match nothing: keep decisions, and only they, end kept`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.run(t, append([]string{"audit"}, tt.args...)...)
			if r.code != 2 || r.err == nil || r.err.Error() != tt.want {
				t.Errorf("exit %d, err %v\nwant exit 2 and %s", r.code, r.err, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("printed rows anyway:\n%s", r.stdout)
			}
		})
	}
}

// Rule names and outcomes match regardless of case; --rule alone shows that
// rule's decisions, keep or delete; a rule an old run recorded stays
// queryable after it left the policy.
func TestAuditFilters(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if r := w.run(t, "run"); r.code != 0 {
		t.Fatalf("run: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	decisions := func(args ...string) []map[string]any {
		t.Helper()
		r := w.run(t, append([]string{"audit", "--format", "json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("audit %v: exit %d %v", args, r.code, r.err)
		}
		var out []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("audit %v: %v\n%s", args, err, r.stdout)
		}
		return out
	}
	count := func(rows []map[string]any, key, value string) int {
		n := 0
		for _, row := range rows {
			if row[key] == value {
				n++
			}
		}
		return n
	}
	// Per repository: 4 kept by keep-latest, 1 by no rule, 5 deleted by old-builds.
	if got := decisions("--run", "1", "--rule", "OLD-Builds"); len(got) != 10 || count(got, "rule", "old-builds") != 10 {
		t.Errorf("--rule OLD-Builds: %d decisions, want old-builds' 10", len(got))
	}
	if got := decisions("--run", "1", "--rule", "keep-latest"); len(got) != 8 || count(got, "outcome", "kept") != 8 {
		t.Errorf("--rule keep-latest: %d decisions, want its 8 keeps", len(got))
	}
	if got := decisions("--run", "1", "--rule", "keep-latest", "--action", "delete"); len(got) != 0 {
		t.Errorf("--rule keep-latest --action delete: %d decisions, want none", len(got))
	}
	if got := decisions("--run", "1", "--outcome", "KEPT"); len(got) != 10 {
		t.Errorf("--outcome KEPT: %d decisions, want 10", len(got))
	}

	// old-builds leaves the policy, replaced by stale-builds.
	renamed := strings.Replace(policyYAML, "rule: old-builds", "rule: stale-builds", 1)
	if err := os.WriteFile(w.env["POLICY_FILE"], []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := w.run(t, "run"); r.code != 0 {
		t.Fatalf("second run: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	if got := decisions("--run", "1", "--rule", "old-builds"); len(got) != 10 {
		t.Errorf("run 1 --rule old-builds after the rule left the policy: %d decisions, want 10", len(got))
	}
	r := w.run(t, "audit", "--run", "2", "--rule", "old-builds")
	const want = `--rule "old-builds": run 2 recorded no decision by that rule; its audit log names keep-latest, stale-builds`
	if r.code != 2 || r.err == nil || r.err.Error() != want {
		t.Errorf("run 2 --rule old-builds: exit %d, err %v\nwant exit 2 and %s", r.code, r.err, want)
	}
}
