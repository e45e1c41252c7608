package policy

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Sizes in a policy are a number and a unit with no space between them:
// "0B", "500MB", "1.5GiB". KB, MB, GB and TB are powers of 1000; KiB, MiB,
// GiB and TiB powers of 1024. Units are case-sensitive because "mb" and "Mb"
// have other meanings elsewhere; a bare number is refused so nobody has to
// guess the unit.

type sizeUnit struct {
	name  string
	bytes int64
}

var sizeUnits = []sizeUnit{
	{"B", 1},
	{"KB", 1000},
	{"MB", 1000 * 1000},
	{"GB", 1000 * 1000 * 1000},
	{"TB", 1000 * 1000 * 1000 * 1000},
	{"KiB", 1 << 10},
	{"MiB", 1 << 20},
	{"GiB", 1 << 30},
	{"TiB", 1 << 40},
}

const sizeUnitList = "B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)"

// parseSize reads a policy size.
func parseSize(s string) (Size, error) {
	if s == "" {
		return Size{}, errors.New("empty size")
	}
	if s[0] == '-' {
		return Size{}, fmt.Errorf("size %q: sizes cannot be negative", s)
	}
	if s[0] == '+' {
		return Size{}, fmt.Errorf("size %q: sizes have no sign", s)
	}
	intPart, frac, n, err := scanDecimal(s)
	if err != nil {
		return Size{}, fmt.Errorf("size %q: %w", s, err)
	}
	unit := s[n:]
	if unit == "" {
		return Size{}, fmt.Errorf("size %q: missing unit; use one of %s", s, sizeUnitList)
	}
	if strings.TrimSpace(unit) != unit {
		return Size{}, fmt.Errorf("size %q: no space between number and unit (write %s%s%s)", s, intPart, dotFrac(frac), strings.TrimSpace(unit))
	}
	var u sizeUnit
	for _, cand := range sizeUnits {
		if cand.name == unit {
			u = cand
		}
	}
	if u.bytes == 0 {
		return Size{}, fmt.Errorf("size %q: unknown unit %q; use one of %s%s", s, unit, sizeUnitList, sizeHint(unit))
	}
	whole, rest, ok := scaleDecimal(intPart, frac, u.bytes)
	if !ok || (rest != "" && whole == math.MaxInt64) {
		return Size{}, fmt.Errorf("size %q is too large", s)
	}
	sz := Size{Bytes: whole, Fractional: rest != "", Text: s, fraction: rest}
	return sz, nil
}

// sizeHint points at the unit that was probably meant.
func sizeHint(unit string) string {
	for _, u := range sizeUnits {
		if strings.EqualFold(u.name, unit) {
			return fmt.Sprintf(" (units are case-sensitive: did you mean %s?)", u.name)
		}
	}
	switch strings.ToUpper(unit) {
	case "K", "M", "G", "T":
		return fmt.Sprintf(" (write %[1]sB or %[1]siB)", strings.ToUpper(unit))
	case "PB", "PIB", "EB", "EIB":
		return " (artifacts are never that large)"
	}
	return ""
}

// greater reports whether size is strictly greater than the threshold.
func (s *Size) greater(size int64) bool { return size > s.Bytes }

// less reports whether size is strictly smaller than the threshold,
// exactly even when the threshold is not a whole number of bytes.
func (s *Size) less(size int64) bool {
	if s.Fractional {
		return size <= s.Bytes
	}
	return size < s.Bytes
}

// binary reports whether the threshold was written in powers of 1024, so
// reasons show sizes in the same family.
func (s *Size) binary() bool { return strings.Contains(s.Text, "iB") }

// appendSize appends n in the largest unit of the family it reaches, with
// one decimal truncated (never rounded up): "12B", "1.2GB", "500MB",
// "1.4MiB". When that truncation would make a size greater than gt look no
// greater ("size > 500MB (500MB)"), the exact byte count is printed instead.
func appendSize(buf []byte, n int64, binary bool, gt *Size) []byte {
	var u sizeUnit
	if n > 0 {
		units := sizeUnits[1:5]
		if binary {
			units = sizeUnits[5:]
		}
		for _, cand := range units {
			if n >= cand.bytes {
				u = cand
			}
		}
	}
	if u.bytes == 0 {
		buf = strconv.AppendInt(buf, n, 10)
		return append(buf, 'B')
	}
	whole := n / u.bytes
	tenth := (n % u.bytes) * 10 / u.bytes
	if gt != nil && shownNotGreater(uint64(whole*10+tenth), uint64(u.bytes), gt) {
		buf = strconv.AppendInt(buf, n, 10)
		return append(buf, 'B')
	}
	buf = strconv.AppendInt(buf, whole, 10)
	if tenth != 0 {
		buf = append(buf, '.')
		buf = strconv.AppendInt(buf, tenth, 10)
	}
	return append(buf, u.name...)
}

// shownNotGreater reports whether tenths/10 units is at most the threshold
// (treating a fractional threshold as the next whole byte, which can only
// make us print exact bytes more often).
func shownNotGreater(tenths, unit uint64, gt *Size) bool {
	limit := uint64(gt.Bytes)
	if gt.Fractional {
		limit++
	}
	lhsHi, lhsLo := bits.Mul64(tenths, unit)
	rhsHi, rhsLo := bits.Mul64(limit, 10)
	return lhsHi < rhsHi || (lhsHi == rhsHi && lhsLo <= rhsLo)
}

// bytesWords writes a byte count with thousands separators:
// "500,000,000 bytes", "1,126.4 bytes".
func bytesWords(n int64, fraction string) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if fraction != "" {
		b.WriteString("." + fraction)
	}
	if n == 1 && fraction == "" {
		b.WriteString(" byte")
	} else {
		b.WriteString(" bytes")
	}
	return b.String()
}
