package githubsim

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/retentiond/retentiond/internal/artifact"
)

// AutoDigest, given as an artifact's Digest to AddArtifact, makes the
// simulator serve "sha256:<hex>" of the artifact's default zip, so a client
// can verify a download without the test computing anything.
const AutoDigest = "sha256:auto"

// repository holds one repository's artifacts. Every slice is sorted by id,
// largest first, which is the order GitHub lists in, so a page is a sub-slice
// and a lookup is a binary search.
type repository struct {
	id      int64
	key     string // lower-cased owner/name
	display string // spelling first given, used in URLs
	arts    []*entry
	byName  map[string][]*entry
	// byRun has a key for every run that ever had an artifact, so a run whose
	// artifacts were all deleted lists empty while an unknown run is 404.
	byRun map[int64][]*entry
	// version changes with every change to the repository; ETags hash it.
	version uint64
	// archived and fork are the repository's flags in owner listings
	// (SetArchived, SetFork).
	archived, fork bool
	// branches are served by GET .../branches (see branches.go).
	branches *branchSet
}

// entry is one stored artifact.
type entry struct {
	a artifact.Artifact
	// content is what the blob serves; nil means the default zip.
	content []byte
	// lazyDigest says a.Digest is the digest of the default zip, computed on
	// first use so generating 200,000 artifacts needs no zipping.
	lazyDigest bool
	digest     atomic.Pointer[string]
}

// compareDesc orders entries by id, largest first, for binary searches.
func compareDesc(e *entry, id int64) int { return cmp.Compare(id, e.a.ID) }

func insertDesc(s []*entry, e *entry) []*entry {
	i, found := slices.BinarySearchFunc(s, e.a.ID, compareDesc)
	if found {
		s[i] = e
		return s
	}
	return slices.Insert(s, i, e)
}

func removeDesc(s []*entry, id int64) ([]*entry, *entry) {
	i, found := slices.BinarySearchFunc(s, id, compareDesc)
	if !found {
		return s, nil
	}
	e := s[i]
	return slices.Delete(s, i, i+1), e
}

func findDesc(s []*entry, id int64) *entry {
	i, found := slices.BinarySearchFunc(s, id, compareDesc)
	if !found {
		return nil
	}
	return s[i]
}

// mustParseRepository panics on a malformed name: seeding with one is a bug
// in the test or demo, like a malformed URL given to httptest.
func mustParseRepository(fullName, caller string) string {
	key, err := parseRepository(fullName)
	if err != nil {
		panic(fmt.Sprintf("githubsim: %s: %v", caller, err))
	}
	return key
}

// AddRepository creates the repository if needed and returns its numeric id,
// the one Link headers use in /repositories/{id}/. Names are
// case-insensitive. It panics if fullName is not owner/name.
func (s *Server) AddRepository(fullName string) int64 {
	key := mustParseRepository(fullName, "AddRepository")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ensureRepoLocked(strings.TrimSpace(fullName), key, 0).id
}

func (s *Server) ensureRepoLocked(display, key string, id int64) *repository {
	if r, ok := s.repos[key]; ok {
		return r
	}
	if id == 0 {
		id = s.nextRepoID
	}
	s.nextRepoID = max(s.nextRepoID, id+1)
	display = strings.TrimSuffix(display, ".git")
	r := &repository{
		id:      id,
		key:     key,
		display: display,
		byName:  make(map[string][]*entry),
		byRun:   make(map[int64][]*entry),
	}
	s.repos[key] = r
	s.reposByID[id] = r
	s.ownerLocked(artifact.Repository(key).Owner())
	return r
}

