package githubsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Documentation URLs as GitHub puts them in error bodies. go-github tells a
// secondary limit from other 403s by the suffix of docSecondaryLimit.
const (
	docRoot           = "https://docs.github.com/rest"
	docArtifacts      = "https://docs.github.com/rest/actions/artifacts"
	docPrimaryLimit   = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#primary-rate-limit"
	docSecondaryLimit = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	secondaryMessage  = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
		"If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000."
)

const jsonContentType = "application/json; charset=utf-8"

// docFor returns the documentation URL GitHub cites in errors of a route.
func docFor(route string) string {
	switch route {
	case RouteList:
		return docArtifacts + "#list-artifacts-for-a-repository"
	case RouteListRun:
		return docArtifacts + "#list-workflow-run-artifacts"
	case RouteGet:
		return docArtifacts + "#get-an-artifact"
	case RouteDelete:
		return docArtifacts + "#delete-an-artifact"
	case RouteDownload:
		return docArtifacts + "#download-an-artifact"
	}
	return docRoot
}

// writeError writes GitHub's error body. withStatus adds the "status" member
// that newer GitHub responses carry on 404 and 410.
func writeError(w http.ResponseWriter, status int, message, doc string, withStatus bool) {
	b := make([]byte, 0, 192)
	b = append(b, `{"message":`...)
	b = appendString(b, message)
	b = append(b, `,"documentation_url":`...)
	b = appendString(b, doc)
	if withStatus {
		b = append(b, `,"status":"`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, '"')
	}
	b = append(b, '}')
	writeJSON(w, status, b)
}

// writeJSON writes a JSON body with its length.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// appendString appends s as a JSON string. Plain ASCII, which is nearly
// everything served, is copied as is; anything else goes through
// encoding/json for correct escaping.
func appendString[T string | []byte](b []byte, s T) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(string(s))
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime appends t as GitHub's RFC 3339 UTC timestamp, or null when zero.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	return append(b, '"')
}

// appendArtifact appends one artifact object in GitHub's field order. scratch
// is reused for building URLs and returned for the next call.
func appendArtifact(b, scratch []byte, base string, repo *repository, e *entry) (body, scratchOut []byte) {
	a := &e.a
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, a.ID, 10)
	b = append(b, `,"node_id":`...)
	b = appendString(b, a.NodeID)
	b = append(b, `,"name":`...)
	b = appendString(b, a.Name)
	b = append(b, `,"size_in_bytes":`...)
	b = strconv.AppendInt(b, a.SizeInBytes, 10)

	scratch = append(scratch[:0], base...)
	scratch = append(scratch, "/repos/"...)
	scratch = append(scratch, repo.display...)
	scratch = append(scratch, "/actions/artifacts/"...)
	scratch = strconv.AppendInt(scratch, a.ID, 10)
	b = append(b, `,"url":`...)
	if a.URL != "" {
		b = appendString(b, a.URL)
	} else {
		b = appendString(b, scratch)
	}
	b = append(b, `,"archive_download_url":`...)
	if a.ArchiveDownloadURL != "" {
		b = appendString(b, a.ArchiveDownloadURL)
	} else {
		b = appendString(b, append(scratch, "/zip"...))
	}
	b = append(b, `,"expired":`...)
	b = strconv.AppendBool(b, a.Expired)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, a.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, a.UpdatedAt)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, a.ExpiresAt)
	b = append(b, `,"digest":`...)
	if d := digestOf(e); d != "" {
		b = appendString(b, d)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"workflow_run":`...)
	if a.WorkflowRunID == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, a.WorkflowRunID, 10)
		b = append(b, `,"repository_id":`...)
		b = strconv.AppendInt(b, a.RepositoryID, 10)
		b = append(b, `,"head_repository_id":`...)
		b = strconv.AppendInt(b, a.HeadRepositoryID, 10)
		b = append(b, `,"head_branch":`...)
		b = appendString(b, a.Branch)
		b = append(b, `,"head_sha":`...)
		b = appendString(b, a.HeadSHA)
		b = append(b, '}')
	}
	return append(b, '}'), scratch
}
