package githubsim

import (
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

const (
	defaultPerPage = 30
	maxPerPage     = 100
	cacheControl   = "private, max-age=60, s-maxage=60"
)

// bufPool recycles response buffers: a page of 100 artifacts is about 70 KB
// and the benchmarks list thousands of them.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// listQuery is the parsed query of a list request.
type listQuery struct {
	perPage   int
	page      int
	name      string
	direction string
	// linkQuery is the raw query without page, in the order given, which
	// Link headers echo (per_page as asked, even above 100) before page=N.
	linkQuery string
}

// parseListQuery reads per_page, page, name and direction. Missing, malformed
// or non-positive per_page and page fall back to 30 and 1, as GitHub does.
func parseListQuery(raw string) listQuery {
	q := listQuery{perPage: defaultPerPage, page: 1}
	var kept []string
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			kept = append(kept, part)
			continue
		}
		val, _ := url.QueryUnescape(v)
		switch key {
		case "page":
			if n, err := strconv.Atoi(val); err == nil && n >= 1 {
				q.page = n
			}
			continue
		case "per_page":
			if n, err := strconv.Atoi(val); err == nil && n >= 1 {
				q.perPage = min(n, maxPerPage)
			}
		case "name":
			q.name = val
		case "direction":
			q.direction = val
		}
		kept = append(kept, part)
	}
	q.linkQuery = strings.Join(kept, "&")
	return q
}

// pageWindow returns the slice bounds of page and the number of the last page.
// A page past the end is empty.
func pageWindow(total, perPage, page int) (start, end, last int) {
	last = max(1, (total+perPage-1)/perPage)
	if page > last {
		return total, total, last
	}
	start = (page - 1) * perPage
	return start, min(start+perPage, total), last
}

// linkHeader builds GitHub's Link header: page 1 has next and last, a middle
// page prev, next, last and first, the last page prev and first, and a single
// page none. A page past the end gets prev (page-1) and first.
func linkHeader(target, query string, page, last int) string {
	if page == 1 && last == 1 {
		return ""
	}
	var b []byte
	add := func(p int, rel string) {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '<')
		b = append(b, target...)
		b = append(b, '?')
		if query != "" {
			b = append(b, query...)
			b = append(b, '&')
		}
		b = append(b, "page="...)
		b = strconv.AppendInt(b, int64(p), 10)
		b = append(b, `>; rel="`...)
		b = append(b, rel...)
		b = append(b, '"')
	}
	switch {
	case page == 1:
		add(2, "next")
		add(last, "last")
	case page < last:
		add(page-1, "prev")
		add(page+1, "next")
		add(last, "last")
		add(1, "first")
	default:
		add(page-1, "prev")
		add(1, "first")
	}
	return string(b)
}

// etagFor derives a weak ETag from everything a response depends on: the
// repository's version (bumped by every change), the host (links embed it),
// the path and the query. FNV-1a inline, because fnv.New64a allocates.
func etagFor(c *call, repo *repository) string {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, s := range [...]string{c.base, "\x00", c.r.URL.Path, "\x00", c.r.URL.RawQuery, "\x00"} {
		for i := range len(s) {
			h ^= uint64(s[i])
			h *= prime
		}
	}
	var n [16]byte
	binary.LittleEndian.PutUint64(n[:8], repo.version)
	binary.LittleEndian.PutUint64(n[8:], uint64(repo.id))
	for _, x := range n {
		h ^= uint64(x)
		h *= prime
	}
	var out [3 + 16 + 1]byte
	copy(out[:], `W/"`)
	binary.BigEndian.PutUint64(n[:8], h)
	hex.Encode(out[3:19], n[:8])
	out[19] = '"'
	return string(out[:])
}

// etagMatches applies If-None-Match's weak comparison to a list of tags.
func etagMatches(header, tag string) bool {
	tag = strings.TrimPrefix(tag, "W/")
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == tag {
			return true
		}
	}
	return false
}

