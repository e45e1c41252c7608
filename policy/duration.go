package policy

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Durations in a policy are Go durations (ns, us, µs, ms, s, m, h) plus d
// (24h) and w (7d): a sequence of number+unit pairs, largest unit first,
// like "7d", "1d12h", "90m" or "1.5h". There is no month or year: their
// length varies, so write 30d or 52w. "m" is minutes.

// durationUnit is one unit a policy duration may use.
type durationUnit struct {
	name string
	size time.Duration
}

// durationUnits is ordered from largest to smallest: a duration must use
// them in this order, each at most once.
var durationUnits = []durationUnit{
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
	{"us", time.Microsecond},
	{"µs", time.Microsecond}, // U+00B5 MICRO SIGN
	{"μs", time.Microsecond}, // U+03BC GREEK SMALL LETTER MU
	{"ns", time.Nanosecond},
}

const durationUnitList = "ns, us, ms, s, m (minutes), h, d (24h), w (7d)"

// parseDuration reads a policy duration. Zero ("0", "0s", …) is accepted
// only when allowZero is set, because only safety.min_age may be disabled.
func parseDuration(s string, allowZero bool) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if s[0] == '-' || s[0] == '+' {
		return 0, fmt.Errorf("duration %q: durations have no sign", s)
	}
	if s == "0" {
		if !allowZero {
			return 0, fmt.Errorf("duration %q must be greater than 0", s)
		}
		return 0, nil
	}
	var d time.Duration
	tooLong := false
	rest := s
	lastUnit := -1
	for rest != "" {
		num, frac, n, err := scanDecimal(rest)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		rest = rest[n:]
		unitLen := 0
		for unitLen < len(rest) && !isDigitOrDot(rest[unitLen]) {
			unitLen++
		}
		unit := rest[:unitLen]
		rest = rest[unitLen:]
		if unit == "" {
			return 0, fmt.Errorf("duration %q: missing unit after %s; use one of %s", s, num+dotFrac(frac), durationUnitList)
		}
		idx := unitIndex(unit)
		if idx < 0 && strings.TrimSpace(unit) != unit {
			return 0, fmt.Errorf("duration %q: no spaces allowed (write 1d12h)", s)
		}
		if idx < 0 {
			return 0, fmt.Errorf("duration %q: unknown unit %q; use one of %s%s", s, unit, durationUnitList, unitHint(unit))
		}
		if lastUnit >= 0 && durationUnits[idx].size >= durationUnits[lastUnit].size {
			return 0, fmt.Errorf("duration %q: units must go from largest to smallest, each once (like 1d12h)", s)
		}
		lastUnit = idx
		// Each part counts in whole nanoseconds, rounded down. A duration
		// that is too long is reported once the rest has been checked, so
		// that a mistake later in it is not hidden.
		v, _, ok := scaleDecimal(num, frac, int64(durationUnits[idx].size))
		if !ok || time.Duration(v) > math.MaxInt64-d {
			tooLong = true
			continue
		}
		d += time.Duration(v)
	}
	if tooLong {
		return 0, fmt.Errorf("duration %q is too long (at most about 292 years)", s)
	}
	if d == 0 && !allowZero {
		return 0, fmt.Errorf("duration %q must be greater than 0", s)
	}
	return d, nil
}

// scanDecimal reads digits[.digits] at the start of s and returns the
// integer digits, the fraction digits and how many bytes it consumed.
func scanDecimal(s string) (intPart, frac string, n int, err error) {
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	intPart = s[:n]
	if intPart == "" {
		return "", "", 0, fmt.Errorf("expected a number at %q", s)
	}
	if n < len(s) && s[n] == '.' {
		start := n + 1
		n = start
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		frac = s[start:n]
		if frac == "" {
			return "", "", 0, fmt.Errorf("expected digits after the decimal point in %q", s)
		}
	}
	return intPart, frac, n, nil
}

