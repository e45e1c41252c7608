package janitor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/store"
)

// prepare runs the checks that stand between a recorded intent and its
// DELETE. It returns what to record so far (archive columns, notes) and
// whether to send the DELETE; when it is false, the resolution is final.
func (j *Janitor) prepare(ctx context.Context, it *Item, arch *archive.Archiver) (store.Resolution, bool) {
	if j.cfg.Verify {
		if res, ok := j.verify(ctx, it); !ok {
			return res, false
		}
	}
	if it.Decision.Archive {
		return j.archiveFirst(ctx, it, arch)
	}
	return store.Resolution{}, true
}

// verify re-reads the artifact and lets the deletion go on only if it is the
// one that was decided on. The name, size and creation time identify what a
// person reviewed; the digest and expiry it returns are taken over for the
// archive step.
func (j *Janitor) verify(ctx context.Context, it *Item) (store.Resolution, bool) {
	cur, err := j.gh.GetArtifact(ctx, it.Artifact.Repository, it.Artifact.ID)
	switch {
	case errors.Is(err, github.ErrNotFound):
		return store.Resolution{
			Outcome: store.OutcomeAlreadyGone, HTTPStatus: 404, MarkGone: true,
			Error: "gone before the DELETE: re-reading it found nothing",
		}, false
	case err != nil:
		return checkFailure(ctx, err, "not deleted: re-reading it failed: "), false
	}
	if diffs := changes(&it.Artifact, &cur); len(diffs) > 0 {
		return store.Resolution{
			Outcome: store.OutcomeChanged, HTTPStatus: 200,
			Error: "changed since the review, not deleted: " + strings.Join(diffs, "; "),
		}, false
	}
	it.Artifact.Digest, it.Artifact.Expired, it.Artifact.ExpiresAt = cur.Digest, cur.Expired, cur.ExpiresAt
	return store.Resolution{}, true
}

// changes lists how cur differs from the reviewed artifact in what
// identifies it for a reviewer.
func changes(reviewed, cur *artifact.Artifact) []string {
	var out []string
	if reviewed.Name != cur.Name {
		out = append(out, fmt.Sprintf("name %q is now %q", reviewed.Name, cur.Name))
	}
	if reviewed.SizeInBytes != cur.SizeInBytes {
		out = append(out, fmt.Sprintf("size %d is now %d", reviewed.SizeInBytes, cur.SizeInBytes))
	}
	if !reviewed.CreatedAt.Equal(cur.CreatedAt) {
		out = append(out, fmt.Sprintf("created_at %s is now %s", timeText(reviewed.CreatedAt), timeText(cur.CreatedAt)))
	}
	return out
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "null"
	}
	return t.UTC().Format(time.RFC3339)
}

// archiveFirst downloads the artifact before its deletion. Only a complete,
// verified archive lets the DELETE go on, except that an expired archive
// does when the rule says archive_required: false.
func (j *Janitor) archiveFirst(ctx context.Context, it *Item, arch *archive.Archiver) (store.Resolution, bool) {
	if arch == nil {
		return store.Resolution{
			Outcome: store.OutcomeFailed,
			Error:   "not deleted: rule " + it.Decision.Rule + " asks for an archive first, and archiving is not set up (ARCHIVE_DIR is empty)",
		}, false
	}
	res, err := arch.Archive(ctx, j.gh, it.Artifact)
	switch {
	case err == nil:
		return store.Resolution{ArchivePath: res.Path, ArchiveBytes: res.Bytes, ArchiveSHA256: res.SHA256}, true
	case errors.Is(err, github.ErrExpired) && it.Decision.ArchiveRequired:
		return store.Resolution{
			Outcome: store.OutcomeExpiredNotArchived, HTTPStatus: 410,
			Error: "not deleted: its archive expired before it could be downloaded, and rule " + it.Decision.Rule + " requires one",
		}, false
	case errors.Is(err, github.ErrExpired):
		return store.Resolution{
			Error: "not archived: its archive had expired (410); deleted anyway because rule " + it.Decision.Rule + " says archive_required: false",
		}, true
	case errors.Is(err, github.ErrNotFound):
		return store.Resolution{
			Outcome: store.OutcomeAlreadyGone, HTTPStatus: 404, MarkGone: true,
			Error: "gone before it could be archived",
		}, false
	case errors.Is(err, archive.ErrBudget):
		return store.Resolution{
			Outcome: store.OutcomeFailed,
			Error: fmt.Sprintf("not archived, not deleted: the ARCHIVE_MAX_BYTES budget of this run (%d bytes, %d used) is exhausted: %v",
				arch.MaxBytes, arch.Used(), err),
		}, false
	default:
		return checkFailure(ctx, err, "not deleted: "), false
	}
}

// checkFailure turns the error of a check before a DELETE into an outcome:
// interrupted when the run is stopping, skipped_rate_limit at a rate limit,
// failed otherwise. The error text is prefix followed by err's.
func checkFailure(ctx context.Context, err error, prefix string) store.Resolution {
	res := store.Resolution{}
	var apiErr *github.APIError
	if errors.As(err, &apiErr) {
		res.HTTPStatus = apiErr.Status
	}
	switch {
	case ctx.Err() != nil:
		res.Outcome, res.HTTPStatus = store.OutcomeInterrupted, 0
		res.Error = "stopped before this deletion: " + context.Cause(ctx).Error()
	case errors.Is(err, github.ErrRateLimited):
		res.Outcome = store.OutcomeSkippedRateLimit
		res.Error = prefix + err.Error()
	default:
		res.Outcome = store.OutcomeFailed
		res.Error = prefix + err.Error()
	}
	return res
}

// joinNotes joins the non-empty texts for the audit row's error column.
func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}
