package runner_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/discovery"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/policy"
	"github.com/retentiond/retentiond/scanner"
)

// patternRules deletes every artifact older than 5h30m of the repositories the
// list reaches, so a repository's deletions say whether it was decided on.
const patternRules = `safety:
  min_age: 1h
rules:
  - rule: old
    action: delete
    older_than: 5h30m
`

// discoveryRunner is a Runner whose policy's repositories are list, with
// discovery through the simulator.
func discoveryRunner(t *testing.T, b *testbed.Bed, list string, dryRun bool) *runner.Runner {
	t.Helper()
	return discoveryRunnerWith(t, b, list, dryRun, nil)
}

func discoveryRunnerWith(t *testing.T, b *testbed.Bed, list string, dryRun bool, m *runner.Metrics) *runner.Runner {
	t.Helper()
	p, err := policy.Parse([]byte("version: 1\n" + list + patternRules))
	if err != nil {
		t.Fatal(err)
	}
	sc := scanner.New(b.Client, b.Store, scanner.Options{Concurrency: 2, Clock: b.Clock, Logger: b.Logger})
	return runner.New(b.Store, b.Client, sc, p, runner.Config{
		DryRun: dryRun, MaxDeletions: 10_000, Clock: b.Clock, Logger: b.Logger,
		Resolver: discovery.New(b.Client, b.Store, b.Clock, b.Logger), Metrics: m,
	})
}

// plannedByRepo counts a run's delete decisions per repository.
func plannedByRepo(t *testing.T, b *testbed.Bed, runID int64) map[artifact.Repository]int {
	t.Helper()
	entries, err := b.Store.AuditEntries(context.Background(), store.AuditFilter{RunID: runID, Action: store.ActionDelete})
	if err != nil {
		t.Fatal(err)
	}
	out := map[artifact.Repository]int{}
	for _, e := range entries {
		out[e.Repository]++
	}
	return out
}

func decidedRepos(t *testing.T, b *testbed.Bed, runID int64) map[artifact.Repository]int {
	t.Helper()
	rows, err := b.Store.Pool().Query(context.Background(), `SELECT repository, count(*) FROM decisions WHERE run_id = $1 GROUP BY 1`, runID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[artifact.Repository]int{}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			t.Fatal(err)
		}
		out[artifact.Repository(r)] = n
	}
	return out
}

func TestPatternsResolveAnOrganisationBeyondOnePage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	// 130 repositories, so the listing takes two pages; artifacts in three.
	for i := range 130 {
		b.Sim.AddRepository(fmt.Sprintf("acme/svc-%03d", i))
	}
	b.Add("acme/svc-001", 8, nil)
	b.Add("acme/legacy-a", 8, nil)  // excluded
	b.Add("acme/archive-1", 8, nil) // archived
	b.Sim.SetArchived("acme/archive-1", true)
	b.Add("other/plain", 8, nil) // a plain entry
	b.Sim.ResetCounts()

	r := discoveryRunner(t, b, "repositories: [\"acme/*\", \"!acme/legacy-*\", other/plain]\n", true)
	sum, err := r.Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != runner.StatusSucceeded {
		t.Fatalf("run %s: %s", sum.Status, sum.Error)
	}
	if n := b.Sim.Requests()["GET "+githubsim.RouteOrgRepos]; n != 2 {
		t.Errorf("organisation listing requests = %d, want ceil(132/100) = 2", n)
	}
	// Every repository of acme but the excluded and the archived one, and
	// the plain entry, without listing its owner.
	if got, want := len(sum.Scan.Repos), 130+1; got != want {
		t.Errorf("scanned %d repositories, want %d", got, want)
	}
	planned := plannedByRepo(t, b, sum.RunID)
	if planned["acme/svc-001"] != 3 || planned["other/plain"] != 3 {
		t.Errorf("deletions: %v; want 3 in acme/svc-001 and other/plain", planned)
	}
	decided := decidedRepos(t, b, sum.RunID)
	for _, repo := range []artifact.Repository{"acme/legacy-a", "acme/archive-1"} {
		if decided[repo] != 0 {
			t.Errorf("%s got %d decisions; excluded and archived repositories get none", repo, decided[repo])
		}
	}
	if b.Sim.Requests()["GET "+githubsim.RouteUserRepos] != 0 {
		t.Error("an organisation was listed as a user")
	}
	d, err := b.Store.RunDiscoveries(ctx, sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.RunDiscovery{Discovered: 132, Archived: 1, Excluded: 1}); d[sum.RunID] != want {
		t.Errorf("recorded discovery %+v, want %+v", d[sum.RunID], want)
	}
}

