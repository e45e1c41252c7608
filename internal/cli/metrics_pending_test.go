package cli

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/retentiond/retentiond/internal/store"
)

type pendingFunc func(context.Context) (store.Pending, error)

func (f pendingFunc) PendingDeletions(ctx context.Context) (store.Pending, error) { return f(ctx) }

// The collector's two states besides the one TestMetricsExist scrapes from
// a real database: nothing pending (no timestamp series, so time() - it
// cannot fire), and a database that does not answer (neither series, and
// the rest of the scrape still served).
func TestPendingCollectorWithoutPendingOrDatabase(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		src  pendingFunc
		want int
	}{
		{"none pending", func(context.Context) (store.Pending, error) { return store.Pending{}, nil }, 1},
		{"one pending", func(context.Context) (store.Pending, error) {
			return store.Pending{Count: 1, Oldest: time.Unix(1700000000, 0)}, nil
		}, 2},
		{"database down", func(context.Context) (store.Pending, error) { return store.Pending{}, errors.New("connection refused") }, 0},
	} {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(newPendingCollector(c.src, slog.New(slog.DiscardHandler)))
		mfs, err := reg.Gather()
		n := 0
		for _, mf := range mfs {
			n += len(mf.GetMetric())
		}
		if err != nil || n != c.want {
			t.Errorf("%s: %d series (%v), want %d", c.name, n, err, c.want)
		}
	}
}
