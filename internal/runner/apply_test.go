package runner_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"
)

// applyPolicy deletes builds and logs older than 3h; logs are archived first.
const applyPolicy = `version: 1
repositories: [octo/api, octo/web]
safety:
  min_age: 1h
rules:
  - rule: old-builds
    action: delete
    name: build
    older_than: 3h
  - rule: old-logs
    action: delete
    name: logs
    older_than: 3h
    archive: true
`

// applyBed is a testbed whose repositories hold 6 artifacts each, an hour
// apart, alternately named build and logs: the three older than 3h (a build
// and two logs) are to be deleted in each.
type applyBed struct {
	*testbed.Bed
	archiveDir string
}

func newApplyBed(t *testing.T) *applyBed {
	t.Helper()
	b := &applyBed{Bed: testbed.New(t, testbed.Options{}), archiveDir: t.TempDir()}
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		b.Add(repo, 6, func(i int, a *artifact.Artifact) {
			if i%2 == 1 {
				a.Name = "logs"
			}
		})
	}
	return b
}

func (b *applyBed) runner(t *testing.T, policyText string, cfg runner.Config) *runner.Runner {
	t.Helper()
	p, err := policy.Parse([]byte(policyText))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock, cfg.Logger = b.Clock, b.Logger
	if cfg.MaxDeletions == 0 {
		cfg.MaxDeletions = 100
	}
	cfg.Archive = janitor.ArchiveConfig{Dir: b.archiveDir, MaxBytes: 1 << 20}
	sc := scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 2, Clock: b.Clock, Logger: b.Logger})
	return runner.New(b.Store, b.Client, sc, p, cfg)
}

// review runs a dry-run and returns its id and the artifacts it would delete.
func (b *applyBed) review(t *testing.T) (int64, []int64) {
	t.Helper()
	sum, err := b.runner(t, applyPolicy, runner.Config{DryRun: true}).Run(context.Background(), runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != runner.StatusSucceeded || sum.Janitor.DryRun != 6 {
		t.Fatalf("review run: %+v", sum)
	}
	return sum.RunID, b.outcomeIDs(t, sum.RunID, store.OutcomeDryRun)
}

func (b *applyBed) outcomeIDs(t *testing.T, runID int64, o store.Outcome) []int64 {
	t.Helper()
	entries, err := b.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: runID, Outcome: o})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range entries {
		ids = append(ids, e.ArtifactID)
	}
	slices.Sort(ids)
	return ids
}

func (b *applyBed) present() map[int64]bool {
	out := map[int64]bool{}
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		for _, a := range b.Sim.Artifacts(repo) {
			out[a.ID] = true
		}
	}
	return out
}