func TestIncludeArchivedScansWithoutDeletions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	b.Add("acme/live", 8, nil)
	b.Add("acme/frozen", 8, nil)
	b.Sim.SetArchived("acme/frozen", true)
	r := discoveryRunner(t, b, "repositories: [\"acme/*\"]\ninclude_archived: true\n", false)
	sum, err := r.Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != runner.StatusSucceeded || sum.Janitor.Deleted != 3 || sum.Janitor.Failed != 0 {
		t.Fatalf("run %s (%s): deleted %d, failed %d; want the 3 of acme/live only", sum.Status, sum.Error, sum.Janitor.Deleted, sum.Janitor.Failed)
	}
	if len(b.Sim.Artifacts("acme/frozen")) != 8 {
		t.Error("an artifact of the archived repository was deleted")
	}
	// The archived repository is scanned and reported: every artifact has
	// a keep decision that says what the rules would have done.
	entries, err := b.Store.AuditEntries(ctx, store.AuditFilter{RunID: sum.RunID, Repository: "acme/frozen", Action: store.ActionKeep})
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, e := range entries {
		if e.Rule == runner.RuleArchived {
			held++
			if !strings.Contains(e.Reason, "archived") || !strings.Contains(e.Reason, "matched delete rule old") {
				t.Errorf("reason %q", e.Reason)
			}
		}
	}
	if len(entries) != 8 || held != 3 {
		t.Errorf("archived repository: %d keep decisions, %d held deletions; want 8 and 3", len(entries), held)
	}
}

func TestOwnerListingFailureLeavesItsRepositoriesAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	b.Add("acme/api", 8, nil)
	b.Add("acme/web", 8, nil)
	b.Add("other/plain", 8, nil)
	list := "repositories: [\"acme/*\", other/plain]\n"
	first, err := discoveryRunner(t, b, list, true).Run(ctx, runner.TriggerManual)
	if err != nil || first.Status != runner.StatusSucceeded {
		t.Fatalf("first run: %v %s %s", err, first.Status, first.Error)
	}
	// Meanwhile an artifact of acme/api goes, and the listing breaks.
	gone := b.Sim.Artifacts("acme/api")[0].ID
	b.Sim.RemoveArtifact("acme/api", gone)
	b.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteOrgRepos, Status: http.StatusBadGateway})
	b.Clock.Advance(time.Hour)

	m, h := newMetrics()
	sum, err := discoveryRunnerWith(t, b, list, false, m).Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	scraped := testbed.Scrape(t, h)
	if got := scraped.Value(t, "retentiond_owner_listing_failures_total"); got != 1 {
		t.Errorf("retentiond_owner_listing_failures_total = %v, want 1", got)
	}
	for status, want := range map[string]float64{"scan": 1, "owner_listing_failed": 2, "archived_skipped": 0} {
		if got := scraped.Value(t, "retentiond_repositories", "status", status); got != want {
			t.Errorf("retentiond_repositories{status=%q} = %v, want %v", status, got, want)
		}
	}
	if sum.Status != runner.StatusPartial || !strings.Contains(sum.Error, "repositories of acme: listing failed") {
		t.Errorf("run %s, error %q; want partial, saying the listing of acme failed", sum.Status, sum.Error)
	}
	// The plain entry of another owner is decided on and cleaned up.
	if sum.Janitor.Deleted != 4 || len(b.Sim.Artifacts("other/plain")) != 4 {
		t.Errorf("deleted %d (%v); want other/plain's 4 older than 5h30m", sum.Janitor.Deleted, plannedByRepo(t, b, sum.RunID))
	}
	decided := decidedRepos(t, b, sum.RunID)
	if decided["acme/api"] != 0 || decided["acme/web"] != 0 {
		t.Errorf("decisions for the failed owner's repositories: %v", decided)
	}
	if len(b.Sim.Artifacts("acme/web")) != 8 {
		t.Error("an artifact of the failed owner was deleted")
	}
	// Nothing of acme is marked gone, not even what really went.
	var marked int
	if err := b.Store.Pool().QueryRow(ctx, `SELECT count(*) FROM artifacts WHERE repository LIKE 'acme/%' AND gone_at IS NOT NULL`).Scan(&marked); err != nil || marked != 0 {
		t.Errorf("%d artifacts of acme marked gone (%v); want none", marked, err)
	}
	blocked := 0
	for _, rp := range sum.Discovery.Repos {
		if rp.Status == discovery.OwnerFailed {
			blocked++
		}
	}
	if blocked != 2 {
		t.Errorf("%d repositories reported as left alone, want acme's 2: %+v", blocked, sum.Discovery.Repos)
	}
}

func TestRenameKeepsHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	ids := b.Add("acme/old-name", 8, nil)
	list := "repositories: [\"acme/*\"]\n"
	first, err := discoveryRunner(t, b, list, true).Run(ctx, runner.TriggerManual)
	if err != nil || first.Status != runner.StatusSucceeded {
		t.Fatalf("first run: %v %s", err, first.Error)
	}
	if !b.Sim.RenameRepository("acme/old-name", "acme/new-name") {
		t.Fatal("rename")
	}
	b.Clock.Advance(time.Hour)
	sum, err := discoveryRunner(t, b, list, true).Run(ctx, runner.TriggerManual)
	if err != nil || sum.Status != runner.StatusSucceeded {
		t.Fatalf("run after the rename: %v %s %s", err, sum.Status, sum.Error)
	}
	if len(sum.Discovery.Renames) != 1 || sum.Discovery.Renames[0].Artifacts != 8 {
		t.Errorf("renames: %+v", sum.Discovery.Renames)
	}
	if len(sum.Scan.Repos) != 1 || sum.Scan.Repos[0].Repository != "acme/new-name" || sum.Scan.Repos[0].Gone != 0 || sum.Scan.Repos[0].New != 0 {
		t.Errorf("scan after the rename: %+v; want the new name, nothing new, nothing gone", sum.Scan.Repos)
	}
	// What the incremental scan learnt under the old name is not trusted
	// under the new one: a full scan, which marks nothing gone.
	if mode := sum.Scan.Repos[0].Mode; mode != store.ScanFull {
		t.Errorf("scan mode after the rename: %s, want full", mode)
	}
	live, err := b.Store.LiveArtifacts(ctx, "acme/new-name")
	if err != nil || len(live) != len(ids) {
		t.Errorf("live artifacts under the new name: %d, %v; want %d", len(live), err, len(ids))
	}
	var firstSeen time.Time
	if err := b.Store.Pool().QueryRow(ctx, `SELECT first_seen_at FROM artifacts WHERE id = $1`, ids[0]).Scan(&firstSeen); err != nil || !firstSeen.Equal(testbed.Epoch) {
		t.Errorf("first_seen_at after the rename: %s, %v; want the first run's %s", firstSeen, err, testbed.Epoch)
	}
	if planned := plannedByRepo(t, b, sum.RunID); planned["acme/new-name"] != 4 || planned["acme/old-name"] != 0 {
		t.Errorf("decisions after the rename: %v", planned)
	}
}

