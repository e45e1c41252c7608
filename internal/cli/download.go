package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/report"

	"github.com/retentiond/retentiond/internal/config"
)

type downloadOpts struct {
	out string
}

func downloadCommand() *command {
	return &command{
		name:    "download",
		args:    "OWNER/REPO ARTIFACT_ID [-o FILE]",
		summary: "Download one artifact's zip archive",
		help: `Downloads the zip archive of one artifact, streaming it to disk, and checks
it: complete (as long as GitHub said), and matching the artifact's digest
when GitHub gives one. It is written to a temporary file beside FILE and
renamed only when it is complete and verified, so FILE is never a partial
download. Prints the path, size and sha256.

FILE defaults to ID-NAME.zip in the current directory; a directory puts
that name inside it; '-o -' writes the archive to standard output (checked
after the fact: a mismatch still exits 1). Needs only GITHUB_TOKEN, not the
database. Download links live about a minute and are followed at once.

Example:
  retentiond download octo-org/api 1234567890
  retentiond download octo-org/api 1234567890 -o /tmp/build.zip`,
		bind: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			o := &downloadOpts{}
			fs.StringVar(&o.out, "o", "", "where to write the archive: a file, a directory, or - for standard output (default ID-NAME.zip)")
			return func(ctx context.Context, e *Env, args []string) error { return runDownload(ctx, e, args, o) }
		},
		config: []config.Concern{config.GitHubConcern, config.ScanConcern, config.LogConcern},
	}
}

func runDownload(ctx context.Context, e *Env, args []string, opts *downloadOpts) error {
	if len(args) != 2 {
		return usagef("usage: retentiond download OWNER/REPO ARTIFACT_ID [-o FILE]")
	}
	repo, err := artifact.ParseRepository(args[0])
	if err != nil {
		return usagef("%v", err)
	}
	id, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || id <= 0 {
		return usagef("ARTIFACT_ID %q is not an artifact id", args[1])
	}
	a, closeFn, err := setup(ctx, e, needs{github: true})
	if err != nil {
		return err
	}
	defer closeFn()

	art, err := a.gh.GetArtifact(ctx, repo, id)
	if errors.Is(err, github.ErrNotFound) {
		return fmt.Errorf("artifact %d of %s does not exist, or the token cannot see it", id, repo)
	}
	if err != nil {
		return err
	}
	if opts.out == "-" {
		return downloadToStdout(ctx, e, a.gh, art)
	}
	dest := opts.out
	if dest == "" {
		dest = archive.FileName(art.ID, art.Name)
	} else if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		dest = filepath.Join(dest, archive.FileName(art.ID, art.Name))
	}
	res, err := archive.Save(ctx, a.gh, art, dest)
	if err != nil {
		return downloadError(art, err)
	}
	fmt.Fprintf(e.Stdout, "Downloaded artifact %d (%s) of %s\n", art.ID, art.Name, art.Repository)
	printDownload(e.Stdout, res, art.Digest)
	return nil
}

// downloadToStdout streams the archive to stdout; the digest can only be
// checked once the bytes are out, so a mismatch is reported on stderr and
// in the exit status.
func downloadToStdout(ctx context.Context, e *Env, gh *github.Client, art artifact.Artifact) error {
	dr, err := gh.DownloadArtifact(ctx, art.Repository, art.ID, e.Stdout)
	if err != nil {
		return downloadError(art, err)
	}
	if err := archive.VerifyDigest(art.Digest, dr.SHA256); err != nil {
		return fmt.Errorf("artifact %d of %s: the archive written to standard output is not the one GitHub describes: %w", art.ID, art.Repository, err)
	}
	printDownload(e.Stderr, archive.Result{Path: "-", Bytes: dr.Bytes, SHA256: dr.SHA256}, art.Digest)
	return nil
}

func downloadError(art artifact.Artifact, err error) error {
	if errors.Is(err, github.ErrExpired) {
		return fmt.Errorf("artifact %d of %s has expired: GitHub no longer serves its archive", art.ID, art.Repository)
	}
	return err
}

func printDownload(w io.Writer, res archive.Result, digest string) {
	check := "not checked: GitHub gave no digest for this artifact"
	if digest != "" {
		check = "matches GitHub's " + digest
	}
	fmt.Fprintf(w, "  path     %s\n", res.Path)
	fmt.Fprintf(w, "  size     %d bytes (%s)\n", res.Bytes, report.Bytes(res.Bytes))
	fmt.Fprintf(w, "  sha256   %s (%s)\n", res.SHA256, check)
}
