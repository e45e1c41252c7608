package githubsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
)

// seedDoc is the SeedJSON format: repositories, each with artifact objects
// as GitHub serves them (so recorded responses can be pasted in).
type seedDoc struct {
	Repositories []seedRepo `json:"repositories"`
}

type seedRepo struct {
	FullName  string         `json:"full_name"`
	ID        int64          `json:"id"` // optional; allocated when 0
	Artifacts []seedArtifact `json:"artifacts"`
}

type seedArtifact struct {
	ID                 int64      `json:"id"`
	NodeID             string     `json:"node_id"`
	Name               string     `json:"name"`
	SizeInBytes        int64      `json:"size_in_bytes"`
	URL                string     `json:"url"`
	ArchiveDownloadURL string     `json:"archive_download_url"`
	Expired            bool       `json:"expired"`
	CreatedAt          *time.Time `json:"created_at"`
	ExpiresAt          *time.Time `json:"expires_at"`
	UpdatedAt          *time.Time `json:"updated_at"`
	Digest             *string    `json:"digest"`
	WorkflowRun        *struct {
		ID               int64  `json:"id"`
		RepositoryID     int64  `json:"repository_id"`
		HeadRepositoryID int64  `json:"head_repository_id"`
		HeadBranch       string `json:"head_branch"`
		HeadSHA          string `json:"head_sha"`
	} `json:"workflow_run"`
}

// ErrBadSeed wraps every problem SeedJSON finds in its input.
var ErrBadSeed = errors.New("bad seed document")

// SeedJSON loads {"repositories":[{"full_name":"o/r","id":123,"artifacts":[...]}]}
// where each artifact is a GitHub artifact object; "id" of a repository is
// optional. Fields are kept as given, including url and archive_download_url
// (empty ones are built per request); a null or absent digest is served as
// null. Nothing is added unless the whole document is valid.
func (s *Server) SeedJSON(r io.Reader) error {
	var doc seedDoc
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return fmt.Errorf("decoding seed JSON: %w: %w", ErrBadSeed, err)
	}
	keys := make([]string, len(doc.Repositories))
	seen := make(map[int64]string)
	repoIDs := make(map[int64]string)
	for i, repo := range doc.Repositories {
		key, err := parseRepository(repo.FullName)
		if err != nil {
			return fmt.Errorf("repository %d: %w: %w", i, ErrBadSeed, err)
		}
		keys[i] = key
		if other, dup := repoIDs[repo.ID]; dup && repo.ID != 0 && other != key {
			return fmt.Errorf("repository id %d: %w: used by both %s and %s", repo.ID, ErrBadSeed, other, key)
		}
		repoIDs[repo.ID] = key
		for _, a := range repo.Artifacts {
			if a.ID <= 0 {
				return fmt.Errorf("artifact %q of %s: %w: id must be positive", a.Name, key, ErrBadSeed)
			}
			if other, dup := seen[a.ID]; dup && other != key {
				return fmt.Errorf("artifact %d: %w: in both %s and %s", a.ID, ErrBadSeed, other, key)
			}
			seen[a.ID] = key
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for i, repo := range doc.Repositories {
		if existing, ok := s.reposByID[repo.ID]; ok && repo.ID != 0 && existing.key != keys[i] {
			return fmt.Errorf("repository %s: %w: id %d belongs to %s", keys[i], ErrBadSeed, repo.ID, existing.key)
		}
		for _, a := range repo.Artifacts {
			if other, ok := s.owner[a.ID]; ok && other.key != keys[i] {
				return fmt.Errorf("artifact %d: %w: already belongs to %s", a.ID, ErrBadSeed, other.key)
			}
		}
	}
	for i, repo := range doc.Repositories {
		r := s.ensureRepoLocked(strings.TrimSpace(repo.FullName), keys[i], repo.ID)
		for _, sa := range repo.Artifacts {
			if _, err := s.putLocked(r, sa.toArtifact(), false); err != nil {
				// Validated above; a failure here is a bug.
				panic("githubsim: SeedJSON: " + err.Error())
			}
		}
	}
	return nil
}

func (sa seedArtifact) toArtifact() artifact.Artifact {
	a := artifact.Artifact{
		ID:                 sa.ID,
		NodeID:             sa.NodeID,
		Name:               sa.Name,
		SizeInBytes:        sa.SizeInBytes,
		URL:                sa.URL,
		ArchiveDownloadURL: sa.ArchiveDownloadURL,
		Expired:            sa.Expired,
	}
	for _, t := range []struct {
		dst *time.Time
		src *time.Time
	}{{&a.CreatedAt, sa.CreatedAt}, {&a.ExpiresAt, sa.ExpiresAt}, {&a.UpdatedAt, sa.UpdatedAt}} {
		if t.src != nil {
			*t.dst = t.src.UTC()
		}
	}
	if sa.Digest != nil {
		a.Digest = *sa.Digest
	}
	if w := sa.WorkflowRun; w != nil {
		a.WorkflowRunID = w.ID
		a.RepositoryID = w.RepositoryID
		a.HeadRepositoryID = w.HeadRepositoryID
		a.Branch = w.HeadBranch
		a.HeadSHA = w.HeadSHA
	}
	return a
}
