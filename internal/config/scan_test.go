package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/retentiond/retentiond/internal/budget"
)

func TestScanSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env      map[string]string
		interval time.Duration
		reserve  budget.Reserve
	}{
		{map[string]string{"FULL_SCAN_INTERVAL": "7d", "RATE_LIMIT_RESERVE": "250"}, 7 * 24 * time.Hour, budget.Requests(250)},
		{map[string]string{"FULL_SCAN_INTERVAL": "0", "RATE_LIMIT_RESERVE": "12.5%"}, 0, budget.Percent(12.5)},
		{map[string]string{"FULL_SCAN_INTERVAL": "90m", "RATE_LIMIT_RESERVE": "0"}, 90 * time.Minute, budget.Requests(0)},
	} {
		c, err := load(t, tc.env)
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
			continue
		}
		if c.Scan.FullScanInterval != tc.interval || c.Scan.RateLimitReserve != tc.reserve {
			t.Errorf("%v: got %s and %s", tc.env, c.Scan.FullScanInterval, c.Scan.RateLimitReserve)
		}
	}
	for _, tc := range []struct{ key, value, want string }{
		{"FULL_SCAN_INTERVAL", "daily", `FULL_SCAN_INTERVAL: "daily" is not a duration`},
		{"FULL_SCAN_INTERVAL", "-1h", `FULL_SCAN_INTERVAL: "-1h" is not a duration`},
		{"RATE_LIMIT_RESERVE", "lots", `RATE_LIMIT_RESERVE: "lots" is neither a number of requests nor a percentage; accepted: a number of requests (500) or a percentage of the rate limit (10%)`},
		{"RATE_LIMIT_RESERVE", "150%", `RATE_LIMIT_RESERVE: "150%" is not between 0% and 100%`},
		{"RATE_LIMIT_RESERVE", "-3", `RATE_LIMIT_RESERVE: a reserve must not be negative`},
	} {
		_, err := load(t, map[string]string{tc.key: tc.value})
		var ce *Error
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ce) || ce.Var != tc.key {
			t.Errorf("%s=%q: error %v, want a *config.Error containing %q", tc.key, tc.value, err, tc.want)
		}
	}
}
