package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, level, format string
		check               func(t *testing.T, out string)
	}{
		{"auto on a buffer is JSON", "info", "auto", func(t *testing.T, out string) {
			var m map[string]any
			if err := json.Unmarshal([]byte(out), &m); err != nil || m["repository"] != "o/r" {
				t.Errorf("not JSON with attrs: %q (%v)", out, err)
			}
		}},
		{"text", "info", "text", func(t *testing.T, out string) {
			if !strings.Contains(out, "repository=o/r") {
				t.Errorf("text output %q", out)
			}
		}},
		{"level filters", "error", "json", func(t *testing.T, out string) {
			if out != "" {
				t.Errorf("info logged at error level: %q", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l, err := New(&buf, tt.level, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			l.Info("scanned", "repository", "o/r")
			tt.check(t, buf.String())
		})
	}
	if _, err := New(&bytes.Buffer{}, "loud", "json"); err == nil {
		t.Error("bad level accepted")
	}
	if _, err := New(&bytes.Buffer{}, "info", "xml"); err == nil {
		t.Error("bad format accepted")
	}
}