func TestRepositoryThatStopsMatchingGetsNoDecisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	b.Add("acme/api-one", 8, nil)
	b.Add("acme/api-two", 8, nil)
	first, err := discoveryRunner(t, b, "repositories: [\"acme/api-*\"]\n", true).Run(ctx, runner.TriggerManual)
	if err != nil || len(first.Scan.Repos) != 2 {
		t.Fatalf("first run: %v %+v", err, first.Scan.Repos)
	}
	// api-two is renamed out of the pattern.
	b.Sim.RenameRepository("acme/api-two", "acme/tools")
	b.Clock.Advance(time.Hour)
	sum, err := discoveryRunner(t, b, "repositories: [\"acme/api-*\"]\n", true).Run(ctx, runner.TriggerManual)
	if err != nil || sum.Status != runner.StatusSucceeded {
		t.Fatalf("second run: %v %s", err, sum.Error)
	}
	decided := decidedRepos(t, b, sum.RunID)
	if decided["acme/tools"] != 0 || decided["acme/api-two"] != 0 || decided["acme/api-one"] != 8 {
		t.Errorf("decisions: %v; want only acme/api-one's", decided)
	}
	// Its rows stay, live, under its current name.
	if live, _ := b.Store.LiveArtifacts(ctx, "acme/tools"); len(live) != 8 {
		t.Errorf("rows of the repository that stopped matching: %d live, want 8", len(live))
	}
}

func TestUserOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	b.Add("octocat/dotfiles", 8, nil)
	b.Sim.SetOwnerKind("octocat", githubsim.User)
	sum, err := discoveryRunner(t, b, "repositories: [\"octocat/*\"]\n", true).Run(ctx, runner.TriggerManual)
	if err != nil || sum.Status != runner.StatusSucceeded {
		t.Fatalf("run: %v %s", err, sum.Error)
	}
	if len(sum.Discovery.Owners) != 1 || !sum.Discovery.Owners[0].User || plannedByRepo(t, b, sum.RunID)["octocat/dotfiles"] != 3 {
		t.Errorf("user owner: %+v", sum.Discovery.Owners)
	}
}

func TestUnchangedOwnerListingIsFree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	for i := range 150 {
		b.Sim.AddRepository(fmt.Sprintf("acme/r%03d", i))
	}
	b.Add("acme/r001", 8, nil)
	list := "repositories: [\"acme/*\"]\n"
	first, err := discoveryRunner(t, b, list, true).Run(ctx, runner.TriggerManual)
	if err != nil || first.Discovery.Owners[0].Counted != 2 {
		t.Fatalf("first run: %v, owners %+v", err, first.Discovery.Owners)
	}
	b.Clock.Advance(time.Hour)
	second, err := discoveryRunner(t, b, list, true).Run(ctx, runner.TriggerManual)
	if err != nil || second.Status != runner.StatusSucceeded {
		t.Fatalf("second run: %v %s", err, second.Error)
	}
	o := second.Discovery.Owners[0]
	if !o.NotModified || o.Counted != 0 || o.Requests != 2 || o.Listed != 150 || len(second.Scan.Repos) != 150 {
		t.Errorf("unchanged listing: %+v, %d scanned; want two free 304s standing for 150 repositories", o, len(second.Scan.Repos))
	}
	// A repository created since changes the listing: it is found.
	b.Add("acme/brand-new", 8, nil)
	b.Clock.Advance(time.Hour)
	third, err := discoveryRunner(t, b, list, true).Run(ctx, runner.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if o := third.Discovery.Owners[0]; o.NotModified || o.Listed != 151 {
		t.Errorf("changed listing: %+v", o)
	}
	if planned := plannedByRepo(t, b, third.RunID); planned["acme/brand-new"] != 4 {
		t.Errorf("the new repository's deletions: %v", planned)
	}
	// After FullListingEvery the owner is listed in full whatever GitHub says.
	b.Clock.Advance(discovery.FullListingEvery)
	fourth, err := discoveryRunner(t, b, list, true).Run(ctx, runner.TriggerManual)
	if err != nil || fourth.Discovery.Owners[0].NotModified || fourth.Discovery.Owners[0].Counted != 2 {
		t.Errorf("after a day: %+v, %v; want a full listing", fourth.Discovery.Owners, err)
	}
}
