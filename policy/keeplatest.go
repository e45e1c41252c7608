package policy

import (
	"math"
	"slices"
	"sort"
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

// topNLimit is the keep_latest above which groups are fully sorted rather
// than scanned with a small insertion-sorted top list.
const topNLimit = 32

// rankLatest ranks the artifacts matching keep rule ri within their
// groups and stores the result in e.latest[ri]. It buckets artifacts by
// group with a hash map and a counting sort, then keeps the N newest of
// each bucket, so its cost is linear in the input for small N whatever
// the input order.
func (e *evaluation) rankLatest(ri int) {
	r := &e.p.Rules[ri]
	if e.order == nil {
		e.order = make([]newness, len(e.arts))
		for i := range e.arts {
			e.order[i] = newnessKey(e.arts[i].CreatedAt, e.arts[i].ID)
		}
	}
	g := newGrouper(e, r.GroupBy)
	l := &latestRanks{
		rank: make([]int32, len(e.arts)),
		gid:  make([]int32, len(e.arts)),
	}
	var counts []int32
	for i := range e.arts {
		if !e.matches(ri, i) {
			l.gid[i] = -1
			continue
		}
		id, isNew := g.group(i)
		if isNew {
			counts = append(counts, 0)
		}
		l.gid[i] = id
		counts[id]++
	}
	// Counting sort of the matching artifacts by group.
	offsets := make([]int32, len(counts)+1)
	for g, c := range counts {
		offsets[g+1] = offsets[g] + c
	}
	cursor := counts // reused: counts are no longer needed
	copy(cursor, offsets[:len(counts)])
	byGroup := make([]int32, offsets[len(counts)])
	for i, g := range l.gid {
		if g >= 0 {
			byGroup[cursor[g]] = int32(i)
			cursor[g]++
		}
	}
	top := make([]int32, 0, min(r.KeepLatest, topNLimit))
	for gid := range len(offsets) - 1 {
		top = e.rankGroup(byGroup[offsets[gid]:offsets[gid+1]], r.KeepLatest, l.rank, top)
	}
	e.latest[ri] = l
}

// rankGroup gives the keep newest members of bucket their rank. Artifacts
// with equal creation time and id (the same artifact listed twice) share a
// rank and count once, so duplicates cannot push a distinct artifact out.
func (e *evaluation) rankGroup(bucket []int32, keep int, rank []int32, top []int32) []int32 {
	order := e.order
	newer := func(i, j int32) bool { return order[i].newerThan(order[j]) }
	if len(bucket) <= keep || keep > topNLimit {
		slices.SortFunc(bucket, func(i, j int32) int {
			switch {
			case newer(i, j):
				return -1
			case newer(j, i):
				return 1
			}
			return 0
		})
		r := int32(0)
		for j, i := range bucket {
			if j == 0 || order[bucket[j-1]] != order[i] {
				r++
			}
			if int(r) > keep {
				break
			}
			rank[i] = r
		}
		return top
	}
	// top holds the distinct newest seen so far, newest first.
	top = top[:0]
	for _, i := range bucket {
		if len(top) == keep && !newer(i, top[keep-1]) {
			continue
		}
		pos := sort.Search(len(top), func(j int) bool { return newer(i, top[j]) })
		if pos > 0 && order[top[pos-1]] == order[i] {
			continue
		}
		if len(top) < keep {
			top = append(top, 0)
		}
		copy(top[pos+1:], top[pos:len(top)-1])
		top[pos] = i
	}
	last := top[len(top)-1]
	for _, i := range bucket {
		if newer(last, i) {
			continue
		}
		// The first kept entry not newer than i is i's equal.
		pos := sort.Search(len(top), func(j int) bool { return !newer(top[j], i) })
		rank[i] = int32(pos + 1)
	}
	return top
}

// fieldIDs numbers the distinct values of one artifact field, densely
// from 0: ids[i] is arts[i]'s value's number. Artifact names and branches
// take few distinct values, so the map stays small and cached; grouping
// then works on small integers instead of hashing strings per rule.
type fieldIDs struct {
	ids      []int32
	distinct int
}

func (e *evaluation) fieldIDs(field GroupKey) *fieldIDs {
	if f := e.fields[field]; f != nil {
		return f
	}
	f := &fieldIDs{ids: make([]int32, len(e.arts))}
	index := map[string]int32{}
	for i := range e.arts {
		a := &e.arts[i]
		var v string
		switch field {
		case GroupName:
			v = a.Name
		case GroupBranch:
			v = a.Branch
		case GroupHeadSHA:
			v = a.HeadSHA
		}
		id, ok := index[v]
		if !ok {
			id = int32(len(index))
			index[v] = id
		}
		f.ids[i] = id
	}
	f.distinct = len(index)
	e.fields[field] = f
	return f
}

// maxDenseGroups bounds the table grouper uses when every combination of
// field values can have its own slot.
const maxDenseGroups = 1 << 22

// grouper numbers the keep_latest groups of one rule: the repository plus
// the group_by fields, as a tuple of field ids. When the tuples are few
// enough, a tuple's slot in a dense table holds its group; otherwise a map
// keyed by the tuple does. Either way the key is exact.
type grouper struct {
	e      *evaluation
	fields []*fieldIDs
	dense  []int32 // slot -> group+1; nil when the map is used
	byKey  map[[4]int32]int32
	groups int32
}

func newGrouper(e *evaluation, groupBy []GroupKey) *grouper {
	g := &grouper{e: e}
	slots := len(e.repos)
	for _, k := range groupBy {
		f := e.fieldIDs(k)
		g.fields = append(g.fields, f)
		if slots <= maxDenseGroups {
			slots *= max(f.distinct, 1)
		}
	}
	if slots <= maxDenseGroups && slots <= 4*len(e.arts)+64 {
		g.dense = make([]int32, slots)
	} else {
		g.byKey = map[[4]int32]int32{}
	}
	return g
}

// group returns the group of arts[i] and whether it is new.
func (g *grouper) group(i int) (int32, bool) {
	if g.dense != nil {
		slot := int(g.e.repoIdx[i])
		for _, f := range g.fields {
			slot = slot*f.distinct + int(f.ids[i])
		}
		if id := g.dense[slot]; id > 0 {
			return id - 1, false
		}
		g.groups++
		g.dense[slot] = g.groups
		return g.groups - 1, true
	}
	key := [4]int32{g.e.repoIdx[i]}
	for n, f := range g.fields {
		key[n+1] = f.ids[i]
	}
	if id, ok := g.byKey[key]; ok {
		return id, false
	}
	id := g.groups
	g.byKey[key] = id
	g.groups++
	return id, true
}
