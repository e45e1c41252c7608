package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStreamMatchesTable checks that streaming a table writes exactly what
// Table.Write does for scripts, and for people when the rows fit one block.
func TestStreamMatchesTable(t *testing.T) {
	when := time.Date(2026, 8, 4, 2, 46, 2, 0, time.UTC)
	for _, rows := range []int{0, 1, 3} {
		for _, f := range []Format{FormatJSON, FormatCSV, FormatTable} {
			t.Run(fmt.Sprintf("%s/%d", f, rows), func(t *testing.T) {
				header, keys := []string{"NAME", "SIZE", "WHEN"}, []string{"name", "size_in_bytes", "created_at"}
				tab := &Table{Header: header, Keys: keys}
				var got bytes.Buffer
				s := NewStream(&got, f, header, keys)
				for i := range rows {
					cells := []string{fmt.Sprintf("a,\"%d\"", i), "1 KB", "9d"}
					raw := []any{fmt.Sprintf("a,\"%d\"", i), int64(1000 * i), when}
					if i == 1 {
						raw[2] = time.Time{}
						raw[0] = nil
					}
					tab.Add(cells, raw)
					s.Add(cells, raw)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				var want bytes.Buffer
				if err := tab.Write(&want, f); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("stream:\n%s\ntable:\n%s", got.String(), want.String())
				}
			})
		}
	}
}

// TestStreamTableBlocks checks that a long table is aligned per block and
// loses no row.
func TestStreamTableBlocks(t *testing.T) {
	var out bytes.Buffer
	s := NewStream(&out, FormatTable, []string{"N", "X"}, []string{"n", "x"})
	n := 2*streamBlock + 5
	for i := range n {
		s.Add([]string{fmt.Sprint(i), "x"}, []any{i, "x"})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != n+1 {
		t.Fatalf("%d lines, want %d", len(lines), n+1)
	}
	if lines[0] != "N    X" || lines[n] != fmt.Sprintf("%d  x", n-1) {
		t.Errorf("first %q, last %q", lines[0], lines[n])
	}
}
