// Package report formats what retentiond prints for people and for scripts:
// sizes like "1.2 GB", ages like "9d", aligned tables on a terminal, and
// JSON or CSV when asked.
package report

import (
	"fmt"
	"strconv"
	"time"
)

// Bytes formats n in decimal units (KB = 1000 B), as GitHub's UI does:
// "0 B", "999 B", "1.2 KB", "45 MB", "1.2 GB". They are the units the policy
// language accepts (KB, MB, GB are powers of 1000 there too), so a size read
// in a report means the same in a rule's larger_than.
func Bytes(n int64) string {
	if n < 0 {
		return "-" + Bytes(-n)
	}
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KB", "MB", "GB", "TB", "PB", "EB"}
	v := float64(n) / unit
	i := 0
	for v >= unit-0.05 && i < len(units)-1 {
		v /= unit
		i++
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// Age formats d coarsely, largest unit first: "45s", "12m", "3h", "9d",
// "2d5h" (days keep hours under 10 days, where they still matter).
func Age(d time.Duration) string {
	if d < 0 {
		return "-" + Age(-d)
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	days := int(d / (24 * time.Hour))
	hours := int((d % (24 * time.Hour)) / time.Hour)
	if days < 10 && hours > 0 {
		return fmt.Sprintf("%dd%dh", days, hours)
	}
	return fmt.Sprintf("%dd", days)
}

// AgeSince formats the age of t at now, or "?" for a zero (unknown) t.
func AgeSince(now, t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return Age(now.Sub(t))
}

// Time formats t for tables: UTC, to the second, or "-" when zero.
func Time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}
