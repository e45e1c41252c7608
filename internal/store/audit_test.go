package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/store"
)

func TestParseOutcome(t *testing.T) {
	t.Parallel()
	for _, o := range store.Outcomes() {
		for _, s := range []string{string(o), strings.ToUpper(string(o))} {
			got, err := store.ParseOutcome(s)
			if err != nil || got != o {
				t.Errorf("ParseOutcome(%q) = %q, %v; want %q", s, got, err, o)
			}
		}
	}
	_, err := store.ParseOutcome("bogus")
	const want = `unknown outcome "bogus"; accepted: kept, dry_run, pending, deleted, already_gone, failed, skipped_cap, skipped_rate_limit, interrupted, changed, expired_not_archived`
	if err == nil || err.Error() != want {
		t.Errorf("ParseOutcome(bogus) error = %v, want %s", err, want)
	}
}

// Outcomes is the list the database accepts, no more and no less.
func TestOutcomesAreWhatTheDatabaseAccepts(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	run, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: "manual", DryRun: true, PolicySHA256: "x", MaxDeletions: 1})
	if err != nil {
		t.Fatal(err)
	}
	entry := func(o store.Outcome) store.AuditEntry {
		a := store.ActionDelete
		if o == store.OutcomeKept {
			a = store.ActionKeep
		}
		return store.AuditEntry{RunID: run, RecordedAt: t0, Repository: "octo/api", ArtifactID: 1, ArtifactName: "build",
			Action: a, Rule: "r", Reason: "r", Outcome: o}
	}
	for _, o := range store.Outcomes() {
		if err := st.InsertAudit(ctx, []store.AuditEntry{entry(o)}); err != nil {
			t.Errorf("outcome %s: %v", o, err)
		}
	}
	if err := st.InsertAudit(ctx, []store.AuditEntry{entry("bogus")}); err == nil {
		t.Error("the database accepted an outcome that is not in Outcomes")
	}
}

func TestAuditRuleFilterIgnoresCase(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	run, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: "manual", DryRun: true, PolicySHA256: "x", MaxDeletions: 1})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: "manual", DryRun: true, PolicySHA256: "x", MaxDeletions: 1})
	if err != nil {
		t.Fatal(err)
	}
	row := func(run, id int64, rule string, a store.Action, o store.Outcome) store.AuditEntry {
		return store.AuditEntry{RunID: run, RecordedAt: t0, Repository: "octo/api", ArtifactID: id, ArtifactName: "build",
			ArtifactCreatedAt: t0.Add(time.Duration(id) * time.Minute), Action: a, Rule: rule, Reason: "r", Outcome: o}
	}
	if err := st.InsertAudit(ctx, []store.AuditEntry{
		row(run, 1, "Old-Builds", store.ActionDelete, store.OutcomeDryRun),
		row(run, 2, "keep-latest", store.ActionKeep, store.OutcomeKept),
		row(run, 3, "", store.ActionKeep, store.OutcomeKept),
		row(run, 4, "safety.min_age", store.ActionKeep, store.OutcomeKept),
		row(run, 5, "Old-Builds", store.ActionDelete, store.OutcomeDryRun),
		row(other, 6, "only-in-other", store.ActionDelete, store.OutcomeDryRun),
	}); err != nil {
		t.Fatal(err)
	}
	for _, rule := range []string{"Old-Builds", "old-builds", "OLD-BUILDS"} {
		entries, err := st.AuditEntries(ctx, store.AuditFilter{RunID: run, Rule: rule})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range entries {
			ids = append(ids, e.ArtifactID)
		}
		if diff := cmp.Diff([]int64{1, 5}, ids); diff != "" {
			t.Errorf("AuditEntries rule %q (-want +got):\n%s", rule, diff)
		}
		reviewed, err := st.ReviewedDecisions(ctx, run, store.ReviewFilter{Rule: rule})
		if err != nil || len(reviewed) != 2 {
			t.Errorf("ReviewedDecisions rule %q: %d decisions, %v; want 2", rule, len(reviewed), err)
		}
	}

	// The rules a run's audit log names, for telling a mistyped --rule from
	// one that matched nothing.
	rules, err := st.RunRules(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"keep-latest", "Old-Builds", "safety.min_age"}, rules); diff != "" {
		t.Errorf("RunRules (-want +got):\n%s", diff)
	}
}
