package policy

import "time"

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
