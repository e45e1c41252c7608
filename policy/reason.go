package policy

import (
	"bytes"
	"hash/maphash"
	"strconv"
)

// Reasons are built into one reusable buffer and interned: a million
// decisions share a few thousand distinct reasons, so most decisions cost
// a map lookup, not an allocation.
//
// Formats (conditions appear in the order the rule lists them, joined by
// " and "):
//
//	matched delete rule NAME: COND and COND
//	kept by NAME: COND and COND
//	kept by NAME: [COND and ]RANK newest of GROUP
//	no delete rule matched
//	creation time unknown; kept by safety
//	younger than safety.min_age MINAGE
//	repository OWNER/NAME is not in the policy's repositories
//
// where COND is one of
//
//	repository PATTERNS     name PATTERNS     branch PATTERNS
//	older than T (AGE)      newer than T (AGE)
//	size > S (SIZE)         size < S (SIZE)
//	expired                 not expired
//
// PATTERNS is the first positive entry that matched followed by every
// "!" entry, comma-separated ("test-results-*", "!main,!release/**");
// T and S are the thresholds as written; AGE is formatted by appendAge and
// SIZE by appendSize. RANK is "newest", "2nd", "3rd", "11th"…; GROUP is
// "name=build, branch=main" in group_by order ("repository=owner/name"
// without group_by), with an empty field shown as "(none)".

// Reason bytes go into large chunks that become strings once, at the
// end, and each decision's Reason is a substring of one: a million
// decisions cost a few dozen allocations, not a million. Reasons that
// repeat (most delete and keep reasons) are stored once, found again by
// hash and checked byte by byte.

// reasonRef locates a reason in the arena; the zero value means "none".
type reasonRef struct {
	chunk, off, n int32
}

// maxSeen bounds the table of stored reasons; past it repeats are stored
// again, which costs memory, never correctness.
const maxSeen = 1 << 18

type reasonArena struct {
	chunkSize int
	chunks    [][]byte
	seed      maphash.Seed
	seen      map[uint64]reasonRef
	scratch   []byte
}

func newReasonArena(artifacts int) *reasonArena {
	return &reasonArena{
		chunkSize: min(max(artifacts*32, 4096), 1<<20),
		seed:      maphash.MakeSeed(),
		seen:      map[uint64]reasonRef{},
		scratch:   make([]byte, 0, 256),
	}
}

func (a *reasonArena) bytes(r reasonRef) []byte {
	return a.chunks[r.chunk][r.off : r.off+r.n]
}

// store keeps b and returns where. With dedupe set, an identical reason
// stored before is returned instead.
func (a *reasonArena) store(b []byte, dedupe bool) reasonRef {
	a.scratch = b
	var h uint64
	if dedupe {
		h = maphash.Bytes(a.seed, b)
		if r, ok := a.seen[h]; ok && bytes.Equal(a.bytes(r), b) {
			return r
		}
	}
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+len(b) > cap(a.chunks[last]) {
		a.chunks = append(a.chunks, make([]byte, 0, max(a.chunkSize, len(b))))
		last++
	}
	c := a.chunks[last]
	r := reasonRef{chunk: int32(last), off: int32(len(c)), n: int32(len(b))}
	a.chunks[last] = append(c, b...)
	if dedupe && len(a.seen) < maxSeen {
		if _, taken := a.seen[h]; !taken {
			a.seen[h] = r
		}
	}
	return r
}

// strings turns the chunks into strings, after which refs resolve with
// reasonRef.in and the arena must not be stored to again.
func (a *reasonArena) strings() []string {
	out := make([]string, len(a.chunks))
	for i, c := range a.chunks {
		out[i] = string(c)
	}
	a.chunks = nil
	return out
}

// in returns the reason r locates among the arena's strings.
func (r reasonRef) in(strs []string) string {
	return strs[r.chunk][r.off : r.off+r.n]
}

func (e *evaluation) deleteReason(ri, i int) reasonRef {
	r := &e.p.Rules[ri]
	buf := append(e.reasons.scratch[:0], "matched delete rule "...)
	buf = append(buf, r.Name...)
	buf = append(buf, ": "...)
	buf = e.appendConditions(buf, ri, i)
	return e.reasons.store(buf, true)
}

