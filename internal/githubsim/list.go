package githubsim

import (
	"crypto/sha256"
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

// etagOf derives a weak ETag from what a response says: its body and its
// Link header, as GitHub's are a digest of the representation. So any change
// a page shows — an artifact created or deleted (total_count is in every
// page's body), an expired flag flipping, a renamed repository's URLs —
// changes that page's ETag, and a change a page does not show leaves its
// ETag alone: an artifact expiring on page 3 does not change page 1's.
func etagOf(body []byte, link string) string {
	h := sha256.New()
	h.Write(body)
	h.Write([]byte{0})
	h.Write([]byte(link))
	var sum [sha256.Size]byte
	var out [3 + 2*sha256.Size + 1]byte
	copy(out[:], `W/"`)
	hex.Encode(out[3:3+2*sha256.Size], h.Sum(sum[:0]))
	out[len(out)-1] = '"'
	return string(out[:])
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 13.1.2) to
// a comma-separated list of tags: W/"x" and "x" match each other, and *
// matches any current representation. An unquoted or garbled member never
// matches, so the request is answered in full, as GitHub does.
func etagMatches(header, tag string) bool {
	tag = strings.TrimPrefix(tag, "W/")
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" {
			return true
		}
		part = strings.TrimPrefix(part, "W/")
		if len(part) >= 2 && part[0] == '"' && part[len(part)-1] == '"' && part == tag {
			return true
		}
	}
	return false
}

// rendered is a response body made once for both the conditional check and
// the answer, so both see the same snapshot of the repository.
type rendered struct {
	bp    *[]byte
	etag  string
	link  string
	found bool
}

// render makes the body of a list or get request, once per request.
func (s *Server) render(c *call) *rendered {
	if c.page != nil {
		return c.page
	}
	bp := bufPool.Get().(*[]byte)
	c.page = &rendered{bp: bp}
	switch c.rt.name {
	case RouteList, RouteListRun:
		c.page.link, c.page.found = s.renderList(c, bp)
	case RouteGet:
		c.page.found = s.renderGet(c, bp)
	}
	if c.page.found && !s.noETags {
		c.page.etag = etagOf(*bp, c.page.link)
	}
	return c.page
}

// release returns the rendered body's buffer to the pool.
func (c *call) release() {
	if c.page != nil {
		bufPool.Put(c.page.bp)
		c.page = nil
	}
}

// notModified answers a conditional GET whose ETag still matches with 304.
// Such requests are free: they are not charged to the primary budget.
func (s *Server) notModified(c *call) bool {
	inm := c.r.Header.Get("If-None-Match")
	if inm == "" || s.noETags {
		return false
	}
	switch c.rt.name {
	case RouteList, RouteListRun, RouteGet, RouteBranches:
	default:
		return false
	}
	var tag string
	if c.rt.name == RouteBranches {
		s.mu.RLock()
		if repo := s.repoFor(c.rt); repo != nil {
			_, _, tag = branchPage(c, repo)
		}
		s.mu.RUnlock()
	} else if page := s.render(c); page.found {
		tag = page.etag
	}
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
	page := s.render(c)
	if !page.found {
		writeError(c.w, http.StatusNotFound, "Not Found", docFor(c.rt.name), true)
		return
	}
	h := c.w.Header()
	if page.link != "" {
		h.Set("Link", page.link)
	}
	if page.etag != "" {
		h.Set("ETag", page.etag)
	}
	h.Set("Cache-Control", cacheControl)
	writeJSON(c.w, http.StatusOK, *page.bp)
}

// renderList writes a list page into bp and returns its Link header.
func (s *Server) renderList(c *call, bp *[]byte) (link string, found bool) {
	q := parseListQuery(c.r.URL.RawQuery)
	s.mu.RLock()
	defer s.mu.RUnlock()
	repo := s.repoFor(c.rt)
	if repo == nil {
		return "", false
	}
	view, asc := repo.arts, false
	target := c.base + "/repositories/" + strconv.FormatInt(repo.id, 10) + "/actions/"
	if c.rt.name == RouteListRun {
		run, ok := repo.byRun[c.rt.runID]
		if !ok {
			return "", false
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
	return link, true
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
	page := s.render(c)
	if !page.found {
		writeError(c.w, http.StatusNotFound, "Not Found", docFor(RouteGet), true)
		return
	}
	h := c.w.Header()
	if page.etag != "" {
		h.Set("ETag", page.etag)
	}
	h.Set("Cache-Control", cacheControl)
	writeJSON(c.w, http.StatusOK, *page.bp)
}

// renderGet writes one artifact into bp.
func (s *Server) renderGet(c *call, bp *[]byte) bool {
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
	*bp, _ = appendArtifact((*bp)[:0], nil, c.base, repo, e)
	return true
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
