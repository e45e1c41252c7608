package policy

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxLocateLines bounds locateMistake, which parses up to one prefix of the
// file per line, so its cost grows with the square of the lines: 14 ms for
// the 92-line example policy with a mistake on its first line, about 150 ms
// at this bound. Policies are shorter than this; past it the YAML parser's
// own line is kept.
const maxLocateLines = 300

// locateMistake returns the line of a YAML syntax error: the first line
// after which no continuation could make the document valid, found as the
// line after the longest prefix (of whole lines) that still parses. The
// YAML parser reports where the enclosing construct began — a mapping three
// lines up, for a key indented one space too few — which is rarely where
// the mistake is. It returns 0 when the file is too long to search.
func locateMistake(data []byte) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxLocateLines {
		return 0
	}
	for n := len(lines) - 1; n > 0; n-- {
		if parses(bytes.Join(lines[:n], nil)) {
			return n + 1
		}
	}
	return 1
}

// parses reports whether data is well-formed YAML, in any number of
// documents.
func parses(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// indentTab returns the column (1-based) of the first tab in line's
// indentation, or 0 when its indentation has none. YAML forbids tabs
// there, and they look like spaces in most editors, so such an error must
// say "tab".
func indentTab(line string) int {
	for i, c := range line {
		switch c {
		case ' ':
		case '\t':
			return i + 1
		default:
			return 0
		}
	}
	return 0
}

// tabIndented returns the first line (1-based) indented with a tab, and
// the tab's column, or 0, 0.
func tabIndented(data []byte) (line, col int) {
	for i, l := range strings.Split(string(data), "\n") {
		if c := indentTab(l); c > 0 {
			return i + 1, c
		}
	}
	return 0, 0
}

// tabMessage is the error for a tab in the indentation.
const tabMessage = "a tab in the indentation: YAML indents with spaces only; replace the tab with spaces"

// refineSyntaxError moves a syntax error reported at line to where the
// mistake is, and names a tab when a tab is the cause. It returns the line,
// column and message to report.
func refineSyntaxError(data []byte, line int, msg string) (int, int, string) {
	if strings.Contains(msg, "tab character") {
		if l, c := tabIndented(data); l > 0 {
			return l, c, tabMessage
		}
	}
	if at := locateMistake(data); at > 0 {
		line = at
	}
	lines := strings.Split(string(data), "\n")
	if line >= 1 && line <= len(lines) {
		if c := indentTab(lines[line-1]); c > 0 {
			return line, c, tabMessage
		}
	}
	return line, 1, msg
}