// AddArtifact stores a, creating a.Repository if needed, and returns its id.
// A zero a.ID gets the next id, above every id seen so far; an a.ID that
// exists in the same repository replaces that artifact. Zero times are served
// as null, a zero WorkflowRunID as "workflow_run": null, an empty Digest as
// null (AutoDigest computes one); NodeID is filled when empty, and url and
// archive_download_url are built from each request when empty. It panics if
// a.Repository is not owner/name or a.ID belongs to another repository.
func (s *Server) AddArtifact(a artifact.Artifact) int64 {
	key := mustParseRepository(string(a.Repository), "AddArtifact")
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := s.ensureRepoLocked(strings.TrimSpace(string(a.Repository)), key, 0)
	lazy := a.Digest == AutoDigest
	if lazy {
		a.Digest = ""
	}
	id, err := s.putLocked(repo, a, lazy)
	if err != nil {
		panic("githubsim: AddArtifact: " + err.Error())
	}
	return id
}

// putLocked inserts or replaces one artifact; the caller holds s.mu.
func (s *Server) putLocked(repo *repository, a artifact.Artifact, lazyDigest bool) (int64, error) {
	if a.ID < 0 {
		return 0, fmt.Errorf("artifact id %d is negative", a.ID)
	}
	if a.ID == 0 {
		a.ID = s.nextArtifactID
	}
	if other, ok := s.owner[a.ID]; ok {
		if other != repo {
			return 0, fmt.Errorf("artifact id %d already belongs to %s", a.ID, other.key)
		}
		s.unindexLocked(repo, a.ID)
	}
	s.nextArtifactID = max(s.nextArtifactID, a.ID+1)
	e := newEntry(repo, a, lazyDigest)
	repo.arts = insertDesc(repo.arts, e)
	repo.byName[e.a.Name] = insertDesc(repo.byName[e.a.Name], e)
	if e.a.WorkflowRunID != 0 {
		repo.byRun[e.a.WorkflowRunID] = insertDesc(repo.byRun[e.a.WorkflowRunID], e)
	}
	s.owner[a.ID] = repo
	repo.version++
	return a.ID, nil
}

// newEntry normalises a for storage in repo.
func newEntry(repo *repository, a artifact.Artifact, lazyDigest bool) *entry {
	a.Repository = artifact.Repository(repo.key)
	if a.NodeID == "" {
		a.NodeID = nodeID(a.ID)
	}
	if a.WorkflowRunID != 0 {
		if a.RepositoryID == 0 {
			a.RepositoryID = repo.id
		}
		if a.HeadRepositoryID == 0 {
			a.HeadRepositoryID = repo.id
		}
	}
	return &entry{a: a, lazyDigest: lazyDigest}
}

// nodeID mimics GitHub's legacy global ids, base64 of "08:Artifact<id>".
func nodeID(id int64) string {
	var raw [32]byte
	b := append(raw[:0], "08:Artifact"...)
	b = strconv.AppendInt(b, id, 10)
	return base64.StdEncoding.EncodeToString(b)
}

// unindexLocked removes an artifact from every index of repo.
func (s *Server) unindexLocked(repo *repository, id int64) bool {
	var e *entry
	repo.arts, e = removeDesc(repo.arts, id)
	if e == nil {
		return false
	}
	if rest, _ := removeDesc(repo.byName[e.a.Name], id); len(rest) > 0 {
		repo.byName[e.a.Name] = rest
	} else {
		delete(repo.byName, e.a.Name)
	}
	if run := e.a.WorkflowRunID; run != 0 {
		repo.byRun[run], _ = removeDesc(repo.byRun[run], id)
	}
	delete(s.owner, id)
	repo.version++
	return true
}

// lookupLocked finds the repository named repo and its artifact id.
func (s *Server) lookupLocked(repo string, id int64) (*repository, *entry) {
	key, err := parseRepository(repo)
	if err != nil {
		return nil, nil
	}
	r := s.repos[key]
	if r == nil {
		return nil, nil
	}
	return r, findDesc(r.arts, id)
}

// RemoveArtifact deletes an artifact behind the clients' backs, as another
// tool or a person in the web UI would. It reports whether it existed.
func (s *Server) RemoveArtifact(repo artifact.Repository, id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.lookupLocked(string(repo), id)
	if e == nil {
		return false
	}
	return s.unindexLocked(r, id)
}

