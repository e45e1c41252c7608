package github

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/retentiond/retentiond/internal/artifact"
)

// TestConvertNulls feeds raw API JSON, nulls and omissions included, through
// GetArtifact and checks the flat artifact that comes out.
func TestConvertNulls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want artifact.Artifact
	}{
		{
			name: "every field",
			body: `{"id": 11, "node_id": "MDg6QXJ0aWZhY3QxMQ==", "name": "logs", "size_in_bytes": 1234,
				"url": "https://api.github.com/repos/o/r/actions/artifacts/11",
				"archive_download_url": "https://api.github.com/repos/o/r/actions/artifacts/11/zip",
				"expired": true, "created_at": "2026-11-02T10:04:11Z", "expires_at": "2027-01-31T10:04:11Z",
				"updated_at": "2026-11-02T10:05:00Z", "digest": "sha256:abc",
				"workflow_run": {"id": 77, "repository_id": 5, "head_repository_id": 6, "head_branch": "feature/x", "head_sha": "deadbeef"}}`,
			want: artifact.Artifact{
				ID: 11, Repository: "o/r", NodeID: "MDg6QXJ0aWZhY3QxMQ==", Name: "logs", SizeInBytes: 1234,
				URL:                "https://api.github.com/repos/o/r/actions/artifacts/11",
				ArchiveDownloadURL: "https://api.github.com/repos/o/r/actions/artifacts/11/zip",
				Expired:            true,
				CreatedAt:          time.Date(2026, 11, 2, 10, 4, 11, 0, time.UTC),
				ExpiresAt:          time.Date(2027, 1, 31, 10, 4, 11, 0, time.UTC),
				UpdatedAt:          time.Date(2026, 11, 2, 10, 5, 0, 0, time.UTC),
				Digest:             "sha256:abc",
				WorkflowRunID:      77, RepositoryID: 5, HeadRepositoryID: 6, Branch: "feature/x", HeadSHA: "deadbeef",
			},
		},
		{
			name: "null timestamps, digest and workflow_run",
			body: `{"id": 12, "node_id": "n", "name": "old", "size_in_bytes": 0, "url": "u", "archive_download_url": "a",
				"expired": false, "created_at": null, "expires_at": null, "updated_at": null, "digest": null, "workflow_run": null}`,
			want: artifact.Artifact{ID: 12, Repository: "o/r", NodeID: "n", Name: "old", URL: "u", ArchiveDownloadURL: "a"},
		},
		{
			name: "digest and workflow_run absent",
			body: `{"id": 13, "node_id": "n", "name": "older", "size_in_bytes": 5, "url": "u", "archive_download_url": "a",
				"expired": false, "created_at": "2020-01-01T00:00:00Z", "expires_at": null, "updated_at": "2020-01-01T00:00:00Z"}`,
			want: artifact.Artifact{
				ID: 13, Repository: "o/r", NodeID: "n", Name: "older", SizeInBytes: 5, URL: "u", ArchiveDownloadURL: "a",
				CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
			},
		},
		{
			name: "workflow_run with null members",
			body: `{"id": 14, "workflow_run": {"id": 9, "repository_id": null, "head_repository_id": null, "head_branch": null, "head_sha": null}}`,
			want: artifact.Artifact{ID: 14, Repository: "o/r", WorkflowRunID: 9},
		},
		{
			name: "timestamps with an offset come out in UTC",
			body: `{"id": 15, "created_at": "2026-11-02T12:04:11+02:00"}`,
			want: artifact.Artifact{ID: 15, Repository: "o/r", CreatedAt: time.Date(2026, 11, 2, 10, 4, 11, 0, time.UTC)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tc.body))
			}))
			got, err := h.c.GetArtifact(t.Context(), "o/r", tc.want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("artifact (-want +got):\n%s", diff)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
			}
		})
	}
}
