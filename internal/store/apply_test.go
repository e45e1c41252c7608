package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/store"

	"github.com/retentiond/retentiond/internal/artifact"
)

func TestReviewedDecisionsLeaveOutWhatAnApplySettled(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	newRun := func(dryRun bool, reviewed int64) int64 {
		t.Helper()
		trigger := store.TriggerManual
		if reviewed != 0 {
			trigger = store.TriggerApply
		}
		id, err := st.CreateRun(ctx, store.NewRun{StartedAt: t0, Trigger: trigger, DryRun: dryRun, PolicySHA256: "x", MaxDeletions: 10, ReviewedRunID: reviewed})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	row := func(run, artifactID int64, repo artifact.Repository, rule string, action store.Action, o store.Outcome) store.AuditEntry {
		return store.AuditEntry{RunID: run, RecordedAt: t0, Repository: repo, ArtifactID: artifactID, ArtifactName: "build",
			SizeInBytes: 10, ArtifactCreatedAt: t0.Add(time.Duration(artifactID) * time.Minute), Action: action, Rule: rule, Reason: "r", Outcome: o}
	}
	review := newRun(true, 0)
	other := newRun(true, 0)
	if err := st.InsertAudit(ctx, []store.AuditEntry{
		row(review, 5, "octo/api", "old", store.ActionDelete, store.OutcomeDryRun),
		row(review, 1, "octo/api", "old", store.ActionDelete, store.OutcomeDryRun),
		row(review, 2, "octo/api", "big", store.ActionDelete, store.OutcomeDryRun),
		row(review, 3, "octo/web", "old", store.ActionDelete, store.OutcomeDryRun),
		row(review, 4, "octo/api", "old", store.ActionDelete, store.OutcomeSkippedCap),
		row(review, 6, "octo/api", "keep", store.ActionKeep, store.OutcomeKept),
		row(other, 7, "octo/api", "old", store.ActionDelete, store.OutcomeDryRun),
	}); err != nil {
		t.Fatal(err)
	}
	ids := func(f store.ReviewFilter) []int64 {
		t.Helper()
		entries, err := st.ReviewedDecisions(ctx, review, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, e := range entries {
			out = append(out, e.ArtifactID)
		}
		return out
	}
	for name, tc := range map[string]struct {
		f    store.ReviewFilter
		want []int64
	}{
		"all, oldest first": {store.ReviewFilter{}, []int64{1, 2, 3, 5}},
		"one rule":          {store.ReviewFilter{Rule: "old"}, []int64{1, 3, 5}},
		"one repository":    {store.ReviewFilter{Repository: "octo/web"}, []int64{3}},
		"both":              {store.ReviewFilter{Repository: "octo/api", Rule: "big"}, []int64{2}},
		"no match":          {store.ReviewFilter{Rule: "nope"}, nil},
	} {
		if diff := cmp.Diff(tc.want, ids(tc.f)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}

	// A first apply settles 1 (deleted) and 2 (changed); 3 failed and 5 hit
	// the cap, so they stay to be applied.
	apply := newRun(false, review)
	if err := st.InsertAudit(ctx, []store.AuditEntry{
		row(apply, 1, "octo/api", "old", store.ActionDelete, store.OutcomeDeleted),
		row(apply, 2, "octo/api", "big", store.ActionDelete, store.OutcomeChanged),
		row(apply, 3, "octo/web", "old", store.ActionDelete, store.OutcomeFailed),
		row(apply, 5, "octo/api", "old", store.ActionDelete, store.OutcomeSkippedCap),
	}); err != nil {
		t.Fatal(err)
	}
	// An apply of another run settles nothing of this one.
	otherApply := newRun(false, other)
	if err := st.InsertAudit(ctx, []store.AuditEntry{row(otherApply, 5, "octo/api", "old", store.ActionDelete, store.OutcomeDeleted)}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{3, 5}, ids(store.ReviewFilter{})); diff != "" {
		t.Errorf("after an apply (-want +got):\n%s", diff)
	}
	runs, err := st.ApplyRuns(ctx, review)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{apply}, runs); diff != "" {
		t.Errorf("ApplyRuns (-want +got):\n%s", diff)
	}
}
