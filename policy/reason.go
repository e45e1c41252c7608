package policy

import "strconv"

// A reason is built in the evaluation's scratch buffer and copied out as
// a string of its own: one allocation per reason, and a Decision holds on
// to nothing but its own text.
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
//	branch BRANCH deleted
//
// PATTERNS is the first positive entry that matched followed by every
// "!" entry, comma-separated ("test-results-*", "!main,!release/**");
// T and S are the thresholds as written; AGE is formatted by appendAge and
// SIZE by appendSize. RANK is "newest", "2nd", "3rd", "11th"…; GROUP is
// "name=build, branch=main" in group_by order ("repository=owner/name"
// without group_by), with an empty field shown as "(none)".

func (e *evaluation) deleteReason(ri, i int) string {
	r := &e.p.Rules[ri]
	buf := append(e.scratch[:0], "matched delete rule "...)
	buf = append(buf, r.Name...)
	buf = append(buf, ": "...)
	buf = e.appendConditions(buf, ri, i)
	e.scratch = buf
	return string(buf)
}

func (e *evaluation) keepReason(ri, i int) string {
	r := &e.p.Rules[ri]
	buf := append(e.scratch[:0], "kept by "...)
	buf = append(buf, r.Name...)
	buf = append(buf, ": "...)
	buf = e.appendConditions(buf, ri, i)
	if l := e.latest[ri]; l != nil {
		if len(r.order) > 0 {
			buf = append(buf, " and "...)
		}
		buf = appendRank(buf, l.rank[i])
		buf = append(buf, " of "...)
		buf = e.appendGroup(buf, r, i)
	}
	e.scratch = buf
	return string(buf)
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
		case condBranchDeleted:
			buf = append(buf, "branch "...)
			buf = append(buf, a.Branch...)
			buf = append(buf, " deleted"...)
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
