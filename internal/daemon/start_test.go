package daemon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/logging"
)

func TestMissedTick(t *testing.T) {
	t.Parallel()
	hourly, err := ParseSchedule("@hourly")
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 12, 7, h, m, 0, 0, time.UTC) }
	for _, c := range []struct {
		name      string
		lastStart time.Time
		now       time.Time
		want      bool
	}{
		{"never ran", time.Time{}, at(10, 30), true},
		{"ran at the tick, restarted before the next", at(10, 0), at(10, 59), false},
		{"the next tick passed while down", at(10, 0), at(11, 0), true},
		{"down for hours", at(7, 5), at(10, 30), true},
		{"ran off-tick, no tick since", at(10, 20), at(10, 50), false},
	} {
		if got := MissedTick(hourly, c.lastStart, c.now); got != c.want {
			t.Errorf("%s: MissedTick = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRunOnceSurvivesAPanic(t *testing.T) {
	t.Parallel()
	calls := 0
	RunOnce(context.Background(), logging.Discard(), func(context.Context) error { calls++; panic("boom") })
	RunOnce(context.Background(), logging.Discard(), func(context.Context) error { calls++; return errors.New("x") })
	if calls != 2 {
		t.Errorf("%d calls", calls)
	}
}
