// Package artifact defines what retentiond knows about one GitHub Actions
// artifact. The scanner fills it from the API, the store persists it and the
// policy engine decides on it; keeping one type avoids three lossy copies.
package artifact

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Artifact is one GitHub Actions artifact. Zero values stand for the API's
// nulls: a zero time means the timestamp was null, an empty Branch means the
// artifact had no workflow_run (and so never matches a branch condition).
type Artifact struct {
	ID                 int64
	Repository         Repository
	NodeID             string
	Name               string
	SizeInBytes        int64
	URL                string
	ArchiveDownloadURL string
	Expired            bool
	CreatedAt          time.Time
	ExpiresAt          time.Time
	UpdatedAt          time.Time
	Digest             string // "sha256:…", empty when GitHub gave none

	// From workflow_run; all zero when workflow_run was null.
	WorkflowRunID    int64
	RepositoryID     int64
	HeadRepositoryID int64
	Branch           string
	HeadSHA          string

	// BranchState says whether Branch still exists (see BranchState); set
	// only for policies with branch_deleted, never from the API.
	BranchState BranchState
}

// ExpiredAt reports whether GitHub has freed the artifact's storage by now:
// it is flagged expired, or its expires_at has passed (GitHub sets the flag
// some time after). Only the listing of such an artifact remains, so deleting
// it frees no storage, and nothing about it is billed any more.
func (a *Artifact) ExpiredAt(now time.Time) bool {
	return a.Expired || (!a.ExpiresAt.IsZero() && !now.Before(a.ExpiresAt))
}

// ErrBadRepository is returned by ParseRepository for anything that is not owner/name.
var ErrBadRepository = errors.New("repository must be owner/name")

// Repository names a GitHub repository as "owner/name", lower-cased, since
// GitHub treats both parts case-insensitively and retentiond uses the name
// as a key (in maps, in the database). A Repository is made by
// ParseRepository, where a name enters retentiond (policy, flags, API
// responses, webhooks), and travels typed from there: nothing deeper parses
// or validates it again. It is a string underneath so that it is a cheap map
// and database key; Owner and Name take it apart.
type Repository string

// ParseRepository checks that s names a repository as "owner/name" and
// returns it lower-cased, without a trailing ".git".
func ParseRepository(s string) (Repository, error) {
	s = strings.TrimSpace(s)
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") || strings.ContainsAny(s, " \t?#") {
		return "", fmt.Errorf("%q: %w", s, ErrBadRepository)
	}
	name = strings.TrimSuffix(name, ".git")
	if name == "" {
		return "", fmt.Errorf("%q: %w", s, ErrBadRepository)
	}
	return Repository(strings.ToLower(owner + "/" + name)), nil
}

// Owner returns the owner part.
func (r Repository) Owner() string {
	owner, _, _ := strings.Cut(string(r), "/")
	return owner
}

// Name returns the name part.
func (r Repository) Name() string {
	_, name, _ := strings.Cut(string(r), "/")
	return name
}

// String returns "owner/name".
func (r Repository) String() string { return string(r) }
