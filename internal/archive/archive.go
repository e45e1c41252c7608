// Package archive saves the zip archive of an artifact to disk before the
// janitor deletes it, for delete rules that say archive: true, and for
// `retentiond download`.
//
// A download streams to a temporary file next to its destination, hashing on
// the way, and is renamed into place only once it is complete, synced and its
// digest checked. A file under its final name is therefore always a whole,
// verified archive; a failed download leaves nothing behind.
package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/github"
)

// Sentinel errors, matched with errors.Is. Errors from the download itself
// keep their github sentinels (github.ErrExpired for a 410, ...).
var (
	// ErrBudget: archiving the artifact would exceed the Archiver's MaxBytes.
	ErrBudget = errors.New("archive budget exhausted")
	// ErrDigestMismatch: the downloaded bytes do not hash to the digest
	// GitHub gave for the artifact.
	ErrDigestMismatch = errors.New("archive digest mismatch")
	// ErrStalled: no byte arrived for StallTimeout.
	ErrStalled = errors.New("archive download stalled")
)

// File and directory modes: archives may hold build outputs that are not
// for everyone on the host.
const (
	FileMode os.FileMode = 0o640
	DirMode  os.FileMode = 0o750
)

// DefaultStallTimeout is how long a download may go without receiving a byte
// before it is abandoned. The blob host's connection has no overall timeout,
// since a large archive legitimately takes long; a stalled one must not hold
// the run (and its lock) forever.
const DefaultStallTimeout = 2 * time.Minute

// Downloader streams the zip archive of one artifact into w; *github.Client
// is one.
type Downloader interface {
	DownloadArtifact(ctx context.Context, repo artifact.Repository, id int64, w io.Writer) (github.DownloadResult, error)
}

// Result describes an archive saved to disk.
type Result struct {
	Path   string
	Bytes  int64
	SHA256 string // hex
}

// Archiver saves archives under Dir as OWNER/REPO/ID-NAME.zip and keeps a
// byte budget. Use one Archiver per run: its budget is never replenished. It
// is safe for concurrent use; downloads through one Archiver take turns, so
// that the budget holds exactly.
type Archiver struct {
	// Dir is the archive root (ARCHIVE_DIR).
	Dir string
	// MaxBytes is the most this Archiver downloads in all (ARCHIVE_MAX_BYTES);
	// 0 allows nothing.
	MaxBytes int64
	// StallTimeout abandons a download that receives nothing for this long;
	// 0 means DefaultStallTimeout.
	StallTimeout time.Duration

	turn sync.Mutex // held for a whole Archive call
	mu   sync.Mutex // guards used
	used int64
}