// notModified answers a conditional GET whose ETag still matches with 304.
// Such requests are free: they are not charged to the primary budget.
func (s *Server) notModified(c *call) bool {
	inm := c.r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	switch c.rt.name {
	case RouteList, RouteListRun, RouteGet:
	default:
		return false
	}
	s.mu.RLock()
	var tag string
	if repo := s.repoFor(c.rt); repo != nil {
		tag = etagFor(c, repo)
	}
	s.mu.RUnlock()
	if tag == "" || !etagMatches(inm, tag) {
		return false
	}
	h := c.w.Header()
	setRateHeaders(h, s.peekBudget(s.budget(c.cred)))
	h.Set("ETag", tag)
	h.Set("Cache-Control", cacheControl)
	c.w.WriteHeader(http.StatusNotModified)
	return true
}

// serveList serves both the repository list and the run list.
func (s *Server) serveList(c *call) {
	q := parseListQuery(c.r.URL.RawQuery)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)

	var etag, link string
	found := func() bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		repo := s.repoFor(c.rt)
		if repo == nil {
			return false
		}
		view, asc := repo.arts, false
		target := c.base + "/repositories/" + strconv.FormatInt(repo.id, 10) + "/actions/"
		if c.rt.name == RouteListRun {
			run, ok := repo.byRun[c.rt.runID]
			if !ok {
				return false
			}
			view, asc = run, q.direction == "asc"
			if q.name != "" {
				view = filterName(run, q.name)
			}
			target += "runs/" + strconv.FormatInt(c.rt.runID, 10) + "/artifacts"
		} else {
			if q.name != "" {
				view = repo.byName[q.name]
			}
			target += "artifacts"
		}
		total := len(view)
		start, end, last := pageWindow(total, q.perPage, q.page)
		link = linkHeader(target, q.linkQuery, q.page, last)
		etag = etagFor(c, repo)

		b := append((*bp)[:0], `{"total_count":`...)
		b = strconv.AppendInt(b, int64(total), 10)
		b = append(b, `,"artifacts":[`...)
		var scratch [256]byte
		sc := scratch[:0]
		for i := start; i < end; i++ {
			if i > start {
				b = append(b, ',')
			}
			e := view[i]
			if asc {
				e = view[total-1-i]
			}
			b, sc = appendArtifact(b, sc, c.base, repo, e)
		}
		*bp = append(b, "]}"...)
		return true
	}()
	if !found {
		writeError(c.w, http.StatusNotFound, "Not Found", docFor(c.rt.name), true)
		return
	}
	h := c.w.Header()
	if link != "" {
		h.Set("Link", link)
	}
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	writeJSON(c.w, http.StatusOK, *bp)
}

// filterName returns the artifacts of a run called name. Runs hold a handful
// of artifacts, so filtering per request is cheap and needs no index.
func filterName(run []*entry, name string) []*entry {
	var out []*entry
	for _, e := range run {
		if e.a.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// serveGet serves one artifact.
func (s *Server) serveGet(c *call) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	var etag string
	found := func() bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		repo := s.repoFor(c.rt)
		if repo == nil {
			return false
		}
		e := findDesc(repo.arts, c.rt.artifactID)
		if e == nil {
			return false
		}
		etag = etagFor(c, repo)
		*bp, _ = appendArtifact((*bp)[:0], nil, c.base, repo, e)
		return true
	}()
	if !found {
		writeError(c.w, http.StatusNotFound, "Not Found", docFor(RouteGet), true)
		return
	}
	h := c.w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	writeJSON(c.w, http.StatusOK, *bp)
}

// serveDelete deletes one artifact: 204 with an empty body, 404 when it is
// already gone, 403 for a read-only token.
func (s *Server) serveDelete(c *call) {
	if s.readOnly {
		writeError(c.w, http.StatusForbidden, s.forbidden, docFor(RouteDelete), true)
		return
	}
	deleted := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		repo := s.repoFor(c.rt)
		return repo != nil && s.unindexLocked(repo, c.rt.artifactID)
	}()
	if !deleted {
		writeError(c.w, http.StatusNotFound, "Not Found", docFor(RouteDelete), true)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}
