package policy

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// newness orders artifacts for keep_latest: by creation time, then by id
// (a larger id is newer), with an unknown creation time the oldest of all.
// Nothing else (updated_at, expires_at, input order) takes part, which is
// what makes "the N newest" stable.
type newness struct {
	created int64 // nanoseconds since 1970, clamped; MinInt64 when unknown
	id      int64
}

func (a newness) newerThan(b newness) bool {
	return a.created > b.created || (a.created == b.created && a.id > b.id)
}

func newnessKey(t time.Time, id int64) newness {
	if t.IsZero() {
		return newness{math.MinInt64, id}
	}
	// Clamp to the years UnixNano can represent (1678–2262); artifacts
	// outside them are not real, and a clamped key still orders them
	// deterministically.
	const maxSec = math.MaxInt64/int64(time.Second) - 1
	sec := min(max(t.Unix(), -maxSec), maxSec)
	return newness{sec*int64(time.Second) + int64(t.Nanosecond()), id}
}

// latestRanks is the outcome of one keep_latest rule.
type latestRanks struct {
	// rank[i] is arts[i]'s place in its group, 1 for the newest, when the
	// rule keeps it; 0 when it does not match or is beyond keep_latest.
	rank []int32
	// gid[i] is arts[i]'s group, -1 when it does not match.
	gid []int32
}

// groupKey is one keep_latest group: the repository (as the input spells
// it) and the values of the group_by fields; fields the rule does not
// group by stay empty.
type groupKey struct {
	repo                  int32 // into evaluation.repos
	name, branch, headSHA string
}

// member is one artifact of a keep_latest group: its index in arts and
// its place in the newness order, kept together so that sorting a group
// reads nothing else.
type member struct {
	newness
	i int32
}

// rankLatest ranks the artifacts matching keep rule ri within their
// groups and stores the result in e.latest[ri].
func (e *evaluation) rankLatest(ri int) {
	r := &e.p.Rules[ri]
	l := &latestRanks{
		rank: make([]int32, len(e.arts)),
		gid:  make([]int32, len(e.arts)),
	}
	ids := map[groupKey]int32{}
	var sizes []int // by gid
	var last groupKey
	lastID := int32(-1)
	for i := range e.arts {
		if !e.matches(ri, i) {
			l.gid[i] = -1
			continue
		}
		// Artifacts of one workflow run are listed together, so the
		// previous artifact's group is often this one's.
		k := e.groupKey(r.GroupBy, i)
		id := lastID
		if id < 0 || k != last {
			var ok bool
			if id, ok = ids[k]; !ok {
				id = int32(len(sizes))
				ids[k] = id
				sizes = append(sizes, 0)
			}
			last, lastID = k, id
		}
		l.gid[i] = id
		sizes[id]++
	}
	// Lay the groups out one after the other in one slice: group g is
	// members[start[g]:start[g+1]].
	start := make([]int, len(sizes)+1)
	for g, n := range sizes {
		start[g+1] = start[g] + n
	}
	members := make([]member, start[len(sizes)])
	next := sizes[:0]
	next = append(next, start[:len(sizes)]...)
	for i, g := range l.gid {
		if g >= 0 {
			members[next[g]] = member{e.order[i], int32(i)}
			next[g]++
		}
	}
	for g := range len(sizes) {
		rankGroup(members[start[g]:start[g+1]], r.KeepLatest, l.rank)
	}
	e.latest[ri] = l
}

func (e *evaluation) groupKey(groupBy []GroupKey, i int) groupKey {
	a := &e.arts[i]
	k := groupKey{repo: e.repoIdx[i]}
	for _, g := range groupBy {
		switch g {
		case GroupName:
			k.name = a.Name
		case GroupBranch:
			k.branch = a.Branch
		case GroupHeadSHA:
			k.headSHA = a.HeadSHA
		}
	}
	return k
}

// rankGroup gives the keep newest members of one group their rank in
// rank. Artifacts with equal creation time and id (the same artifact
// listed twice) share a rank and count once, so duplicates cannot push a
// distinct artifact out.
func rankGroup(g []member, keep int, rank []int32) {
	g = candidates(g, keep)
	slices.SortFunc(g, newestFirst)
	r := int32(0)
	for n, m := range g {
		if n == 0 || g[n-1].newness != m.newness {
			r++
		}
		if int(r) > keep {
			return
		}
		rank[m.i] = r
	}
}

func newestFirst(a, b member) int {
	if c := cmp.Compare(b.created, a.created); c != 0 {
		return c
	}
	return cmp.Compare(b.id, a.id)
}

// sampleSize is how many members of a big group candidates looks at.
const sampleSize = 1024

// candidates returns the members of g that could rank among its keep
// newest, moved to the front of g, so that a big group of which few are
// kept is not sorted whole (a million artifacts in four repositories
// under keep_latest without group_by would spend most of the evaluation
// sorting). If keep distinct values of a sample of g are no older than
// t, neither are g's keep newest, so nothing older than t can rank. The
// sample is g's first members in input order; when they are its oldest,
// t cuts little and the group is sorted whole, which is slower, not wrong.
func candidates(g []member, keep int) []member {
	if len(g) < 4*sampleSize || 4*keep > sampleSize {
		return g
	}
	sample := g[:sampleSize]
	slices.SortFunc(sample, newestFirst)
	distinct := 0
	var t newness
	for n, m := range sample {
		if n == 0 || sample[n-1].newness != m.newness {
			if distinct++; distinct == keep {
				t = m.newness
				break
			}
		}
	}
	if distinct < keep {
		return g
	}
	n := 0
	for i := range g {
		if !t.newerThan(g[i].newness) {
			g[n], g[i] = g[i], g[n]
			n++
		}
	}
	return g[:n]
}
