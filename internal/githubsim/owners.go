package githubsim

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/retentiond/retentiond/internal/artifact"
)

// Route names of the repository listings of an owner.
const (
	RouteOrgRepos  = "org_repos"  // GET /orgs/{org}/repos, or /organizations/{id}/repos as its links say
	RouteUserRepos = "user_repos" // GET /users/{user}/repos, or /user/{id}/repos as its links say
)

// OwnerKind is what kind of account owns repositories: GitHub serves an
// organisation's repositories at /orgs/{org}/repos and a user's at
// /users/{user}/repos, and /orgs/{user}/repos is a 404.
type OwnerKind string

// The kinds of owner.
const (
	Organization OwnerKind = "Organization"
	User         OwnerKind = "User"
)

// owner is one account that owns repositories.
type owner struct {
	login string // lower-cased
	id    int64
	kind  OwnerKind
}

// ownerLocked returns the owner called login, creating it as an
// organisation; the caller holds s.mu for writing.
func (s *Server) ownerLocked(login string) *owner {
	login = strings.ToLower(login)
	if o, ok := s.owners[login]; ok {
		return o
	}
	if s.owners == nil {
		s.owners = map[string]*owner{}
	}
	s.nextOwnerID++
	o := &owner{login: login, id: 7_000_000 + s.nextOwnerID, kind: Organization}
	s.owners[login] = o
	return o
}

// SetOwnerKind makes login a user or an organisation (the default for an
// owner first seen in AddRepository).
func (s *Server) SetOwnerKind(login string, kind OwnerKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ownerLocked(login).kind = kind
}

// SetArchived archives (or unarchives) a repository and reports whether it
// exists. GitHub refuses to delete the artifacts of an archived repository:
// DELETE answers 403 "Repository was archived so is read-only."
func (s *Server) SetArchived(repo artifact.Repository, archived bool) bool {
	return s.setRepoFlag(repo, func(r *repository) { r.archived = archived })
}

// SetFork marks a repository as a fork and reports whether it exists.
func (s *Server) SetFork(repo artifact.Repository, fork bool) bool {
	return s.setRepoFlag(repo, func(r *repository) { r.fork = fork })
}

func (s *Server) setRepoFlag(repo artifact.Repository, set func(*repository)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, err := parseRepository(string(repo))
	if err != nil || s.repos[key] == nil {
		return false
	}
	set(s.repos[key])
	return true
}

// RenameRepository renames a repository within its owner, as a person does
// in its settings: it keeps its id and its artifacts, the listings show the
// new name, and requests to the old name get a 301 to /repositories/{id}/…,
// as GitHub redirects them. It reports whether from existed and to was free.
func (s *Server) RenameRepository(from, to artifact.Repository) bool {
	oldKey, err1 := parseRepository(string(from))
	newKey, err2 := parseRepository(string(to))
	if err1 != nil || err2 != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[oldKey]
	if r == nil || s.repos[newKey] != nil {
		return false
	}
	delete(s.repos, oldKey)
	r.key, r.display = newKey, strings.TrimSpace(string(to))
	s.repos[newKey] = r
	if s.moved == nil {
		s.moved = map[string]*repository{}
	}
	s.moved[oldKey] = r
	delete(s.moved, newKey)
	s.ownerLocked(artifact.Repository(newKey).Owner())
	// Entries carry their repository's name; replace them by renamed
	// copies, since handlers may still hold the old ones (see mutate).
	renamed := make(map[*entry]*entry, len(r.arts))
	for i, e := range r.arts {
		c := &entry{a: e.a, content: e.content, lazyDigest: e.lazyDigest}
		if d := e.digest.Load(); d != nil {
			c.digest.Store(d)
		}
		c.a.Repository = artifact.Repository(newKey)
		renamed[e] = c
		r.arts[i] = c
	}
	for _, list := range r.byName {
		for i := range list {
			list[i] = renamed[list[i]]
		}
	}
	for _, list := range r.byRun {
		for i := range list {
			list[i] = renamed[list[i]]
		}
	}
	r.version++
	return true
}

