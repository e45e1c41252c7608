package policy

import "time"

// The grammar of durations and sizes is the package's own rather than
// go-humanize's or time.ParseDuration's: humanize accepts "10 mb", "1.5 gb"
// and bare numbers, and reads "M" as mega, all of which the policy refuses
// on purpose (a case-sensitive unit, no space, no guessing); Go's durations
// have no days or weeks. The same grammar serves settings (APPLY_MAX_AGE,
// ARCHIVE_MAX_BYTES), so 7d and 10GiB mean the same everywhere.

// ParseDuration reads a duration in the policy's grammar (Go's units plus d
// and w: "90s", "1h30m", "7d", "2w"), for settings outside the policy file
// that should accept what the policy does. Zero ("0", "0s") is allowed;
// signs are not.
func ParseDuration(s string) (time.Duration, error) { return parseDuration(s, true) }

// ParseSize reads a size in the policy's grammar ("500MB", "10GiB", "0B")
// and returns it in whole bytes, rounded down.
func ParseSize(s string) (int64, error) {
	sz, err := parseSize(s)
	if err != nil {
		return 0, err
	}
	return sz.Bytes, nil
}