// SetExpired sets the expired flag of an artifact and reports whether it exists.
// The flag is never derived from expires_at and the clock: GitHub flips it
// some time after expiry, so tests set it when they need it.
func (s *Server) SetExpired(repo artifact.Repository, id int64, expired bool) bool {
	return s.mutate(string(repo), id, func(e *entry) { e.a.Expired = expired })
}

// SetContent makes the download of an artifact serve content, and sets its
// digest to the sha256 of content. It reports whether the artifact exists.
func (s *Server) SetContent(repo artifact.Repository, id int64, content []byte) bool {
	content = slices.Clone(content)
	if content == nil {
		content = []byte{}
	}
	sum := sha256.Sum256(content)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	return s.mutate(string(repo), id, func(e *entry) {
		e.content = content
		e.a.Digest = digest
		e.lazyDigest = false
	})
}

// SetDigest overrides the digest an artifact is listed with ("" serves null),
// for example to simulate a corrupted download. It reports whether the
// artifact exists.
func (s *Server) SetDigest(repo artifact.Repository, id int64, digest string) bool {
	return s.mutate(string(repo), id, func(e *entry) {
		e.a.Digest = digest
		e.lazyDigest = false
	})
}

// mutate replaces an entry by a changed copy rather than changing it in
// place, because handlers keep entry pointers after releasing the read lock
// (to zip and write outside it) and must see a consistent snapshot.
func (s *Server) mutate(repo string, id int64, change func(*entry)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, old := s.lookupLocked(repo, id)
	if old == nil {
		return false
	}
	e := &entry{a: old.a, content: old.content, lazyDigest: old.lazyDigest}
	change(e)
	replace := func(list []*entry) {
		if i, found := slices.BinarySearchFunc(list, id, compareDesc); found {
			list[i] = e
		}
	}
	replace(r.arts)
	replace(r.byName[e.a.Name])
	if run := e.a.WorkflowRunID; run != 0 {
		replace(r.byRun[run])
	}
	r.version++
	return true
}

// Exists reports whether repo has an artifact with this id.
func (s *Server) Exists(repo artifact.Repository, id int64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, e := s.lookupLocked(string(repo), id)
	return e != nil
}

// Artifacts returns the current artifacts of repo, newest (largest id) first,
// with Repository lower-cased and lazily computed digests filled in. URL and
// ArchiveDownloadURL are empty unless they were seeded, because the served
// ones depend on the request's host.
func (s *Server) Artifacts(repo artifact.Repository) []artifact.Artifact {
	s.mu.RLock()
	defer s.mu.RUnlock()
	key, err := parseRepository(string(repo))
	if err != nil {
		return nil
	}
	r := s.repos[key]
	if r == nil {
		return nil
	}
	out := make([]artifact.Artifact, len(r.arts))
	for i, e := range r.arts {
		out[i] = e.a
		out[i].Digest = digestOf(e)
	}
	return out
}

// Repositories returns the lower-cased names of all repositories, sorted.
func (s *Server) Repositories() []artifact.Repository {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]artifact.Repository, 0, len(s.repos))
	for k := range s.repos {
		names = append(names, artifact.Repository(k))
	}
	slices.Sort(names)
	return names
}

// RepositoryID returns the numeric id of repo.
func (s *Server) RepositoryID(repo artifact.Repository) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	key, err := parseRepository(string(repo))
	if err != nil {
		return 0, false
	}
	r := s.repos[key]
	if r == nil {
		return 0, false
	}
	return r.id, true
}

// Len returns the number of artifacts stored over all repositories.
func (s *Server) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.owner)
}

// parseRepository is artifact.ParseRepository as the simulator's key: the
// lower-cased owner/name, as GitHub compares names.
func parseRepository(s string) (string, error) {
	r, err := artifact.ParseRepository(s)
	return string(r), err
}

// repositories types the simulator's names for its callers.
func repositories(names []string) []artifact.Repository {
	out := make([]artifact.Repository, len(names))
	for i, n := range names {
		out[i] = artifact.Repository(strings.ToLower(n))
	}
	return out
}
