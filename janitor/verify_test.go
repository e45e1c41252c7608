package janitor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/testbed"
	"github.com/retentiond/retentiond/janitor"
)

func TestVerifyDeletesOnlyWhatIsUnchanged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(a *artifact.Artifact) // nil: remove it
		want   store.Outcome
		errHas string
	}{
		{name: "unchanged", change: func(*artifact.Artifact) {}, want: store.OutcomeDeleted},
		{name: "expired since is still the same artifact", change: func(a *artifact.Artifact) { a.Expired = true }, want: store.OutcomeDeleted},
		{name: "renamed", change: func(a *artifact.Artifact) { a.Name = "other" }, want: store.OutcomeChanged, errHas: `name "build" is now "other"`},
		{name: "resized", change: func(a *artifact.Artifact) { a.SizeInBytes += 1 }, want: store.OutcomeChanged, errHas: "size"},
		{name: "recreated", change: func(a *artifact.Artifact) { a.CreatedAt = a.CreatedAt.Add(time.Minute) }, want: store.OutcomeChanged, errHas: "created_at"},
		{name: "gone", want: store.OutcomeAlreadyGone, errHas: "gone before the DELETE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, 1, testbed.Options{})
			it := w.items[0]
			if tc.change == nil {
				w.Sim.RemoveArtifact("octo/api", it.Artifact.ID)
			} else {
				a := w.Sim.Artifacts("octo/api")[0]
				tc.change(&a)
				w.Sim.AddArtifact(a) // same id: replaces it
			}
			w.Sim.ResetCounts()
			rep, err := w.janitor(janitor.Config{MaxDeletions: 10, Verify: true}).Execute(context.Background(), w.runID, w.items)
			if err != nil {
				t.Fatal(err)
			}
			e := w.entries(t)[it.Artifact.ID]
			if e.Outcome != tc.want || !strings.Contains(e.Error, tc.errHas) {
				t.Errorf("outcome %s error %q, want %s containing %q", e.Outcome, e.Error, tc.want, tc.errHas)
			}
			deletes := w.Sim.Requests()["DELETE "+githubsim.RouteDelete]
			if gets := w.Sim.Requests()["GET "+githubsim.RouteGet]; gets != 1 {
				t.Errorf("%d GETs before deleting, want 1", gets)
			}
			if want := tc.want == store.OutcomeDeleted; (deletes == 1) != want {
				t.Errorf("%d DELETEs sent for outcome %s", deletes, tc.want)
			}
			sa, err := w.Store.Artifact(context.Background(), it.Artifact.ID)
			if err != nil {
				t.Fatal(err)
			}
			if gone := !sa.GoneAt.IsZero(); gone != (tc.want != store.OutcomeChanged) {
				t.Errorf("marked gone = %v for outcome %s", gone, tc.want)
			}
			switch tc.want {
			case store.OutcomeChanged:
				if rep.Changed != 1 || rep.Skipped() != 1 {
					t.Errorf("report %+v", rep)
				}
			case store.OutcomeAlreadyGone:
				if rep.AlreadyGone != 1 {
					t.Errorf("report %+v", rep)
				}
			}
		})
	}
}
