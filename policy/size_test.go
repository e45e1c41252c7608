package policy

import (
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Size
		wantErr string
	}{
		{in: "0B", want: Size{Bytes: 0}},
		{in: "12B", want: Size{Bytes: 12}},
		{in: "1KB", want: Size{Bytes: 1000}},
		{in: "500MB", want: Size{Bytes: 500_000_000}},
		{in: "2GB", want: Size{Bytes: 2_000_000_000}},
		{in: "3TB", want: Size{Bytes: 3_000_000_000_000}},
		{in: "1KiB", want: Size{Bytes: 1024}},
		{in: "1MiB", want: Size{Bytes: 1 << 20}},
		{in: "1.5GiB", want: Size{Bytes: 1610612736}},
		{in: "2TiB", want: Size{Bytes: 2 << 40}},
		{in: "1.25MB", want: Size{Bytes: 1_250_000}},
		{in: "1.1KiB", want: Size{Bytes: 1126, Fractional: true, fraction: "4"}},
		{in: "0.5B", want: Size{Bytes: 0, Fractional: true, fraction: "5"}},
		{in: "0.001KiB", want: Size{Bytes: 1, Fractional: true, fraction: "024"}},
		{in: "1.50B", want: Size{Bytes: 1, Fractional: true, fraction: "5"}},
		{in: "8388607TiB", want: Size{Bytes: 8388607 << 40}},
		{in: "8388608TiB", wantErr: "too large"},
		{in: "", wantErr: "empty size"},
		{in: "-1MB", wantErr: "cannot be negative"},
		{in: "+1MB", wantErr: "no sign"},
		{in: "500", wantErr: "missing unit"},
		{in: "500 MB", wantErr: "no space between number and unit (write 500MB)"},
		{in: "500mb", wantErr: "did you mean MB?"},
		{in: "500Mb", wantErr: "did you mean MB?"},
		{in: "1gib", wantErr: "did you mean GiB?"},
		{in: "5M", wantErr: "write MB or MiB"},
		{in: "1PB", wantErr: "never that large"},
		{in: "1XB", wantErr: `unknown unit "XB"`},
		{in: "MB", wantErr: "expected a number"},
		{in: "1.MB", wantErr: "digits after the decimal point"},
		{in: "1e3B", wantErr: `unknown unit "e3B"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseSize(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseSize(%q) = %+v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			tc.want.Text = tc.in
			if err != nil {
				t.Fatalf("parseSize(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(Size{})); diff != "" {
				t.Errorf("parseSize(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestSizeComparisonsAreExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		threshold string
		size      int64
		greater   bool
		less      bool
	}{
		{"500MB", 500_000_000, false, false},
		{"500MB", 500_000_001, true, false},
		{"500MB", 499_999_999, false, true},
		{"0B", 0, false, false},
		{"0B", 1, true, false},
		// 1.1KiB is 1126.4 bytes: 1126 is less, 1127 is greater.
		{"1.1KiB", 1126, false, true},
		{"1.1KiB", 1127, true, false},
		{"0.5B", 0, false, true},
		{"0.5B", 1, true, false},
	}
	for _, tc := range tests {
		s, err := parseSize(tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.greater(tc.size); got != tc.greater {
			t.Errorf("%d > %s = %v; want %v", tc.size, tc.threshold, got, tc.greater)
		}
		if got := s.less(tc.size); got != tc.less {
			t.Errorf("%d < %s = %v; want %v", tc.size, tc.threshold, got, tc.less)
		}
	}
}

func TestAppendSize(t *testing.T) {
	t.Parallel()
	mustSize := func(s string) *Size {
		sz, err := parseSize(s)
		if err != nil {
			t.Fatal(err)
		}
		return &sz
	}
	tests := []struct {
		name   string
		n      int64
		binary bool
		gt     *Size
		want   string
	}{
		{"bytes", 12, false, nil, "12B"},
		{"zero", 0, false, nil, "0B"},
		{"just under a KB", 999, false, nil, "999B"},
		{"KB", 1000, false, nil, "1KB"},
		{"truncated, not rounded", 1_299_999_999, false, nil, "1.2GB"},
		{"whole MB drops .0", 500_000_000, false, nil, "500MB"},
		{"TB", 3_456_000_000_000, false, nil, "3.4TB"},
		{"binary under a KiB", 1023, true, nil, "1023B"},
		{"binary KiB", 1536, true, nil, "1.5KiB"},
		{"binary GiB", 1610612736, true, nil, "1.5GiB"},
		{"clearly greater", 1_234_567_890, false, mustSize("500MB"), "1.2GB"},
		{"would look equal to threshold", 500_000_001, false, mustSize("500MB"), "500000001B"},
		{"would look equal to fractional threshold", 1127, true, mustSize("1.1KiB"), "1127B"},
		{"one decimal is enough", 550_000_000, false, mustSize("500MB"), "550MB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(appendSize(nil, tc.n, tc.binary, tc.gt)); got != tc.want {
				t.Errorf("appendSize(%d) = %q; want %q", tc.n, got, tc.want)
			}
		})
	}
}

func TestBytesWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		frac string
		want string
	}{
		{0, "", "0 bytes"},
		{1, "", "1 byte"},
		{1, "5", "1.5 bytes"},
		{1024, "", "1,024 bytes"},
		{500_000_000, "", "500,000,000 bytes"},
		{1126, "4", "1,126.4 bytes"},
	}
	for _, tc := range tests {
		if got := bytesWords(tc.n, tc.frac); got != tc.want {
			t.Errorf("bytesWords(%d, %q) = %q; want %q", tc.n, tc.frac, got, tc.want)
		}
	}
}

// scaleDecimal against math/big, which is obviously right and which the
// package itself no longer needs.
func TestScaleDecimalMatchesBig(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	units := []int64{1, 1000, 1 << 10, 1_000_000_000_000, 1 << 40, int64(time.Nanosecond), int64(time.Second), int64(7 * 24 * time.Hour)}
	for range 20000 {
		intPart, frac := digits(1+rng.IntN(22)), ""
		if rng.IntN(2) == 0 {
			frac = digits(1 + rng.IntN(25))
		}
		unit := units[rng.IntN(len(units))]
		whole, rest, ok := scaleDecimal(intPart, frac, unit)

		num, _ := new(big.Int).SetString(intPart+frac, 10)
		num.Mul(num, big.NewInt(unit))
		den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
		quo, rem := new(big.Int).QuoRem(num, den, new(big.Int))
		if ok != quo.IsInt64() {
			t.Fatalf("scaleDecimal(%q, %q, %d) ok = %v; big says %v", intPart, frac, unit, ok, quo)
		}
		if !ok {
			continue
		}
		wantRest := ""
		if rem.Sign() != 0 {
			s := rem.String()
			wantRest = strings.TrimRight(strings.Repeat("0", len(frac)-len(s))+s, "0")
		}
		if whole != quo.Int64() || rest != wantRest {
			t.Fatalf("scaleDecimal(%q, %q, %d) = %d, %q; want %v, %q", intPart, frac, unit, whole, rest, quo, wantRest)
		}
	}
}
