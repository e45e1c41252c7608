package pglocal

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestThrowawayServer forces the throwaway path even though a server may
// answer at 127.0.0.1:5432, and checks the whole life of the server.
func TestThrowawayServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, stop, err := Ensure(ctx, discard, Throwaway(), WithLookupEnv(func(string) (string, bool) {
		return "postgres://ignored@127.0.0.1:1/x", true
	}))
	if err != nil {
		t.Fatalf("Ensure(Throwaway): %v", err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	if !strings.HasPrefix(url, "postgres://postgres@127.0.0.1:") || url == DefaultURL {
		t.Errorf("URL %q, want the postgres user on another 127.0.0.1 port", url)
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting to the throwaway server: %v", err)
	}
	var dataDir, socketDir, listen string
	err = conn.QueryRow(ctx, `SELECT current_setting('data_directory'), current_setting('unix_socket_directories'),
		current_setting('listen_addresses')`).Scan(&dataDir, &socketDir, &listen)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(ctx); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(dataDir)
	if socketDir != dir || listen != "127.0.0.1" || !strings.HasPrefix(filepath.Base(dir), "retentiond-pg-") {
		t.Errorf("server data %s, socket %s, listening on %s; want socket beside data in a retentiond-pg- temp dir, loopback only",
			dataDir, socketDir, listen)
	}

	stopped = true
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after stop, %s: %v; want it removed", dir, err)
	}
	if err := probe(ctx, url); err == nil {
		t.Error("the server still answers after stop")
	}
	if err := stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}
}

func TestEnsurePrefersDatabaseURL(t *testing.T) {
	t.Parallel()
	const want = "postgres://someone@db.invalid:5432/app"
	url, stop, err := Ensure(context.Background(), discard, WithLookupEnv(func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return want, true
		}
		return "", false
	}))
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if url != want {
		t.Errorf("Ensure = %q, want DATABASE_URL %q", url, want)
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func TestFindBinaries(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for dir, progs := range map[string][]string{
		"9.6": {"initdb", "pg_ctl"},
		"10":  {"initdb", "pg_ctl"},
		"16":  {"initdb"}, // half-installed: must be passed over
	} {
		bin := filepath.Join(root, dir, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range progs {
			if err := os.WriteFile(filepath.Join(bin, p), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	inPath := func(name string) (string, error) { return "/opt/pg/bin/" + name, nil }
	notInPath := func(name string) (string, error) { return "", errors.New("not found") }
	glob := filepath.Join(root, "*", "bin")

	tests := []struct {
		name     string
		lookPath func(string) (string, error)
		glob     string
		want     binaries
		wantErr  string
	}{
		{name: "PATH first", lookPath: inPath, glob: glob, want: binaries{initdb: "/opt/pg/bin/initdb", pgCtl: "/opt/pg/bin/pg_ctl"}},
		{name: "newest complete version", lookPath: notInPath, glob: glob,
			want: binaries{initdb: filepath.Join(root, "10", "bin", "initdb"), pgCtl: filepath.Join(root, "10", "bin", "pg_ctl")}},
		{name: "nothing installed", lookPath: notInPath, glob: filepath.Join(root, "none", "*", "bin"), wantErr: "apt-get install postgresql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := findBinaries(tc.lookPath, tc.glob)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("findBinaries error = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("findBinaries: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(binaries{})); diff != "" {
				t.Errorf("findBinaries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSortNewestFirst(t *testing.T) {
	t.Parallel()
	dirs := []string{"/p/9.6/bin", "/p/15/bin", "/p/odd/bin", "/p/10/bin", "/p/15.2/bin"}
	sortNewestFirst(dirs)
	want := []string{"/p/15.2/bin", "/p/15/bin", "/p/10/bin", "/p/9.6/bin", "/p/odd/bin"}
	if diff := cmp.Diff(want, dirs); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
