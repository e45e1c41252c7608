package ui

import (
	"strconv"
	"unicode/utf8"

	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/store"
)

// chart is a horizontal bar chart laid out on the server, drawn as inline
// SVG by templates/chart.html: no script, no image request.
type chart struct {
	Width, Height int
	LabelWidth    int
	Bars          []bar
}

type bar struct {
	Label    string // the repository, shortened to fit
	Full     string // the repository, in the bar's tooltip
	Value    string // "1.2 GB in 40 artifacts"
	Y, TextY int
	Width    int
	ValueX   int
}

const (
	chartWidth      = 760
	chartLabelWidth = 230
	chartValueRoom  = 170 // right of the longest bar, for its figure
	barHeight       = 18
	barGap          = 8
	labelRunes      = 30
)

func storageChart(repos []store.ReviewStorage) chart {
	c := chart{Width: chartWidth, LabelWidth: chartLabelWidth}
	var largest int64
	for _, r := range repos {
		largest = max(largest, r.Bytes)
	}
	room := chartWidth - chartLabelWidth - chartValueRoom
	for i, r := range repos {
		w := 0
		if largest > 0 {
			w = int(float64(room) * float64(r.Bytes) / float64(largest))
		}
		if r.Bytes > 0 {
			w = max(w, 1) // a repository that holds anything shows
		}
		y := i * (barHeight + barGap)
		c.Bars = append(c.Bars, bar{
			Label: shorten(string(r.Repository), labelRunes), Full: string(r.Repository),
			Value: report.Bytes(r.Bytes) + " in " + plural(r.Artifacts, "artifact"),
			Y:     y, TextY: y + barHeight - 4, Width: w, ValueX: chartLabelWidth + w + 6,
		})
	}
	c.Height = max(len(repos)*(barHeight+barGap), barHeight)
	return c
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func plural(n int64, word string) string {
	s := strconv.FormatInt(n, 10) + " " + word
	if n != 1 {
		s += "s"
	}
	return s
}
