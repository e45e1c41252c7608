package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// streamBlock is how many table rows a Stream aligns together: a table is
// written a block at a time, so that printing a million rows does not hold
// them all, at the price of columns that may shift between blocks.
const streamBlock = 1000

// Stream writes a Table's rows as they come instead of holding them: the
// same output as Table.Write for JSON and CSV, and for tables the same but
// aligned per block of rows.
type Stream struct {
	w      io.Writer
	f      Format
	keys   []string
	header []string
	n      int
	err    error
	cw     *csv.Writer
	tw     *tabwriter.Writer
}

// NewStream starts writing rows under header (people) and keys (scripts) to
// w in format f.
func NewStream(w io.Writer, f Format, header, keys []string) *Stream {
	s := &Stream{w: w, f: f, keys: keys, header: header}
	switch f {
	case FormatCSV:
		s.cw = csv.NewWriter(w)
		s.err = s.cw.Write(keys)
	case FormatJSON:
		_, s.err = io.WriteString(w, "[")
	default:
		s.tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		_, s.err = fmt.Fprintln(s.tw, strings.Join(header, "\t"))
	}
	return s
}

// Add writes one row: cells for people, raw values for JSON and CSV.
func (s *Stream) Add(cells []string, raw []any) {
	if s.err != nil {
		return
	}
	switch s.f {
	case FormatCSV:
		rec := make([]string, len(raw))
		for j, v := range raw {
			if v = scriptValue(v); v != nil {
				rec[j] = fmt.Sprint(v)
			}
		}
		s.err = s.cw.Write(rec)
	case FormatJSON:
		m := make(map[string]any, len(s.keys))
		for j, k := range s.keys {
			m[k] = scriptValue(raw[j])
		}
		b, err := json.MarshalIndent(m, "  ", "  ")
		if err != nil {
			s.err = err
			return
		}
		sep := ",\n  "
		if s.n == 0 {
			sep = "\n  "
		}
		_, s.err = fmt.Fprintf(s.w, "%s%s", sep, b)
	default:
		if s.n > 0 && s.n%streamBlock == 0 {
			s.err = s.tw.Flush()
		}
		if s.err == nil {
			_, s.err = fmt.Fprintln(s.tw, strings.Join(cells, "\t"))
		}
	}
	s.n++
}

// Close ends the output and returns the first error of any write.
func (s *Stream) Close() error {
	if s.err != nil {
		return s.err
	}
	switch s.f {
	case FormatCSV:
		s.cw.Flush()
		return s.cw.Error()
	case FormatJSON:
		end := "\n]\n"
		if s.n == 0 {
			end = "]\n"
		}
		_, err := io.WriteString(s.w, end)
		return err
	default:
		return s.tw.Flush()
	}
}
