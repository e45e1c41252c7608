package ui

import (
	"context"
	"sync"

	"github.com/retentiond/retentiond/internal/store"
)

// breakdownCacheSize bounds the finished runs whose breakdown is kept.
const breakdownCacheSize = 64

// breakdowns keeps the breakdown of finished runs: it is one pass over the
// run's rows (about 100 ms on 100,000 decisions) and cannot change once the
// run has finished. A finished run gains no audit row, and the only change
// audit_log allows (its append-only trigger) is resolving a pending row's
// outcome, while the breakdown counts actions, rules, repositories, sizes and
// ids, none of which change. A running run is read afresh every time.
type breakdowns struct {
	mu   sync.Mutex
	runs map[int64]store.RunBreakdown
}

func (c *breakdowns) get(ctx context.Context, st Store, run store.Run) (store.RunBreakdown, error) {
	finished := !run.FinishedAt.IsZero()
	if finished {
		c.mu.Lock()
		b, ok := c.runs[run.ID]
		c.mu.Unlock()
		if ok {
			return b, nil
		}
	}
	b, err := st.ReviewBreakdown(ctx, run.ID)
	if err != nil || !finished {
		return b, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runs == nil || len(c.runs) >= breakdownCacheSize {
		c.runs = map[int64]store.RunBreakdown{} // simple and bounded: start over
	}
	c.runs[run.ID] = b
	return b, nil
}
