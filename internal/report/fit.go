package report

import (
	"slices"
	"unicode/utf8"
)

// columnGap is the space Write's table format puts between columns.
const columnGap = 2

// minTrimmedWidth is the narrowest a trimmed column gets: below it a branch
// or a name is no longer recognisable, and a wider table is the lesser evil.
const minTrimmedWidth = 10

// Fit shortens cells of the columns at the indexes in trim, in that order
// (each down to minTrimmedWidth, or its header's width, before the next is
// touched), until the table Write lays out for people is at most width
// characters wide. A cut cell keeps its start and its end around "…": for
// branches and artifact names the end (a version, a ticket) is what tells
// two apart. Raw values, which JSON and CSV write, are left whole.
func (t *Table) Fit(width int, trim ...int) {
	widths := make([]int, len(t.Header))
	measure := func(row []string) {
		for i, c := range row {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
	}
	measure(t.Header)
	for _, r := range t.Rows {
		measure(r)
	}
	excess := columnGap*(len(widths)-1) - width
	for _, w := range widths {
		excess += w
	}
	limit := slices.Clone(widths)
	for _, i := range trim {
		if excess <= 0 || i >= len(limit) {
			break
		}
		floor := max(minTrimmedWidth, utf8.RuneCountInString(t.Header[i]))
		cut := min(excess, max(0, limit[i]-floor))
		limit[i] -= cut
		excess -= cut
	}
	for _, r := range t.Rows {
		for _, i := range trim {
			if i < len(r) {
				r[i] = Shorten(r[i], limit[i])
			}
		}
	}
}

// Shorten returns s if it has at most n characters, else its first and last
// characters around "…", n in all.
func Shorten(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n || n < 1 {
		return s
	}
	if n == 1 {
		return "…"
	}
	tail := (n - 1) / 2
	head := n - 1 - tail
	return string(rs[:head]) + "…" + string(rs[len(rs)-tail:])
}
