package janitor

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// The janitor's work list: the delete decisions of a run in the order they
// are carried out, read a batch at a time.

// Work is a run's delete decisions in execution order, read a batch at a
// time, so that the janitor of a run over a whole organisation never holds
// them all (the runner's comes from the database; Items wraps a slice).
type Work interface {
	// Order fixes the execution order at now (SortForExecution's) and
	// returns how many decisions there are.
	Order(ctx context.Context, now time.Time) (int, error)
	// Read calls fn with the decisions at positions [from, to) of that
	// order, in batches, and returns fn's first error as it is.
	Read(ctx context.Context, from, to int, fn func([]Item) error) error
}

// batchSize is how many decisions the janitor reads, and records, at once:
// large enough that a dry-run of a million decisions is a thousand COPYs,
// small enough that a batch is a few hundred kilobytes.
const batchSize = 1000

// Items is Work over decisions already in memory (apply's, and tests').
func Items(items []Item) Work { return &sliceWork{items: slices.Clone(items)} }

type sliceWork struct{ items []Item }

func (w *sliceWork) Order(_ context.Context, now time.Time) (int, error) {
	SortForExecution(w.items, now)
	return len(w.items), nil
}

func (w *sliceWork) Read(_ context.Context, from, to int, fn func([]Item) error) error {
	for lo := from; lo < to; lo += batchSize {
		if err := fn(w.items[lo:min(lo+batchSize, to)]); err != nil {
			return err
		}
	}
	return nil
}

// SortForExecution orders delete decisions the way they are executed:
// artifacts that still hold storage first, then expired listings (whose
// storage GitHub has freed already, so deleting them saves nothing), and
// within each, oldest first (ties by id). So the cap is spent on storage
// before listings, and a cap or a stop always spares the newest.
func SortForExecution(items []Item, now time.Time) {
	slices.SortStableFunc(items, func(a, b Item) int {
		if c := cmp.Compare(b2i(a.Artifact.ExpiredAt(now)), b2i(b.Artifact.ExpiredAt(now))); c != 0 {
			return c
		}
		if c := a.Artifact.CreatedAt.Compare(b.Artifact.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Artifact.ID, b.Artifact.ID)
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
