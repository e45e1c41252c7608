package savings

import (
	"math"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestSaved(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	const gb = 1_000_000_000
	for _, tc := range []struct {
		name                string
		d                   Deletion
		wantHours, wantMons float64
	}{
		{"ten days left", Deletion{SizeInBytes: 3 * gb, At: at, ExpiresAt: at.Add(240 * time.Hour)}, 720, 720.0 / 744},
		{"expired flag", Deletion{SizeInBytes: 3 * gb, At: at, ExpiresAt: at.Add(240 * time.Hour), Expired: true}, 0, 0},
		{"expires_at passed", Deletion{SizeInBytes: 3 * gb, At: at, ExpiresAt: at.Add(-time.Hour)}, 0, 0},
		{"expires right now", Deletion{SizeInBytes: 3 * gb, At: at, ExpiresAt: at}, 0, 0},
		{"already gone", Deletion{SizeInBytes: 3 * gb, At: at, ExpiresAt: at.Add(240 * time.Hour), AlreadyGone: true}, 0, 0},
		{"no expires_at", Deletion{SizeInBytes: 3 * gb, At: at}, 0, 0},
		{"empty artifact", Deletion{SizeInBytes: 0, At: at, ExpiresAt: at.Add(time.Hour)}, 0, 0},
		{"half a GB for an hour", Deletion{SizeInBytes: gb / 2, At: at, ExpiresAt: at.Add(time.Hour)}, 0.5, 0.5 / 744},
		// 22 days of March (31 days) and 10 of April (30 days).
		{"across a month end", Deletion{SizeInBytes: gb, At: at, ExpiresAt: time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC)},
			32 * 24, 22.0/31 + 10.0/30},
		// February 2026 has 28 days: a whole February is one GB-month.
		{"a whole february", Deletion{SizeInBytes: gb, At: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
			ExpiresAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, 28 * 24, 1},
		{"zone of the input does not matter", Deletion{SizeInBytes: gb, At: at.In(time.FixedZone("X", 5*3600)),
			ExpiresAt: at.Add(24 * time.Hour).In(time.FixedZone("Y", -7*3600))}, 24, 24.0 / 744},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Saved(tc.d)
			if !near(got.GBHours, tc.wantHours) || !near(got.GBMonths, tc.wantMons) {
				t.Errorf("Saved = %+v, want %v GB-hours, %v GB-months", got, tc.wantHours, tc.wantMons)
			}
		})
	}
}

// GitHub's worked example: 3 GB for 10 days of March and 12 GB for 21 days
// is 6,768 GB-hours, 9.097 GB-months.
func TestGitHubExample(t *testing.T) {
	t.Parallel()
	m := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	u := Stored(3e9, m, m.AddDate(0, 0, 10)).Add(Stored(12e9, m.AddDate(0, 0, 10), m.AddDate(0, 0, 31)))
	if !near(u.GBHours, 6768) || math.Abs(u.GBMonths-9.0967) > 1e-4 {
		t.Errorf("got %+v, want 6768 GB-hours, 9.0967 GB-months", u)
	}
	if c := u.Cost(0.25); math.Abs(c-2.2742) > 1e-4 {
		t.Errorf("cost = %v", c)
	}
}

func TestAccrualWithin(t *testing.T) {
	t.Parallel()
	mar := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	apr := mar.AddDate(0, 1, 0)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		a    Accrual
		want float64 // GB-hours in March
	}{
		{"created before, still live", Accrual{SizeInBytes: 1e9, Created: mar.Add(-day)}, 744},
		{"unknown creation counts from the window", Accrual{SizeInBytes: 1e9}, 744},
		{"created mid-month, expires in April", Accrual{SizeInBytes: 1e9, Created: mar.Add(30 * day), ExpiresAt: apr.Add(day)}, 24},
		{"expired mid-month", Accrual{SizeInBytes: 1e9, Created: mar.Add(-day), ExpiresAt: mar.Add(2 * day)}, 48},
		{"gone before it expired", Accrual{SizeInBytes: 2e9, Created: mar, ExpiresAt: apr, Gone: mar.Add(day)}, 48},
		{"gone before the month", Accrual{SizeInBytes: 1e9, Created: mar.Add(-2 * day), Gone: mar.Add(-day)}, 0},
		{"created after the month", Accrual{SizeInBytes: 1e9, Created: apr.Add(day)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.a.Within(mar, apr); !near(got.GBHours, tc.want) {
				t.Errorf("Within = %+v, want %v GB-hours", got, tc.want)
			}
		})
	}
}

func FuzzStored(f *testing.F) {
	f.Add(int64(1e9), int64(0), int64(3600))
	f.Add(int64(5), int64(1_700_000_000), int64(90*24*3600))
	f.Fuzz(func(t *testing.T, size, from, span int64) {
		// Fold every input into range rather than skipping it.
		size, from, span = abs(size)%1e15, abs(from)%4e9, abs(span)%(400*24*3600)
		a := time.Unix(from, 0)
		u := Stored(size, a, a.Add(time.Duration(span)*time.Second))
		// Splitting by month must never change the GB-hours total.
		want := float64(size) / BytesPerGB * float64(span) / 3600
		if !near(u.GBHours, want) {
			t.Fatalf("GB-hours %v, want %v", u.GBHours, want)
		}
		// A month is at least 672 and at most 744 hours.
		if u.GBMonths < want/744*(1-1e-9) || u.GBMonths > want/672*(1+1e-9) {
			t.Fatalf("GB-months %v out of range for %v GB-hours", u.GBMonths, want)
		}
	})
}

func abs(n int64) int64 {
	if n < 0 {
		return -(n + 1)
	}
	return n
}
