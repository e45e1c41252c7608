package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem found in a policy file, at the position of the YAML
// node it concerns. Line and Column are 1-based and always at least 1.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// Error formats the problem as "file:line:col: msg", the form editors and
// CI annotations understand.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// ErrorList is every problem found in a policy file, sorted by position.
// Parse returns all of them at once so that one round of editing fixes them
// all; use errors.As to get at the list.
type ErrorList []*Error

// Error prints one problem per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// errorSink collects errors while a policy is walked.
type errorSink struct {
	file string
	list ErrorList
}

// addf records a problem at line:col; positions below 1 (the YAML parser
// reports none for some nodes) are clamped so every error has a position.
func (s *errorSink) addf(line, col int, format string, args ...any) {
	s.list = append(s.list, &Error{
		File:   s.file,
		Line:   max(line, 1),
		Column: max(col, 1),
		Msg:    fmt.Sprintf(format, args...),
	})
}

// result returns the collected errors sorted by position, or nil.
func (s *errorSink) result() error {
	if len(s.list) == 0 {
		return nil
	}
	slices.SortStableFunc(s.list, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return s.list
}
