package policy

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		in        string
		allowZero bool
		want      time.Duration
		wantErr   string // substring; "" means success
	}{
		{in: "1ns", want: time.Nanosecond},
		{in: "1us", want: time.Microsecond},
		{in: "1µs", want: time.Microsecond},
		{in: "1μs", want: time.Microsecond},
		{in: "1ms", want: time.Millisecond},
		{in: "1s", want: time.Second},
		{in: "1m", want: time.Minute},
		{in: "1h", want: time.Hour},
		{in: "1d", want: day},
		{in: "1w", want: 7 * day},
		{in: "7d", want: 7 * day},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "2w3d4h5m6s7ms8us9ns", want: 17*day + 4*time.Hour + 5*time.Minute + 6*time.Second + 7*time.Millisecond + 8*time.Microsecond + 9},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "0.5w", want: 84 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "0.1ns", wantErr: "must be greater than 0"},
		{in: "0", wantErr: "must be greater than 0"},
		{in: "0s", wantErr: "must be greater than 0"},
		{in: "0", allowZero: true, want: 0},
		{in: "0s", allowZero: true, want: 0},
		{in: "0d", allowZero: true, want: 0},
		{in: "", wantErr: "empty duration"},
		{in: "-1h", wantErr: "no sign"},
		{in: "+1h", wantErr: "no sign"},
		{in: "7", wantErr: "missing unit after 7"},
		{in: "1d12", wantErr: "missing unit after 12"},
		{in: "6mo", wantErr: "months and years vary"},
		{in: "1y", wantErr: "months and years vary"},
		{in: "3days", wantErr: "(write d)"},
		{in: "5min", wantErr: "(write m)"},
		{in: "2weeks", wantErr: "(write w)"},
		{in: "1x", wantErr: `unknown unit "x"`},
		{in: "1H", wantErr: `unknown unit "H"`},
		{in: "12h1d", wantErr: "largest to smallest"},
		{in: "1h1h", wantErr: "largest to smallest"},
		{in: "1us1µs", wantErr: "largest to smallest"},
		{in: "1d 12h", wantErr: "no spaces"},
		{in: ".5h", wantErr: "expected a number"},
		{in: "5.h", wantErr: "digits after the decimal point"},
		{in: "h", wantErr: "expected a number"},
		{in: "1e3s", wantErr: `unknown unit "e"`},
		{in: "106751d", want: 106751 * day},
		{in: "106752d", wantErr: "too long"},
		{in: "99999999999999999999w", wantErr: "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseDuration(tc.in, tc.allowZero)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseDuration(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestAppendAge(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		age       time.Duration
		olderThan time.Duration
		want      string
	}{
		{"days and hours", 9*day + 12*time.Hour + 59*time.Minute, -1, "9d12h"},
		{"whole days drop zero hours", 9*day + 5*time.Minute, -1, "9d"},
		{"hours", 3 * time.Hour, -1, "3h"},
		{"hours and minutes", 3*time.Hour + 5*time.Minute + 59*time.Second, -1, "3h5m"},
		{"minutes", 45 * time.Minute, -1, "45m"},
		{"minutes and seconds", 45*time.Minute + 30*time.Second + 999*time.Millisecond, -1, "45m30s"},
		{"seconds", 12*time.Second + 900*time.Millisecond, -1, "12s"},
		{"under a second", 400 * time.Millisecond, -1, "0s"},
		{"zero", 0, -1, "0s"},
		{"future", -3*time.Hour - 5*time.Minute, -1, "-3h5m"},
		{"most negative", math.MinInt64, -1, "-106751d23h"},
		{"clearly older", 9*day + 12*time.Hour, 7 * day, "9d12h"},
		{"truncation would equal threshold", 7*day + 5*time.Minute, 7 * day, "7d5m"},
		{"sub-second over threshold", 7*day + 300*time.Millisecond, 7 * day, "7d300ms"},
		{"truncation below threshold", 2*time.Hour + 30*time.Second, 2*time.Hour + 10*time.Second, "2h30s"},
		{"fraction of a second", time.Minute + 500*time.Millisecond, time.Minute, "1m500ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(appendAge(nil, tc.age, tc.olderThan)); got != tc.want {
				t.Errorf("appendAge(%v, %v) = %q; want %q", tc.age, tc.olderThan, got, tc.want)
			}
		})
	}
}

func TestDurationWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0 seconds"},
		{time.Minute, "1 minute"},
		{6 * time.Minute, "6 minutes"},
		{36 * time.Hour, "1 day 12 hours"},
		{14 * 24 * time.Hour, "14 days"},
		{1500 * time.Millisecond, "1 second 500 milliseconds"},
		{time.Nanosecond, "1 nanosecond"},
	}
	for _, tc := range tests {
		if got := durationWords(tc.in); got != tc.want {
			t.Errorf("durationWords(%v) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
