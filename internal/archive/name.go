package archive

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes bounds the artifact-name part of a file name, leaving room
// for the id, ".zip" and the temporary suffix within the usual 255-byte limit.
const maxNameBytes = 180

// FileName returns "<id>-<name>.zip" with the name made safe to use as one
// path element: path separators, control characters and characters that
// other systems forbid become '_', no ".." survives anywhere in the result,
// and a very long name is shortened. GitHub refuses most of these in artifact names already; the
// archive directory must not depend on that.
func FileName(id int64, name string) string {
	return strconv.FormatInt(id, 10) + "-" + safeName(name) + ".zip"
}

func safeName(name string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), strings.ContainsRune(`/\:*?"<>|`, r):
			return '_'
		}
		return r
	}, name)
	for strings.Contains(s, "..") {
		s = strings.ReplaceAll(s, "..", "_")
	}
	// A trailing dot would meet the one of ".zip".
	s = strings.TrimRight(s, ".")
	if len(s) > maxNameBytes {
		cut := maxNameBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if s == "" {
		s = "artifact"
	}
	return s
}
