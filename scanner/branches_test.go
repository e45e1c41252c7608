package scanner_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/scanner"
)

func newBranches(b *testbed.Bed) *scanner.Branches {
	return scanner.NewBranches(b.Client, b.Store, scanner.Options{Clock: b.Clock, Logger: b.Logger})
}

func manyBranches(n int) []string {
	names := []string{"main"}
	for i := range n {
		names = append(names, fmt.Sprintf("feature/%03d", i))
	}
	return names
}

// A listing of several pages is read, then checked with free conditional
// requests; the next listing asks every page with its ETag, and pages that
// did not change cost nothing and keep their stored names.
func TestBranchListingAndConditionalRelisting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	repo := artifact.Repository("octo/api")
	b.Sim.SetBranches(repo, manyBranches(250)...)
	bs := newBranches(b)

	res := bs.Scan(ctx, repo)
	if res.Err != nil || res.Pages != 3 || res.Branches != 251 || res.Requests != 6 || res.NotModified != 0 {
		t.Fatalf("first listing: %+v", res)
	}
	got, err := b.Store.Branches(ctx, repo)
	if err != nil || !got.Complete || len(got.Names) != 251 || !got.Names["feature/249"] || !got.Names["main"] {
		t.Fatalf("stored: complete %v, %d names, %v", got.Complete, len(got.Names), err)
	}

	// Nothing changed: three 304s, then the three checks.
	res = bs.Scan(ctx, repo)
	if res.Err != nil || res.Branches != 251 || res.NotModified != 3 || res.Requests != 6 {
		t.Errorf("unchanged listing: %+v", res)
	}
	// A branch on the last page goes: pages 1 and 2 are 304s, page 3 is new.
	b.Sim.DeleteBranch(repo, "main")
	res = bs.Scan(ctx, repo)
	if res.Err != nil || res.Branches != 250 || res.NotModified != 2 {
		t.Errorf("listing after a deletion: %+v", res)
	}
	if got, _ = b.Store.Branches(ctx, repo); got.Names["main"] || len(got.Names) != 250 {
		t.Errorf("main still listed: %d names", len(got.Names))
	}
	a := []artifact.Artifact{{Branch: "main"}, {Branch: "feature/001"}, {}}
	got.Annotate(a)
	want := []artifact.BranchState{artifact.BranchDeleted, artifact.BranchExists, artifact.BranchUnknown}
	if diff := cmp.Diff(want, []artifact.BranchState{a[0].BranchState, a[1].BranchState, a[2].BranchState}); diff != "" {
		t.Errorf("annotated (-want +got):\n%s", diff)
	}
}

// A failed listing is recorded and makes the branches unknown, though the
// pages of the last good listing stay for the next conditional requests.
func TestFailedBranchListingMakesBranchesUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	repo := artifact.Repository("octo/api")
	b.Sim.SetBranches(repo, "main", "feature/a")
	bs := newBranches(b)
	if res := bs.Scan(ctx, repo); res.Err != nil {
		t.Fatal(res.Err)
	}
	b.Sim.InjectFault(githubsim.Fault{Route: githubsim.RouteBranches, Status: http.StatusForbidden, Times: 1,
		Body: `{"message":"Resource not accessible by integration"}`})
	res := bs.Scan(ctx, repo)
	if res.Err == nil {
		t.Fatal("a 403 listing succeeded")
	}
	got, err := b.Store.Branches(ctx, repo)
	if err != nil || got.Complete || got.Error == "" {
		t.Errorf("after a failure: %+v, %v", got, err)
	}
	if pages, err := b.Store.BranchPages(ctx, repo); err != nil || len(pages) != 1 || pages[0].ETag == "" {
		t.Errorf("pages kept: %+v, %v", pages, err)
	}
	// The next listing succeeds from a 304 of the kept page.
	if res := bs.Scan(ctx, repo); res.Err != nil || res.NotModified != 1 {
		t.Errorf("relisting: %+v", res)
	}
	if got, _ := b.Store.Branches(ctx, repo); !got.Complete || !got.Names["feature/a"] {
		t.Errorf("after relisting: %+v", got)
	}
	// A repository never listed is unknown too.
	if got, err := b.Store.Branches(ctx, "octo/web"); err != nil || got.Complete {
		t.Errorf("never listed: %+v, %v", got, err)
	}
}

// A branch deleted while the pages are read shifts a branch from page 2 to
// page 1 unseen; the check catches it and the listing is read again, so no
// existing branch is taken for deleted.
func TestBranchListingThatChangesIsReadAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	repo := artifact.Repository("octo/api")
	b.Sim.SetBranches(repo, manyBranches(150)...)
	var once sync.Once
	b.Sim.OnRequest(func(route string, r *http.Request) {
		if route == githubsim.RouteBranches && r.URL.Query().Get("page") == "2" {
			// feature/100 would be page 2's first; deleting feature/000
			// moves it to the end of page 1, already read.
			once.Do(func() { b.Sim.DeleteBranch(repo, "feature/000") })
		}
	})
	res := newBranches(b).Scan(ctx, repo)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	got, _ := b.Store.Branches(ctx, repo)
	if !got.Names["feature/100"] || got.Names["feature/000"] || len(got.Names) != 150 {
		t.Errorf("feature/100 listed %v, feature/000 listed %v, %d names", got.Names["feature/100"], got.Names["feature/000"], len(got.Names))
	}
}

// A list that never holds still fails rather than record a torn listing.
func TestBranchListingThatNeverHoldsFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbed.New(t, testbed.Options{})
	repo := artifact.Repository("octo/api")
	b.Sim.SetBranches(repo, manyBranches(150)...)
	n := 0
	var mu sync.Mutex
	b.Sim.OnRequest(func(route string, r *http.Request) {
		if route == githubsim.RouteBranches && r.URL.Query().Get("page") == "2" {
			mu.Lock()
			n++
			b.Sim.AddBranch(repo, fmt.Sprintf("a-new-%d", n))
			mu.Unlock()
		}
	})
	res := newBranches(b).Scan(ctx, repo)
	if res.Err == nil {
		t.Fatalf("a listing that changed every time was recorded: %+v", res)
	}
	if got, _ := b.Store.Branches(ctx, repo); got.Complete {
		t.Error("branches known after a torn listing")
	}
}