func (e *evaluation) keepReason(ri, i int) reasonRef {
	r := &e.p.Rules[ri]
	buf := append(e.reasons.scratch[:0], "kept by "...)
	buf = append(buf, r.Name...)
	buf = append(buf, ": "...)
	buf = e.appendConditions(buf, ri, i)
	l := e.latest[ri]
	if l == nil {
		return e.reasons.store(buf, true)
	}
	if len(r.order) > 0 {
		buf = append(buf, " and "...)
	}
	buf = appendRank(buf, l.rank[i])
	buf = append(buf, " of "...)
	buf = e.appendGroup(buf, r, i)
	// A group and rank name one artifact: nothing to share.
	return e.reasons.store(buf, false)
}

// appendConditions appends every condition of rule ri as it held for
// arts[i], in the order the rule lists them.
func (e *evaluation) appendConditions(buf []byte, ri, i int) []byte {
	r := &e.p.Rules[ri]
	a := &e.arts[i]
	for n, c := range r.order {
		if n > 0 {
			buf = append(buf, " and "...)
		}
		switch c {
		case condRepositories:
			buf = append(buf, "repository "...)
			buf = r.Repositories.appendMatched(buf, e.repos[e.repoIdx[i]].name)
		case condName:
			buf = append(buf, "name "...)
			buf = r.ArtifactName.appendMatched(buf, a.Name)
		case condBranch:
			buf = append(buf, "branch "...)
			buf = r.Branch.appendMatched(buf, a.Branch)
		case condOlderThan:
			buf = append(buf, "older than "...)
			buf = append(buf, r.OlderThan.Text...)
			buf = append(buf, " ("...)
			buf = appendAge(buf, e.ages[i], r.OlderThan.Value)
			buf = append(buf, ')')
		case condNewerThan:
			buf = append(buf, "newer than "...)
			buf = append(buf, r.NewerThan.Text...)
			buf = append(buf, " ("...)
			buf = appendAge(buf, e.ages[i], -1)
			buf = append(buf, ')')
		case condSizeGreaterThan:
			buf = append(buf, "size > "...)
			buf = append(buf, r.SizeGreaterThan.Text...)
			buf = append(buf, " ("...)
			buf = appendSize(buf, a.SizeInBytes, r.SizeGreaterThan.binary(), r.SizeGreaterThan)
			buf = append(buf, ')')
		case condSizeLessThan:
			buf = append(buf, "size < "...)
			buf = append(buf, r.SizeLessThan.Text...)
			buf = append(buf, " ("...)
			buf = appendSize(buf, a.SizeInBytes, r.SizeLessThan.binary(), nil)
			buf = append(buf, ')')
		case condExpired:
			if !a.Expired {
				buf = append(buf, "not "...)
			}
			buf = append(buf, "expired"...)
		}
	}
	return buf
}

// appendRank appends "newest" for 1 and "2nd newest", "3rd newest",
// "11th newest", "22nd newest"… otherwise.
func appendRank(buf []byte, rank int32) []byte {
	if rank == 1 {
		return append(buf, "newest"...)
	}
	buf = strconv.AppendInt(buf, int64(rank), 10)
	buf = append(buf, ordinalSuffix(int64(rank))...)
	return append(buf, " newest"...)
}

func ordinalSuffix(n int64) string {
	if n%100 >= 11 && n%100 <= 13 {
		return "th"
	}
	switch n % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}

// appendGroup describes the keep_latest group of arts[i] in group_by
// order, from arts[i]'s own fields: they are the group's.
func (e *evaluation) appendGroup(buf []byte, r *Rule, i int) []byte {
	if len(r.GroupBy) == 0 {
		buf = append(buf, "repository="...)
		return append(buf, e.repos[e.repoIdx[i]].name...)
	}
	a := &e.arts[i]
	for n, g := range r.GroupBy {
		if n > 0 {
			buf = append(buf, ", "...)
		}
		v := ""
		switch g {
		case GroupName:
			v = a.Name
		case GroupBranch:
			v = a.Branch
		case GroupHeadSHA:
			v = a.HeadSHA
		}
		if v == "" {
			v = "(none)"
		}
		buf = append(buf, g...)
		buf = append(buf, '=')
		buf = append(buf, v...)
	}
	return buf
}
