package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Format is how a Table is written.
type Format string

// The formats.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatCSV   Format = "csv"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatTable, FormatJSON, FormatCSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q; accepted: table, json, csv", s)
}

// Table is rows of cells under a header. For JSON, each row becomes an
// object keyed by Keys (snake_case); Raw holds typed values for it and for
// CSV, so scripts get numbers rather than "1.2 GB". A nil raw value is NULL
// or missing: an empty CSV field, JSON null. A time.Time is written in
// RFC 3339, UTC, to the second (2026-08-04T02:46:02Z); a zero one is missing.
type Table struct {
	Header []string
	Keys   []string
	Rows   [][]string
	Raw    [][]any
}

// Add appends a row: cells for people, raw values for JSON and CSV.
func (t *Table) Add(cells []string, raw []any) {
	t.Rows = append(t.Rows, cells)
	t.Raw = append(t.Raw, raw)
}

// Write writes t in format f.
func (t *Table) Write(w io.Writer, f Format) error {
	switch f {
	case FormatJSON:
		out := make([]map[string]any, len(t.Raw))
		for i, r := range t.Raw {
			m := make(map[string]any, len(t.Keys))
			for j, k := range t.Keys {
				m[k] = scriptValue(r[j])
			}
			out[i] = m
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Keys); err != nil {
			return err
		}
		for _, r := range t.Raw {
			rec := make([]string, len(r))
			for j, v := range r {
				if v = scriptValue(v); v != nil {
					rec[j] = fmt.Sprint(v)
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(t.Header, "\t"))
		for _, r := range t.Rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	}
}

// scriptValue is how a raw value is written for scripts: times as RFC 3339
// in UTC, a zero time as missing (nil), anything else as it is.
func scriptValue(v any) any {
	if t, ok := v.(time.Time); ok {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339)
	}
	return v
}
