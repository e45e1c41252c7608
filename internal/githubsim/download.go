package githubsim

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
)

// blobPrefix is where download links point. Real links go to another host
// (Azure blob storage) signed with a SAS token; here they are signed with an
// HMAC so no table of issued links is kept.
const blobPrefix = "/_blob/"

// downloadLinkLifetime is how long a download link works, by the Clock.
const downloadLinkLifetime = time.Minute

// serveDownload answers the archive endpoint with a 302 to a signed,
// short-lived blob link. Only "zip" exists: any other archive format is 404,
// like any other unknown path. An expired artifact is 410.
func (s *Server) serveDownload(c *call) {
	if c.rt.format != "zip" {
		writeError(c.w, http.StatusNotFound, "Not Found", docFor(RouteDownload), true)
		return
	}
	s.mu.RLock()
	var e *entry
	var repoID int64
	if repo := s.repoFor(c.rt); repo != nil {
		e, repoID = findDesc(repo.arts, c.rt.artifactID), repo.id
	}
	s.mu.RUnlock()
	if e == nil {
		writeError(c.w, http.StatusNotFound, "Not Found", docFor(RouteDownload), true)
		return
	}
	if e.a.Expired {
		writeError(c.w, http.StatusGone, "Artifact has expired", docFor(RouteDownload), true)
		return
	}
	expires := s.clock.Now().Add(downloadLinkLifetime).Unix()
	path := strconv.FormatInt(repoID, 10) + "/" + strconv.FormatInt(e.a.ID, 10) + ".zip"
	loc := c.origin + blobPrefix + path + "?se=" + strconv.FormatInt(expires, 10) + "&sig=" + s.sign(path, expires)
	c.w.Header().Set("Location", loc)
	c.w.WriteHeader(http.StatusFound)
}

// sign authenticates a blob path and its expiry.
func (s *Server) sign(path string, expires int64) string {
	m := hmac.New(sha256.New, s.blobKey)
	m.Write([]byte(path))
	m.Write([]byte{0})
	m.Write(strconv.AppendInt(nil, expires, 10))
	return hex.EncodeToString(m.Sum(nil))
}

// serveBlob serves the zip behind a download link. Like Azure, it wants no
// Authorization header (whether one came is counted) and answers a bad or
// expired signature with 403 AuthenticationFailed in XML.
func (s *Server) serveBlob(c *call) {
	q := c.r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("se"), 10, 64)
	if err != nil || !hmac.Equal([]byte(q.Get("sig")), []byte(s.sign(c.rt.blobPath, expires))) {
		writeBlobError(c.w, http.StatusForbidden, "AuthenticationFailed",
			"Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
		return
	}
	if !s.clock.Now().Before(time.Unix(expires, 0)) {
		writeBlobError(c.w, http.StatusForbidden, "AuthenticationFailed",
			"Server failed to authenticate the request. Signed expiry time ["+time.Unix(expires, 0).UTC().Format(http.TimeFormat)+"] must be after signed start time.")
		return
	}
	repoPart, artPart, _ := strings.Cut(strings.TrimSuffix(c.rt.blobPath, ".zip"), "/")
	repoID, _ := parseID(repoPart)
	id, _ := parseID(artPart)
	s.mu.RLock()
	var e *entry
	if repo := s.reposByID[repoID]; repo != nil {
		e = findDesc(repo.arts, id)
	}
	s.mu.RUnlock()
	if e == nil {
		writeBlobError(c.w, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.")
		return
	}
	content := e.content
	if content == nil {
		content = defaultZip(&e.a)
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Length", strconv.Itoa(len(content)))
	h.Set("Content-Disposition", "attachment; filename="+strconv.Quote(e.a.Name+".zip"))
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(content)
}

// writeBlobError writes an Azure storage error.
func writeBlobError(w http.ResponseWriter, status int, code, message string) {
	body := `<?xml version="1.0" encoding="utf-8"?><Error><Code>` + code + `</Code><Message>` + message + `</Message></Error>`
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// defaultZipTime dates the zip entry of an artifact without created_at.
var defaultZipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// defaultZip builds the deterministic archive served for an artifact without
// explicit content: one stored (uncompressed, so cheap) text file naming it.
func defaultZip(a *artifact.Artifact) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	mod := a.CreatedAt
	if mod.IsZero() {
		mod = defaultZipTime
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "artifact.txt", Method: zip.Store, Modified: mod.UTC()})
	if err == nil {
		_, err = fmt.Fprintf(w, "githubsim artifact\nrepository: %s\nid: %d\nname: %s\n", a.Repository, a.ID, a.Name)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		// Writing to a bytes.Buffer cannot fail; a failure here is a bug.
		panic(fmt.Sprintf("githubsim: building zip of artifact %d: %v", a.ID, err))
	}
	return buf.Bytes()
}

// digestOf returns the digest an entry is listed with, computing and caching
// the digest of the default zip on first use.
func digestOf(e *entry) string {
	if !e.lazyDigest {
		return e.a.Digest
	}
	if p := e.digest.Load(); p != nil {
		return *p
	}
	sum := sha256.Sum256(defaultZip(&e.a))
	d := "sha256:" + hex.EncodeToString(sum[:])
	e.digest.Store(&d)
	return d
}
