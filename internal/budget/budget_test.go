package budget

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

func TestParseReserve(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		limit  int
		want   int
		errMsg string
	}{
		{in: "10%", limit: 5000, want: 500},
		{in: " 12.5% ", limit: 5000, want: 625},
		{in: "0.01%", limit: 5000, want: 1}, // rounded up
		{in: "0%", limit: 5000, want: 0},
		{in: "100%", limit: 5000, want: 5000},
		{in: "750", limit: 5000, want: 750},
		{in: "0", limit: 5000, want: 0},
		{in: "-1", errMsg: "a reserve must not be negative"},
		{in: "101%", errMsg: `"101%" is not between 0% and 100%`},
		{in: "-5%", errMsg: `"-5%" is not between 0% and 100%`},
		{in: "NaN%", errMsg: `"NaN%" is not a percentage`},
		{in: "ten", errMsg: `"ten" is neither a number of requests nor a percentage`},
		{in: "", errMsg: `"" is neither a number of requests nor a percentage`},
	} {
		r, err := ParseReserve(tc.in)
		if tc.errMsg != "" {
			if err == nil || err.Error() != tc.errMsg {
				t.Errorf("ParseReserve(%q) = %v, %v; want error %q", tc.in, r, err, tc.errMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseReserve(%q): %v", tc.in, err)
			continue
		}
		if got := r.Of(tc.limit); got != tc.want {
			t.Errorf("ParseReserve(%q).Of(%d) = %d, want %d", tc.in, tc.limit, got, tc.want)
		}
		again, err := ParseReserve(r.String())
		if err != nil || again != r {
			t.Errorf("%q: String %q reads back as %v, %v", tc.in, r.String(), again, err)
		}
	}
	if got := DefaultReserve.Of(5000); got != 500 {
		t.Errorf("the default reserve of 5,000 is %d, want 500", got)
	}
}

func FuzzParseReserve(f *testing.F) {
	for _, s := range []string{"10%", "500", "0", "100%", "12.5%", "-1", "1e3%", " 7 ", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReserve(s)
		if err != nil {
			return
		}
		for _, limit := range []int{0, 1, 60, 5000, 15000} {
			n := r.Of(limit)
			if n < 0 || (r.relative && n > limit) {
				t.Fatalf("ParseReserve(%q).Of(%d) = %d", s, limit, n)
			}
		}
		again, err := ParseReserve(r.String())
		if err != nil || again.Of(5000) != r.Of(5000) {
			t.Fatalf("%q: String %q reads back as %v, %v", s, r.String(), again, err)
		}
	})
}

func TestSelect(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	repo := func(name string, cost int, last time.Duration) Repo {
		r := Repo{Repository: artifact.Repository(name), Budget: "token", Cost: cost}
		if last >= 0 {
			r.LastComplete = t0.Add(last)
		}
		return r
	}
	repos := []Repo{
		repo("o/a", 1, 3*time.Hour),
		repo("o/big", 40, 1*time.Hour), // a full scan is due
		repo("o/c", 1, 2*time.Hour),
		repo("o/new", 5, -1), // never completed: first in line
		repo("o/d", 1, 4*time.Hour),
	}
	for _, tc := range []struct {
		name      string
		allowance Allowance
		scan      []artifact.Repository
		skipped   []artifact.Repository
		planned   int
	}{
		{"plenty", Allowance{Limit: 5000, Remaining: 5000, Reserve: 500, Deletions: 100}, []artifact.Repository{"o/a", "o/big", "o/c", "o/new", "o/d"}, nil, 148},
		// 59 - 10 reserve - 2 deletions = 47: new (5), big (40), c (1), a (1), then d no longer fits.
		{"tight", Allowance{Limit: 100, Remaining: 59, Reserve: 10, Deletions: 2}, []artifact.Repository{"o/a", "o/big", "o/c", "o/new"}, []artifact.Repository{"o/d"}, 49},
		// 20 left: new (5); big does not fit, and the cheap ones after it still do.
		{"big one skipped", Allowance{Limit: 100, Remaining: 30, Reserve: 10}, []artifact.Repository{"o/a", "o/c", "o/new", "o/d"}, []artifact.Repository{"o/big"}, 8},
		{"below the reserve", Allowance{Limit: 100, Remaining: 9, Reserve: 10}, nil, []artifact.Repository{"o/a", "o/big", "o/c", "o/new", "o/d"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Select(repos, map[string]Allowance{"token": tc.allowance})
			if diff := cmp.Diff(tc.scan, p.Scan); diff != "" {
				t.Errorf("scan (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.skipped, p.Skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
			if want := 48 + tc.allowance.Deletions; p.Estimated != want {
				t.Errorf("estimated %d, want %d", p.Estimated, want)
			}
			if l := p.Lines[0]; l.Planned != tc.planned || l.Scanned != len(tc.scan) || l.Skipped != len(tc.skipped) {
				t.Errorf("line %+v, want planned %d", l, tc.planned)
			}
		})
	}
	// A budget that could not be read skips nothing.
	if p := Select(repos, nil); len(p.Scan) != len(repos) || len(p.Skipped) != 0 {
		t.Errorf("unknown budget: %+v", p)
	}
}

func TestFullScanCost(t *testing.T) {
	t.Parallel()
	for live, want := range map[int]int{0: 1, 1: 1, 100: 1, 101: 2, 1000: 10, 1001: 11} {
		if got := FullScanCost(live); got != want {
			t.Errorf("FullScanCost(%d) = %d, want %d", live, got, want)
		}
	}
}
