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
	Repository         string // "owner/name", lower-cased
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

// ParseRepository checks that s names a repository as "owner/name" and
// returns it lower-cased, because GitHub treats both parts case-insensitively
// and retentiond uses the name as a key.
func ParseRepository(s string) (string, error) {
	owner, name, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") || strings.ContainsAny(s, " \t?#") {
		return "", fmt.Errorf("%q: %w", s, ErrBadRepository)
	}
	name = strings.TrimSuffix(name, ".git")
	return strings.ToLower(owner + "/" + name), nil
}

// SplitRepository splits a repository parsed by ParseRepository into owner and name.
func SplitRepository(repo string) (owner, name string) {
	owner, name, _ = strings.Cut(repo, "/")
	return owner, name
}