// parseOwnerRoute recognises the repository listings of an owner.
func parseOwnerRoute(rt route, method string, seg []string) (route, bool) {
	if len(seg) != 3 || seg[2] != "repos" || seg[1] == "" {
		return rt, false
	}
	switch seg[0] {
	case "orgs":
		rt.name, rt.ownerLogin = RouteOrgRepos, seg[1]
	case "users":
		rt.name, rt.ownerLogin = RouteUserRepos, seg[1]
	case "organizations":
		id, ok := parseID(seg[1])
		if !ok {
			return rt, false
		}
		rt.name, rt.ownerID = RouteOrgRepos, id
	case "user":
		id, ok := parseID(seg[1])
		if !ok {
			return rt, false
		}
		rt.name, rt.ownerID = RouteUserRepos, id
	default:
		return rt, false
	}
	if method != http.MethodGet {
		rt.name = RouteUnknown
	}
	return rt, true
}

// ownerFor finds the owner a listing names; the caller holds s.mu. An
// organisation's listing of a user is a 404, as on GitHub; a user's listing
// serves organisations too (an organisation is an account like a user).
func (s *Server) ownerFor(rt route) *owner {
	var o *owner
	if rt.ownerID != 0 {
		for _, cand := range s.owners {
			if cand.id == rt.ownerID {
				o = cand
				break
			}
		}
	} else {
		o = s.owners[strings.ToLower(rt.ownerLogin)]
	}
	if o == nil || (rt.name == RouteOrgRepos && o.kind != Organization) {
		return nil
	}
	return o
}

// ownerQuery is the parsed query of an owner's repository listing.
type ownerQuery struct {
	listQuery
	typ, sort string
	desc      bool
}

func parseOwnerQuery(raw string, user bool) ownerQuery {
	q := ownerQuery{listQuery: parseListQuery(raw)}
	vals, _ := url.ParseQuery(raw)
	q.typ, q.sort = vals.Get("type"), vals.Get("sort")
	if q.sort == "" {
		// GitHub's defaults: an organisation's repositories by creation,
		// a user's by full name.
		q.sort = "created"
		if user {
			q.sort = "full_name"
		}
	}
	// direction defaults to asc for full_name and desc otherwise.
	q.desc = q.sort != "full_name"
	switch vals.Get("direction") {
	case "asc":
		q.desc = false
	case "desc":
		q.desc = true
	}
	return q
}

// ownerRepos returns the repositories of o that q selects, in q's order;
// the caller holds s.mu.
func (s *Server) ownerRepos(o *owner, q ownerQuery) []*repository {
	var out []*repository
	prefix := o.login + "/"
	for key, r := range s.repos {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		switch q.typ {
		case "forks":
			if !r.fork {
				continue
			}
		case "sources":
			if r.fork {
				continue
			}
		case "private", "internal":
			// The simulator's repositories are all public.
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *repository) int {
		c := cmp.Compare(a.id, b.id) // created, updated and pushed: by creation
		if q.sort == "full_name" {
			c = cmp.Compare(a.key, b.key)
		}
		if q.desc {
			return -c
		}
		return c
	})
	return out
}

// ownerETag hashes everything the listing depends on: the request and
// every listed repository's id, name and flags, so that any change to the
// listing (a repository added, renamed, archived) changes it.
func ownerETag(c *call, repos []*repository) string {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	mix := func(s string) {
		for i := range len(s) {
			h ^= uint64(s[i])
			h *= prime
		}
		h ^= 0
		h *= prime
	}
	mix(c.base)
	mix(c.r.URL.Path)
	mix(c.r.URL.RawQuery)
	for _, r := range repos {
		mix(strconv.FormatInt(r.id, 10))
		mix(r.key)
		mix(strconv.FormatBool(r.archived) + strconv.FormatBool(r.fork))
	}
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], h)
	return `W/"` + hex.EncodeToString(n[:]) + `"`
}

// serveOwnerRoutes handles what concerns repositories as a whole rather
// than their artifacts: an owner's repository listing, the 301 of a renamed
// repository's old name, and the 403 for deleting in an archived one. It
// reports whether it answered. It runs after the rate limit was charged;
// conditional listings are answered by ownerNotModified before that.
func (s *Server) serveOwnerRoutes(c *call) bool {
	switch c.rt.name {
	case RouteOrgRepos, RouteUserRepos:
		s.serveOwnerRepos(c)
		return true
	}
	if c.rt.name == RouteUnknown || c.rt.name == RouteBlob {
		return false
	}
	s.mu.RLock()
	current := s.repoFor(c.rt)
	archived := current != nil && current.archived
	var moved *repository
	var id int64
	if current == nil && c.rt.owner != "" { // only then can it be an old name
		if key, err := parseRepository(c.rt.owner + "/" + c.rt.repo); err == nil {
			moved = s.moved[key]
		}
		if moved != nil {
			id = moved.id
		}
	}
	s.mu.RUnlock()
	switch {
	case current == nil && moved != nil:
		// GitHub answers a renamed repository's old name with a permanent
		// redirect to the repository by id, keeping the rest of the path.
		_, rest, _ := strings.Cut(strings.TrimPrefix(c.r.URL.Path, c.rt.prefix), "/repos/"+c.rt.owner+"/"+c.rt.repo)
		loc := c.base + "/repositories/" + strconv.FormatInt(id, 10) + rest
		if c.r.URL.RawQuery != "" {
			loc += "?" + c.r.URL.RawQuery
		}
		c.w.Header().Set("Location", loc)
		writeError(c.w, http.StatusMovedPermanently, "Moved Permanently", docRoot, false)
		return true
	case archived && c.rt.name == RouteDelete:
		writeError(c.w, http.StatusForbidden, "Repository was archived so is read-only.", docFor(RouteDelete), true)
		return true
	}
	return false
}

