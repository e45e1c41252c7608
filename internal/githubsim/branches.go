package githubsim

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"

	"github.com/retentiond/retentiond/internal/artifact"
)

// RouteBranches is GET /repos/{owner}/{repo}/branches (and the
// /repositories/{id} form its Link headers use).
const RouteBranches = "branches"

// branchSet is one repository's branches. A repository nobody gave
// branches has one, main, as a new GitHub repository has its default
// branch.
type branchSet struct {
	names     []string // sorted, as GitHub lists them
	protected map[string]bool
}

var defaultBranches = []string{"main"}

func (r *repository) branchNames() []string {
	if r.branches == nil {
		return defaultBranches
	}
	return r.branches.names
}

func (r *repository) editBranches(f func(names []string) []string) {
	if r.branches == nil {
		r.branches = &branchSet{names: slices.Clone(defaultBranches), protected: map[string]bool{}}
	}
	r.branches.names = f(r.branches.names)
	slices.Sort(r.branches.names)
	r.branches.names = slices.Compact(r.branches.names)
}

// SetBranches replaces repo's branches (creating the repository if
// needed); the first is protected, like a default branch usually is.
func (s *Server) SetBranches(repo artifact.Repository, names ...string) {
	key := mustParseRepository(string(repo), "SetBranches")
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.ensureRepoLocked(string(repo), key, 0)
	r.editBranches(func([]string) []string { return slices.Clone(names) })
	r.branches.protected = map[string]bool{}
	if len(names) > 0 {
		r.branches.protected[names[0]] = true
	}
}

// AddBranch adds a branch to repo.
func (s *Server) AddBranch(repo artifact.Repository, name string) {
	key := mustParseRepository(string(repo), "AddBranch")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureRepoLocked(string(repo), key, 0).editBranches(func(n []string) []string { return append(n, name) })
}

// DeleteBranch deletes a branch of repo, as merging a pull request with
// "delete branch" does, and reports whether it existed.
func (s *Server) DeleteBranch(repo artifact.Repository, name string) bool {
	key := mustParseRepository(string(repo), "DeleteBranch")
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[key]
	if !ok || !slices.Contains(r.branchNames(), name) {
		return false
	}
	r.editBranches(func(n []string) []string { return slices.DeleteFunc(n, func(b string) bool { return b == name }) })
	return true
}

// Branches returns repo's branches, sorted.
func (s *Server) Branches(repo artifact.Repository) []string {
	key := mustParseRepository(string(repo), "Branches")
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r, ok := s.repos[key]; ok {
		return slices.Clone(r.branchNames())
	}
	return nil
}

type branchCommit struct {
	SHA string `json:"sha"`
	URL string `json:"url"`
}

type branchJSON struct {
	Name      string       `json:"name"`
	Commit    branchCommit `json:"commit"`
	Protected bool         `json:"protected"`
}

// branchPage renders the page of repo's branches that c asks for, its Link
// header and its ETag. The ETag hashes the body and the Link header, as
// GitHub's validate a page's content: a branch deleted on page 3 leaves
// pages 1 and 2 with the ETags they had. The caller holds s.mu.
func branchPage(c *call, repo *repository) (body []byte, link, etag string) {
	q := parseListQuery(c.r.URL.RawQuery)
	names := repo.branchNames()
	start, end, last := pageWindow(len(names), q.perPage, q.page)
	target := c.base + "/repositories/" + strconv.FormatInt(repo.id, 10) + "/branches"
	link = linkHeader(target, q.linkQuery, q.page, last)
	out := make([]branchJSON, 0, end-start)
	for _, n := range names[start:end] {
		sum := sha1.Sum([]byte(repo.key + "\x00" + n))
		sha := hex.EncodeToString(sum[:])
		out = append(out, branchJSON{Name: n, Commit: branchCommit{SHA: sha, URL: c.base + "/repos/" + repo.display + "/commits/" + sha},
			Protected: repo.branches != nil && repo.branches.protected[n]})
	}
	body, _ = json.Marshal(out)
	h := fnv.New64a()
	h.Write(body)
	h.Write([]byte(link))
	return body, link, `W/"` + strconv.FormatUint(h.Sum64(), 16) + `"`
}

// serveBranches serves a repository's branch list: sorted by name,
// per_page (30 by default, at most 100) a page, with GitHub's Link header
// and a weak ETag.
func (s *Server) serveBranches(c *call) {
	var body []byte
	var etag, link string
	found := func() bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		repo := s.repoFor(c.rt)
		if repo == nil {
			return false
		}
		body, link, etag = branchPage(c, repo)
		return true
	}()
	if !found {
		writeError(c.w, http.StatusNotFound, "Not Found", docBranches, true)
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

const docBranches = "https://docs.github.com/rest/branches/branches#list-branches"

// demoBranches gives the demo organisation's repositories the branches
// that still exist: main, the release branches, five feature branches and
// one dependabot branch. The artifacts of every other branch the generator
// uses are from branches since deleted, which branch_deleted finds.
func (s *Server) demoBranches(names []string) {
	live := append([]string{"main"}, releaseBranches...)
	for _, w := range featureWords[:5] {
		live = append(live, "feature/"+w)
	}
	live = append(live, dependabotBranches[len(dependabotBranches)-2])
	for _, n := range names {
		s.SetBranches(artifact.Repository(n), live...)
	}
}