// Used returns the bytes downloaded so far, failed downloads included, since
// they were transferred all the same.
func (a *Archiver) Used() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// Path returns where art's archive goes: Dir/OWNER/REPO/ID-NAME.zip, with
// the name made safe for a file name.
func (a *Archiver) Path(art artifact.Artifact) (string, error) {
	owner, name := art.Repository.Owner(), art.Repository.Name()
	if owner == "" || name == "" {
		return "", fmt.Errorf("archive path of artifact %d: %q: %w", art.ID, art.Repository, artifact.ErrBadRepository)
	}
	for _, part := range []string{owner, name} {
		if part == "." || part == ".." || strings.ContainsAny(part, `/\`+"\x00") {
			return "", fmt.Errorf("archive path of artifact %d: repository %q cannot name a directory", art.ID, art.Repository)
		}
	}
	return filepath.Join(a.Dir, owner, name, FileName(art.ID, art.Name)), nil
}

// Archive downloads art's archive to Path(art) and verifies it, within the
// budget. The budget is checked against art.SizeInBytes before anything is
// downloaded, bounds the bytes accepted while downloading (whatever the
// server sends), and is charged with the bytes actually received.
func (a *Archiver) Archive(ctx context.Context, dl Downloader, art artifact.Artifact) (Result, error) {
	path, err := a.Path(art)
	if err != nil {
		return Result{}, err
	}
	a.turn.Lock()
	defer a.turn.Unlock()
	a.mu.Lock()
	left := a.MaxBytes - a.used
	a.mu.Unlock()
	if art.SizeInBytes > left {
		return Result{}, fmt.Errorf("archiving artifact %d of %s (%d bytes): %d of %d bytes already downloaded in this run: %w",
			art.ID, art.Repository, art.SizeInBytes, a.MaxBytes-left, a.MaxBytes, ErrBudget)
	}
	if err := os.MkdirAll(filepath.Dir(path), DirMode); err != nil {
		return Result{}, fmt.Errorf("archiving artifact %d of %s: %w", art.ID, art.Repository, err)
	}
	res, n, err := save(ctx, dl, art, path, left, a.stallTimeout())
	a.mu.Lock()
	a.used += n
	a.mu.Unlock()
	if err != nil {
		// The download's errors name the artifact already.
		return Result{}, fmt.Errorf("archiving to %s: %w", path, err)
	}
	return res, nil
}

func (a *Archiver) stallTimeout() time.Duration {
	if a.StallTimeout > 0 {
		return a.StallTimeout
	}
	return DefaultStallTimeout
}

// Save downloads art's archive to path (whose directory must exist) through
// a temporary file in the same directory, verifies it, and renames it into
// place, replacing any file there.
func Save(ctx context.Context, dl Downloader, art artifact.Artifact, path string) (Result, error) {
	res, _, err := save(ctx, dl, art, path, -1, DefaultStallTimeout)
	if err != nil {
		return Result{}, fmt.Errorf("downloading artifact %d of %s: %w", art.ID, art.Repository, err)
	}
	return res, nil
}

// save is Save with a byte limit (negative: none) and a stall timeout. It
// also returns the bytes received, for the budget, even when it fails.
func save(ctx context.Context, dl Downloader, art artifact.Artifact, path string, limit int64, stall time.Duration) (res Result, received int64, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return Result{}, 0, fmt.Errorf("creating a temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if !renamed {
			// Close may already have happened; its error no longer matters.
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(FileMode); err != nil {
		return Result{}, 0, fmt.Errorf("setting the mode of %s: %w", tmp, err)
	}

	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(stall, func() { cancel(ErrStalled) })
	defer timer.Stop()
	w := &guardedWriter{w: f, limit: limit, stall: stall, timer: timer}
	dr, err := dl.DownloadArtifact(dctx, art.Repository, art.ID, w)
	if err != nil {
		if errors.Is(context.Cause(dctx), ErrStalled) && ctx.Err() == nil {
			return Result{}, w.n, fmt.Errorf("no data for %s after %d bytes: %w", stall, w.n, ErrStalled)
		}
		return Result{}, w.n, err
	}
	if dr.Bytes != w.n {
		return Result{}, w.n, fmt.Errorf("the download reported %d bytes but %d were written", dr.Bytes, w.n)
	}
	if err := VerifyDigest(art.Digest, dr.SHA256); err != nil {
		return Result{}, w.n, err
	}
	if err := f.Sync(); err != nil {
		return Result{}, w.n, fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return Result{}, w.n, fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Result{}, w.n, fmt.Errorf("moving the download into place: %w", err)
	}
	renamed = true
	// Make the rename itself durable; the file's content already is.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return Result{Path: path, Bytes: dr.Bytes, SHA256: dr.SHA256}, w.n, nil
}

// guardedWriter counts bytes, refuses more than limit, and pushes the stall
// timer back on every write.
type guardedWriter struct {
	w     io.Writer
	n     int64
	limit int64 // negative: none
	stall time.Duration
	timer *time.Timer
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	g.timer.Reset(g.stall)
	if g.limit >= 0 && g.n+int64(len(p)) > g.limit {
		return 0, fmt.Errorf("the archive is larger than the %d bytes left in the budget: %w", g.limit, ErrBudget)
	}
	n, err := g.w.Write(p)
	g.n += int64(n)
	return n, err
}

// VerifyDigest checks a download's hex SHA-256 against the digest GitHub
// gave for the artifact ("sha256:<hex>"). An empty digest (older artifacts
// have none) verifies nothing and passes; one in another form fails, since
// it cannot be checked.
func VerifyDigest(digest, sha256Hex string) error {
	if digest == "" {
		return nil
	}
	algo, want, ok := strings.Cut(digest, ":")
	if !ok || !strings.EqualFold(algo, "sha256") || len(want) != 64 {
		return fmt.Errorf("artifact digest %q is not sha256:<hex>, so the download cannot be verified: %w", digest, ErrDigestMismatch)
	}
	if !strings.EqualFold(want, sha256Hex) {
		return fmt.Errorf("downloaded sha256:%s, GitHub says %s: %w", sha256Hex, digest, ErrDigestMismatch)
	}
	return nil
}

// CheckWritable makes sure archives can be written under dir: it creates dir
// if need be and writes and removes a file there.
func CheckWritable(dir string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".retentiond-write-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	err = f.Close()
	return errors.Join(err, os.Remove(name))
}
