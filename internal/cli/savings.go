package cli

import (
	"fmt"
	"io"
	"strconv"

	"github.com/retentiond/retentiond/internal/report"
	"github.com/retentiond/retentiond/internal/savings"
	"github.com/retentiond/retentiond/internal/store"
)

// printRunSavings prints a run's savings lines in its summary: what its
// deletions saved (or a dry-run's would save) in GB-hours, with money when
// STORAGE_PRICE_PER_GB_MONTH is set, and the storage still accruing.
func printRunSavings(w io.Writer, r store.Run, rs store.RunSavings, price *float64) {
	label, u := "saved         ", rs.Saved
	if r.DryRun {
		label, u = "would save    ", rs.WouldSave
	}
	fmt.Fprintf(w, "  %s %s of storage GitHub bills by the hour%s\n", label, gbHours(u), money(u, price, " (%s at STORAGE_PRICE_PER_GB_MONTH)"))
	if rs.LiveBytes >= 0 {
		fmt.Fprintf(w, "  still billed   %s live, accruing %s GB-hours an hour\n", report.Bytes(rs.LiveBytes),
			formatGBHours(float64(rs.LiveBytes)/savings.BytesPerGB))
	}
}

// gbHours formats usage as "1,234.5 GB-hours (1.66 GB-months)".
func gbHours(u savings.Usage) string {
	return formatGBHours(u.GBHours) + " GB-hours (" + strconv.FormatFloat(u.GBMonths, 'f', 2, 64) + " GB-months)"
}

// formatGBHours rounds to one decimal and groups thousands, so large
// figures stay readable: 1234567.89 is "1,234,567.9".
func formatGBHours(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	whole, frac := s[:len(s)-2], s[len(s)-2:]
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return sign + whole + frac
}

// money formats u's cost into format when a price is set, else "". The
// currency is whatever the price is in, so no symbol is printed.
func money(u savings.Usage, price *float64, format string) string {
	if price == nil {
		return ""
	}
	return fmt.Sprintf(format, strconv.FormatFloat(u.Cost(*price), 'f', 2, 64))
}