func TestApplyCarriesOutOnlyTheReviewedDecisions(t *testing.T) {
	t.Parallel()
	b := newApplyBed(t)
	ctx := context.Background()
	reviewed, want := b.review(t)
	if n := b.Sim.Requests()["GET "+githubsim.RouteBlob]; n != 0 {
		t.Errorf("the dry-run downloaded %d archives", n)
	}
	// Time passes and new artifacts arrive: today's policy would delete
	// more, but apply carries out only what was reviewed.
	b.Clock.Advance(2 * time.Hour)
	b.Add("octo/api", 5, nil)
	before := b.present()
	b.Sim.ResetCounts()

	sum, err := b.runner(t, applyPolicy, runner.Config{DeleteInterval: time.Second}).Apply(ctx, reviewed, runner.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != runner.StatusSucceeded || sum.Trigger != runner.TriggerApply || sum.Janitor.Deleted != 6 {
		t.Fatalf("summary %+v", sum)
	}
	var deleted []int64
	after := b.present()
	for id := range before {
		if !after[id] {
			deleted = append(deleted, id)
		}
	}
	slices.Sort(deleted)
	if diff := cmp.Diff(want, deleted); diff != "" {
		t.Errorf("deleted (-reviewed +got):\n%s", diff)
	}
	reqs := b.Sim.Requests()
	if reqs["DELETE "+githubsim.RouteDelete] != 6 || reqs["GET "+githubsim.RouteGet] != 6 || reqs["GET "+githubsim.RouteList] != 0 {
		t.Errorf("requests %v: want a GET and a DELETE per reviewed decision and no scan", reqs)
	}
	// The four logs (two per repository) were archived before their deletion.
	if reqs["GET "+githubsim.RouteBlob] != 4 || reqs[githubsim.BlobWithAuthorization] != 0 {
		t.Errorf("requests %v: want 4 archive downloads, without the token", reqs)
	}
	run, err := b.Store.Run(ctx, sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Trigger != "apply" || run.DryRun || run.ReviewedRunID != reviewed || run.Deleted != 6 || run.PlannedDeletions != 6 || run.Status != "succeeded" {
		t.Errorf("run row %+v", run)
	}
	entries, err := b.Store.AuditEntries(ctx, store.AuditFilter{RunID: sum.RunID})
	if err != nil {
		t.Fatal(err)
	}
	review, _ := b.Store.AuditEntries(ctx, store.AuditFilter{RunID: reviewed, Outcome: store.OutcomeDryRun})
	for i, e := range entries {
		if e.Outcome != store.OutcomeDeleted || e.Rule != review[i].Rule || e.Reason != review[i].Reason || e.ArtifactID != review[i].ArtifactID {
			t.Errorf("entry %+v, reviewed as %+v", e, review[i])
		}
		if archived := e.ArchivePath != ""; archived != (e.Rule == "old-logs") {
			t.Errorf("artifact %d of rule %s: archive %q", e.ArtifactID, e.Rule, e.ArchivePath)
		} else if archived {
			if _, err := os.Stat(e.ArchivePath); err != nil || !strings.HasPrefix(e.ArchivePath, b.archiveDir) {
				t.Errorf("archive %s: %v", e.ArchivePath, err)
			}
		}
	}
	// Paced like any run: one interval between consecutive deletions.
	if got := len(b.Clock.Sleeps()); got != 5 {
		t.Errorf("%d pauses, want 5: %v", got, b.Clock.Sleeps())
	}
	b.AssertNoToken()
}

func TestApplySparesWhatChangedSinceTheReview(t *testing.T) {
	t.Parallel()
	b := newApplyBed(t)
	ctx := context.Background()
	reviewed, ids := b.review(t)
	byID := map[int64]artifact.Artifact{}
	for _, repo := range []artifact.Repository{"octo/api", "octo/web"} {
		for _, a := range b.Sim.Artifacts(repo) {
			byID[a.ID] = a
		}
	}
	gone, resized, renamed, recreated := ids[0], ids[1], ids[2], ids[3]
	b.Sim.RemoveArtifact(byID[gone].Repository, gone)
	for id, change := range map[int64]func(a *artifact.Artifact){
		resized:   func(a *artifact.Artifact) { a.SizeInBytes *= 2 },
		renamed:   func(a *artifact.Artifact) { a.Name = "renamed" },
		recreated: func(a *artifact.Artifact) { a.CreatedAt = a.CreatedAt.Add(time.Second) },
	} {
		a := byID[id]
		change(&a)
		b.Sim.AddArtifact(a) // same id: replaces it
	}
	b.Sim.ResetCounts()

	sum, err := b.runner(t, applyPolicy, runner.Config{}).Apply(ctx, reviewed, runner.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jr := sum.Janitor
	if jr.Deleted != 2 || jr.AlreadyGone != 1 || jr.Changed != 3 || sum.Status != runner.StatusPartial ||
		!strings.Contains(sum.Error, "3 artifact(s) changed since the review") {
		t.Fatalf("summary %+v", sum)
	}
	for _, id := range []int64{resized, renamed, recreated} {
		if !b.present()[id] {
			t.Errorf("artifact %d changed since the review but was deleted", id)
		}
	}
	if n := b.Sim.Requests()["DELETE "+githubsim.RouteDelete]; n != 2 {
		t.Errorf("%d DELETEs, want 2", n)
	}
	if diff := cmp.Diff([]int64{gone}, b.outcomeIDs(t, sum.RunID, store.OutcomeAlreadyGone)); diff != "" {
		t.Errorf("already_gone (-want +got):\n%s", diff)
	}
	changed := []int64{resized, renamed, recreated}
	slices.Sort(changed)
	if diff := cmp.Diff(changed, b.outcomeIDs(t, sum.RunID, store.OutcomeChanged)); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	run, _ := b.Store.Run(ctx, sum.RunID)
	if run.Skipped != 3 || run.AlreadyGone != 1 || run.Status != "partial" {
		t.Errorf("run row %+v", run)
	}
}

func TestApplyRefuses(t *testing.T) {
	t.Parallel()
	const otherPolicy = `version: 1
repositories: [octo/api, octo/web]
rules:
  - rule: old-builds
    action: delete
    name: build
    older_than: 3h
`
	const keepPolicy = `version: 1
repositories: [octo/api, octo/web]
rules:
  - rule: old-builds
    action: delete
    name: build
    older_than: 3h
  - rule: old-logs
    action: keep
    name: logs
`
	const fewerRepos = `version: 1
repositories: [octo/api]
rules:
  - rule: old-builds
    action: delete
    name: build
    older_than: 3h
  - rule: old-logs
    action: delete
    name: logs
    older_than: 3h
`
	tests := []struct {
		name   string
		prep   func(t *testing.T, b *applyBed, reviewed int64) int64 // returns the run to apply
		policy string
		opts   runner.ApplyOptions
		want   string
	}{
		{
			name: "review older than APPLY_MAX_AGE",
			prep: func(t *testing.T, b *applyBed, reviewed int64) int64 {
				b.Clock.Advance(7*24*time.Hour + time.Minute)
				return reviewed
			},
			want: "started 7d1m ago, older than APPLY_MAX_AGE 7d",
		},
		{
			name: "review older than a shorter APPLY_MAX_AGE",
			prep: func(t *testing.T, b *applyBed, reviewed int64) int64 {
				b.Clock.Advance(2 * time.Hour)
				return reviewed
			},
			opts: runner.ApplyOptions{MaxAge: time.Hour},
			want: "started 2h ago, older than APPLY_MAX_AGE 1h",
		},
		{
			name: "no such run",
			prep: func(t *testing.T, b *applyBed, reviewed int64) int64 { return reviewed + 100 },
			want: "does not exist",
		},
		{
			name: "not a dry-run",
			prep: func(t *testing.T, b *applyBed, reviewed int64) int64 {
				return finishedRun(t, b, false, "succeeded")
			},
			want: "was not a dry-run",
		},
		{
			name: "still running",
			prep: func(t *testing.T, b *applyBed, reviewed int64) int64 {
				id, err := b.Store.CreateRun(context.Background(), store.NewRun{StartedAt: b.Clock.Now(), Trigger: "manual", DryRun: true, PolicySHA256: "x", MaxDeletions: 1})
				if err != nil {
					t.Fatal(err)
				}
				// Apply closes runs left running as abandoned first.
				return id
			},
			want: "failed",
		},
		{
			name: "failed",
			prep: func(t *testing.T, b *applyBed, reviewed int64) int64 {
				return finishedRun(t, b, true, "failed")
			},
			want: "failed",
		},
		{
			name: "no decision of that rule",
			prep: func(t *testing.T, b *applyBed, reviewed int64) int64 { return reviewed },
			opts: runner.ApplyOptions{OnlyRule: "nope"},
			want: "has no dry_run delete decisions of rule nope",
		},
		{
			name:   "rule gone from the policy",
			prep:   func(t *testing.T, b *applyBed, reviewed int64) int64 { return reviewed },
			policy: otherPolicy,
			want:   "rule old-logs is no longer in the policy",
		},
		{
			name:   "rule now keeps",
			prep:   func(t *testing.T, b *applyBed, reviewed int64) int64 { return reviewed },
			policy: keepPolicy,
			want:   "rule old-logs is no longer a delete rule",
		},
		{
			name:   "repository gone from the policy",
			prep:   func(t *testing.T, b *applyBed, reviewed int64) int64 { return reviewed },
			policy: fewerRepos,
			want:   "repository octo/web is no longer in the policy",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newApplyBed(t)
			ctx := context.Background()
			reviewed, _ := b.review(t)
			target := tc.prep(t, b, reviewed)
			runsBefore, _ := b.Store.Runs(ctx, 100)
			b.Sim.ResetCounts()
			pol := tc.policy
			if pol == "" {
				pol = applyPolicy
			}
			_, err := b.runner(t, pol, runner.Config{}).Apply(ctx, target, tc.opts)
			if !errors.Is(err, runner.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrRefused saying %q", err, tc.want)
			}
			runsAfter, _ := b.Store.Runs(ctx, 100)
			if len(runsAfter) != len(runsBefore) {
				t.Errorf("a refused apply recorded a run")
			}
			if n := b.Sim.TotalRequests(); n != 0 {
				t.Errorf("a refused apply sent %d requests: %v", n, b.Sim.Requests())
			}
		})
	}
}

// finishedRun records a finished run with no decisions.
func finishedRun(t *testing.T, b *applyBed, dryRun bool, status store.RunStatus) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := b.Store.CreateRun(ctx, store.NewRun{StartedAt: b.Clock.Now(), Trigger: "manual", DryRun: dryRun, PolicySHA256: "x", MaxDeletions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Store.FinishRun(ctx, id, store.RunTotals{FinishedAt: b.Clock.Now(), Status: status}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestApplyNarrowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts runner.ApplyOptions
		want func(e store.AuditEntry) bool
	}{
		{"one rule", runner.ApplyOptions{OnlyRule: "old-builds"}, func(e store.AuditEntry) bool { return e.Rule == "old-builds" }},
		{"one repository", runner.ApplyOptions{OnlyRepository: "octo/web"}, func(e store.AuditEntry) bool { return e.Repository == "octo/web" }},
		{"both", runner.ApplyOptions{OnlyRule: "old-logs", OnlyRepository: "octo/api"}, func(e store.AuditEntry) bool {
			return e.Rule == "old-logs" && e.Repository == "octo/api"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newApplyBed(t)
			ctx := context.Background()
			reviewed, _ := b.review(t)
			review, _ := b.Store.AuditEntries(ctx, store.AuditFilter{RunID: reviewed, Outcome: store.OutcomeDryRun})
			var want []int64
			for _, e := range review {
				if tc.want(e) {
					want = append(want, e.ArtifactID)
				}
			}
			slices.Sort(want)
			sum, err := b.runner(t, applyPolicy, runner.Config{}).Apply(ctx, reviewed, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, b.outcomeIDs(t, sum.RunID, store.OutcomeDeleted)); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
			if len(want) == 0 || sum.Janitor.Planned != len(want) {
				t.Errorf("planned %d, want %d", sum.Janitor.Planned, len(want))
			}
		})
	}
}

func TestApplyRespectsTheCapAndResumes(t *testing.T) {
	t.Parallel()
	b := newApplyBed(t)
	ctx := context.Background()
	reviewed, want := b.review(t)
	b.Sim.ResetCounts()
	r := b.runner(t, applyPolicy, runner.Config{MaxDeletions: 4})

	first, err := r.Apply(ctx, reviewed, runner.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Janitor.Deleted != 4 || first.Janitor.SkippedCap != 2 || first.Status != runner.StatusSucceeded || !strings.Contains(first.Error, "MAX_DELETIONS_PER_RUN=4") {
		t.Fatalf("first apply %+v", first)
	}
	second, err := r.Apply(ctx, reviewed, runner.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Janitor.Planned != 2 || second.Janitor.Deleted != 2 || second.Status != runner.StatusSucceeded {
		t.Fatalf("second apply %+v", second)
	}
	got := append(b.outcomeIDs(t, first.RunID, store.OutcomeDeleted), b.outcomeIDs(t, second.RunID, store.OutcomeDeleted)...)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deleted over both applies (-want +got):\n%s", diff)
	}
	// Nothing is left: a third apply is refused, and nothing was deleted twice.
	_, err = r.Apply(ctx, reviewed, runner.ApplyOptions{})
	if !errors.Is(err, runner.ErrRefused) || !strings.Contains(err.Error(), "nothing left to apply") {
		t.Errorf("third apply: err = %v", err)
	}
	if n := b.Sim.Requests()["DELETE "+githubsim.RouteDelete]; n != len(want) {
		t.Errorf("%d DELETEs for %d reviewed decisions", n, len(want))
	}
}

func TestApplyKeepsWhatCannotBeArchived(t *testing.T) {
	t.Parallel()
	b := newApplyBed(t)
	ctx := context.Background()
	reviewed, _ := b.review(t)
	review, _ := b.Store.AuditEntries(ctx, store.AuditFilter{RunID: reviewed, Outcome: store.OutcomeDryRun, Rule: "old-logs"})
	expired := review[0]
	b.Sim.SetExpired(expired.Repository, expired.ArtifactID, true)

	sum, err := b.runner(t, applyPolicy, runner.Config{}).Apply(ctx, reviewed, runner.ApplyOptions{OnlyRule: "old-logs"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Janitor.ExpiredNotArchived != 1 || sum.Janitor.Deleted != len(review)-1 || sum.Janitor.Archived != len(review)-1 ||
		sum.Status != runner.StatusPartial || !strings.Contains(sum.Error, "archive expired") {
		t.Fatalf("summary %+v", sum)
	}
	if !b.Sim.Exists(expired.Repository, expired.ArtifactID) {
		t.Error("an artifact whose rule requires an archive was deleted unarchived")
	}
	files, _ := filepath.Glob(filepath.Join(b.archiveDir, "octo", "*", "*.zip"))
	if len(files) != len(review)-1 {
		t.Errorf("archives %v, want %d", files, len(review)-1)
	}
}

// The APPLY_MAX_AGE refusal gives the run's real age and the limit, both
// readable; an age never reads as the limit it exceeds.
func TestApplyRefusalGivesTheAgeAndTheLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		age      time.Duration
		maxAge   time.Duration
		wantTail string // after "run N started "
	}{
		{"seconds", 2 * time.Second, time.Second, "2s ago, older than APPLY_MAX_AGE 1s"},
		{"hours and minutes", 3*time.Hour + 7*time.Minute, time.Hour, "3h7m ago, older than APPLY_MAX_AGE 1h"},
		{"the default, in days", 8*24*time.Hour + 5*time.Hour, 0, "8d5h ago, older than APPLY_MAX_AGE 7d"},
		{"just past the limit", 7*24*time.Hour + 30*time.Second, 7 * 24 * time.Hour, "7d30s ago, older than APPLY_MAX_AGE 7d"},
		{"a fractional limit", 2 * time.Second, 1500 * time.Millisecond, "2s ago, older than APPLY_MAX_AGE 1.5s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newApplyBed(t)
			reviewed, _ := b.review(t)
			b.Clock.Advance(tc.age)
			_, err := b.runner(t, applyPolicy, runner.Config{}).Apply(context.Background(), reviewed, runner.ApplyOptions{MaxAge: tc.maxAge})
			want := fmt.Sprintf("apply refused: run %d started %s: artifacts and rules may have changed since it was reviewed; review a new dry-run", reviewed, tc.wantTail)
			if !errors.Is(err, runner.ErrRefused) || err.Error() != want {
				t.Errorf("err = %v\nwant  %s", err, want)
			}
		})
	}
}

// Rule names are unique regardless of case, so --only-rule and the lookup of
// a reviewed rule in the current policy ignore case too.
func TestApplyRuleNamesIgnoreCase(t *testing.T) {
	t.Parallel()
	const recased = `version: 1
repositories: [octo/api, octo/web]
safety:
  min_age: 1h
rules:
  - rule: Old-Builds
    action: delete
    name: build
    older_than: 3h
  - rule: OLD-LOGS
    action: delete
    name: logs
    older_than: 3h
    archive: true
`
	tests := []struct {
		name   string
		policy string
		opts   runner.ApplyOptions
		rule   string // whose reviewed decisions are deleted; "" for all
	}{
		{"--only-rule in another case", applyPolicy, runner.ApplyOptions{OnlyRule: "OLD-Builds"}, "old-builds"},
		{"rules renamed only in case", recased, runner.ApplyOptions{}, ""},
		{"both", recased, runner.ApplyOptions{OnlyRule: "old-logs"}, "old-logs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newApplyBed(t)
			ctx := context.Background()
			reviewed, _ := b.review(t)
			review, _ := b.Store.AuditEntries(ctx, store.AuditFilter{RunID: reviewed, Outcome: store.OutcomeDryRun})
			var want []int64
			for _, e := range review {
				if tc.rule == "" || e.Rule == tc.rule {
					want = append(want, e.ArtifactID)
				}
			}
			slices.Sort(want)
			sum, err := b.runner(t, tc.policy, runner.Config{}).Apply(ctx, reviewed, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, b.outcomeIDs(t, sum.RunID, store.OutcomeDeleted)); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}