// ownerNotModified answers a conditional owner listing whose ETag still
// matches with a free 304, like the artifact listings.
func (s *Server) ownerNotModified(c *call) bool {
	inm := c.r.Header.Get("If-None-Match")
	if inm == "" || (c.rt.name != RouteOrgRepos && c.rt.name != RouteUserRepos) {
		return false
	}
	q := parseOwnerQuery(c.r.URL.RawQuery, c.rt.name == RouteUserRepos)
	s.mu.RLock()
	var tag string
	if o := s.ownerFor(c.rt); o != nil {
		tag = ownerETag(c, s.ownerRepos(o, q))
	}
	s.mu.RUnlock()
	if tag == "" || !etagMatches(inm, tag) {
		return false
	}
	h := c.w.Header()
	setRateHeaders(h, s.peekRate())
	h.Set("ETag", tag)
	h.Set("Cache-Control", cacheControl)
	c.w.WriteHeader(http.StatusNotModified)
	return true
}

// serveOwnerRepos serves one page of an owner's repositories.
func (s *Server) serveOwnerRepos(c *call) {
	user := c.rt.name == RouteUserRepos
	q := parseOwnerQuery(c.r.URL.RawQuery, user)
	var body []byte
	var etag, link string
	found := func() bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		o := s.ownerFor(c.rt)
		if o == nil {
			return false
		}
		repos := s.ownerRepos(o, q)
		etag = ownerETag(c, repos)
		// Links name the owner by id, as GitHub's do.
		target := c.base + "/organizations/" + strconv.FormatInt(o.id, 10) + "/repos"
		if user {
			target = c.base + "/user/" + strconv.FormatInt(o.id, 10) + "/repos"
		}
		start, end, last := pageWindow(len(repos), q.perPage, q.page)
		link = linkHeader(target, q.linkQuery, q.page, last)
		body = append(body, '[')
		for i, r := range repos[start:end] {
			if i > 0 {
				body = append(body, ',')
			}
			body = appendRepository(body, c.base, o, r)
		}
		body = append(body, ']')
		return true
	}()
	if !found {
		writeError(c.w, http.StatusNotFound, "Not Found", docRoot, true)
		return
	}
	h := c.w.Header()
	if link != "" {
		h.Set("Link", link)
	}
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	writeJSON(c.w, http.StatusOK, body)
}

// appendRepository encodes the members of GitHub's minimal repository
// object that clients read: id, names, owner, flags and URLs.
func appendRepository(b []byte, base string, o *owner, r *repository) []byte {
	owner, name, _ := strings.Cut(r.display, "/")
	id := strconv.FormatInt(r.id, 10)
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = append(b, `,"node_id":`...)
	b = appendString(b, "R_kgDO"+id)
	b = append(b, `,"name":`...)
	b = appendString(b, name)
	b = append(b, `,"full_name":`...)
	b = appendString(b, r.display)
	b = append(b, `,"private":false,"owner":{"login":`...)
	b = appendString(b, owner)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, o.id, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, string(o.kind))
	b = append(b, `},"html_url":`...)
	b = appendString(b, "https://github.com/"+r.display)
	b = append(b, `,"url":`...)
	b = appendString(b, base+"/repos/"+r.display)
	b = append(b, `,"fork":`...)
	b = strconv.AppendBool(b, r.fork)
	b = append(b, `,"archived":`...)
	b = strconv.AppendBool(b, r.archived)
	b = append(b, `,"disabled":false,"visibility":"public","default_branch":"main"}`...)
	return b
}
