package ui

import (
	"strings"
	"testing"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/store"
)

func TestStorageChart(t *testing.T) {
	t.Parallel()
	long := "an-owner/" + strings.Repeat("x", 40)
	c := storageChart([]store.ReviewStorage{
		{Repository: "a/big", Artifacts: 3, Bytes: 2_000_000_000},
		{Repository: "b/half", Artifacts: 1, Bytes: 1_000_000_000},
		{Repository: "c/tiny", Artifacts: 2, Bytes: 1},
		{Repository: "d/none", Artifacts: 1, Bytes: 0},
		{Repository: artifact.Repository(long), Artifacts: 0},
	})
	room := chartWidth - chartLabelWidth - chartValueRoom
	want := []int{room, room / 2, 1, 0, 0}
	if len(c.Bars) != len(want) {
		t.Fatalf("%d bars", len(c.Bars))
	}
	for i, b := range c.Bars {
		if b.Width != want[i] {
			t.Errorf("bar %d (%s): width %d, want %d", i, b.Full, b.Width, want[i])
		}
		if b.ValueX != chartLabelWidth+b.Width+6 || b.Y != i*(barHeight+barGap) {
			t.Errorf("bar %d placed at x %d y %d", i, b.ValueX, b.Y)
		}
	}
	if c.Bars[0].Value != "2.0 GB in 3 artifacts" || c.Bars[1].Value != "1.0 GB in 1 artifact" {
		t.Errorf("values %q, %q", c.Bars[0].Value, c.Bars[1].Value)
	}
	if got := c.Bars[4].Label; len([]rune(got)) != labelRunes || !strings.HasSuffix(got, "…") {
		t.Errorf("long label %q", got)
	}
	if c.Height != 5*(barHeight+barGap) {
		t.Errorf("height %d", c.Height)
	}
	if empty := storageChart(nil); len(empty.Bars) != 0 || empty.Height == 0 {
		t.Errorf("empty chart %+v", empty)
	}
}