// scaleDecimal multiplies the decimal number intPart.frac by unit
// exactly. It returns the whole part of the product, the decimal digits of
// what is left below one without trailing zeros ("" when the product is
// whole), and false when the whole part does not fit in an int64.
func scaleDecimal(intPart, frac string, unit int64) (whole int64, rest string, ok bool) {
	// 0.frac × unit by long multiplication from the last digit: digits
	// become the fraction digits of the product and carry its whole part.
	// carry stays below unit, so with unit at most a week in nanoseconds
	// (or a TiB in bytes) nothing here can overflow.
	var carry int64
	var digits []byte
	if frac != "" {
		digits = make([]byte, len(frac))
		for i := len(frac) - 1; i >= 0; i-- {
			v := int64(frac[i]-'0')*unit + carry
			digits[i] = byte('0' + v%10)
			carry = v / 10
		}
	}
	var n int64
	for i := range len(intPart) {
		d := int64(intPart[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, "", false
		}
		n = n*10 + d
	}
	if n > (math.MaxInt64-carry)/unit {
		return 0, "", false
	}
	return n*unit + carry, strings.TrimRight(string(digits), "0"), true
}

func dotFrac(frac string) string {
	if frac == "" {
		return ""
	}
	return "." + frac
}

func isDigitOrDot(c byte) bool { return c == '.' || (c >= '0' && c <= '9') }

func unitIndex(unit string) int {
	for i, u := range durationUnits {
		if u.name == unit {
			return i
		}
	}
	return -1
}

// unitHint explains the units people most often reach for and we refuse.
func unitHint(unit string) string {
	switch strings.ToLower(unit) {
	case "mo", "mon", "month", "months", "y", "yr", "year", "years":
		return " (months and years vary in length: write 30d or 52w)"
	case "day", "days":
		return " (write d)"
	case "hour", "hours", "hr", "hrs":
		return " (write h)"
	case "min", "mins", "minute", "minutes":
		return " (write m)"
	case "week", "weeks":
		return " (write w)"
	case "sec", "secs", "second", "seconds":
		return " (write s)"
	}
	return ""
}

// FormatAge formats an age as reasons show it (see appendAge): "9d12h",
// "3h7m", "45m30s", "2s". An age over limit never reads as no more than the
// limit: then it is given exactly ("7d30s", not "7d"). Pass limit < 0 when
// there is no limit.
func FormatAge(age, limit time.Duration) string { return string(appendAge(nil, age, limit)) }

// FormatDuration formats d exactly in policy units, leaving out zero
// units: "7d", "1d12h", "1h30m", "1.5s".
func FormatDuration(d time.Duration) string { return exactDuration(d) }

// appendAge appends an artifact's age for a reason: truncated (never
// rounded up) to the unit below its largest, so "9d12h", "9d", "3h5m",
// "45m30s", "12s", "0s". When that truncation would make an age that is
// older than olderThan look no older than it ("older than 7d (7d)"), the
// exact age is printed instead (see exactDuration), so a reason never
// contradicts itself. Pass olderThan < 0 when no such threshold applies.
func appendAge(buf []byte, age, olderThan time.Duration) []byte {
	if olderThan >= 0 && age > olderThan && truncatedAge(age) <= olderThan {
		return append(buf, exactDuration(age)...)
	}
	if age < 0 {
		buf = append(buf, '-')
		if age == math.MinInt64 {
			age++
		}
		age = -age
	}
	big, small, bName, sName := ageUnits(age)
	if big == time.Second {
		buf = strconv.AppendInt(buf, int64(age/time.Second), 10)
		return append(buf, 's')
	}
	buf = strconv.AppendInt(buf, int64(age/big), 10)
	buf = append(buf, bName)
	if sm := (age % big) / small; sm != 0 {
		buf = strconv.AppendInt(buf, int64(sm), 10)
		buf = append(buf, sName)
	}
	return buf
}

// ageUnits picks the two units appendAge shows for a non-negative age.
func ageUnits(age time.Duration) (big, small time.Duration, bName, sName byte) {
	switch {
	case age >= 24*time.Hour:
		return 24 * time.Hour, time.Hour, 'd', 'h'
	case age >= time.Hour:
		return time.Hour, time.Minute, 'h', 'm'
	case age >= time.Minute:
		return time.Minute, time.Second, 'm', 's'
	}
	return time.Second, time.Second, 's', 's'
}

// truncatedAge is the value appendAge shows for a non-negative age.
func truncatedAge(age time.Duration) time.Duration {
	if age < 0 {
		return age
	}
	_, small, _, _ := ageUnits(age)
	return age - age%small
}

// exactDuration formats d without losing anything, leaving out zero
// units: "7d300ms", "2h30s", "9d12h3m17s", "1m500ms".
func exactDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d < 0 {
		if d == math.MinInt64 {
			return d.String()
		}
		return "-" + exactDuration(-d)
	}
	var b []byte
	for _, u := range []struct {
		size time.Duration
		name byte
	}{{24 * time.Hour, 'd'}, {time.Hour, 'h'}, {time.Minute, 'm'}} {
		if n := d / u.size; n > 0 {
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, u.name)
			d -= n * u.size
		}
	}
	if d > 0 {
		// Go's notation is exact below a minute: "30s", "30.5s", "300ms".
		b = append(b, d.String()...)
	}
	return string(b)
}

// trimZeroUnits turns Go's "24h0m0s" into "24h" and "1h30m0s" into "1h30m".
func trimZeroUnits(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// durationWords spells d out for people: "7 days", "1 day 12 hours",
// "90 minutes" becomes "1 hour 30 minutes".
func durationWords(d time.Duration) string {
	if d == 0 {
		return "0 seconds"
	}
	parts := []struct {
		size time.Duration
		name string
	}{
		{24 * time.Hour, "day"},
		{time.Hour, "hour"},
		{time.Minute, "minute"},
		{time.Second, "second"},
		{time.Millisecond, "millisecond"},
		{time.Microsecond, "microsecond"},
		{time.Nanosecond, "nanosecond"},
	}
	var words []string
	for _, p := range parts {
		n := d / p.size
		d -= n * p.size
		switch {
		case n == 1:
			words = append(words, "1 "+p.name)
		case n > 1:
			words = append(words, strconv.FormatInt(int64(n), 10)+" "+p.name+"s")
		}
	}
	return strings.Join(words, " ")
}
