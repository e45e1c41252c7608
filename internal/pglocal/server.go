package pglocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// installHint is appended to the error when no PostgreSQL binaries exist.
const installHint = "install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql), or set DATABASE_URL to a server you have"

// readyTimeout bounds how long a started server may take to accept connections.
const readyTimeout = 60 * time.Second

// startAttempts is how often a start is retried on a fresh port: the free
// port is found by binding and releasing it, so another process can take it
// in between.
const startAttempts = 3

// server is a throwaway PostgreSQL cluster in a temporary directory.
type server struct {
	logger   *slog.Logger
	dir      string // removed by stop; holds data/, the socket and the log
	pgCtl    string
	cred     runAs // the postgres user when running as root (Unix)
	url      string
	stopOnce sync.Once
	stopErr  error
}

// binaries are the PostgreSQL programs a throwaway server needs.
type binaries struct{ initdb, pgCtl string }

func startServer(ctx context.Context, logger *slog.Logger, o options) (*server, error) {
	bins, err := findBinaries(o.lookPath, o.binGlob)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "retentiond-pg-")
	if err != nil {
		return nil, fmt.Errorf("pglocal: creating a directory for a throwaway PostgreSQL: %w", err)
	}
	s := &server{logger: logger, dir: dir, pgCtl: bins.pgCtl, cred: cred}
	if err := s.init(ctx, bins.initdb); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	for attempt := 1; ; attempt++ {
		err = s.start(ctx)
		if err == nil || attempt == startAttempts || ctx.Err() != nil {
			break
		}
		logger.WarnContext(ctx, "throwaway PostgreSQL did not start; retrying on another port",
			slog.Int("attempt", attempt), slog.String("error", err.Error()))
	}
	if err != nil {
		// pg_ctl may have been killed (ctx) after the server started: make
		// sure nothing runs on the directory about to be removed.
		_ = s.pgStop("immediate")
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	logger.InfoContext(ctx, "started a throwaway PostgreSQL server",
		slog.String("url", s.url), slog.String("dir", dir), slog.String("pg_ctl", bins.pgCtl))
	return s, nil
}

// init creates the cluster: trust authentication for the postgres user, C
// locale so it does not depend on the machine's locales, and no fsync
// because the data is thrown away.
func (s *server) init(ctx context.Context, initdb string) error {
	if err := handOver(s.dir, s.cred); err != nil {
		return fmt.Errorf("pglocal: handing %s to the postgres user: %w", s.dir, err)
	}
	out, err := s.command(ctx, initdb, "--pgdata", filepath.Join(s.dir, "data"), "--username", "postgres",
		"--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pglocal: %s failed: %w\n%s", initdb, err, out)
	}
	return nil
}

// start starts the server on a free port and waits until it accepts
// connections.
func (s *server) start(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	// Speed over durability: the cluster is deleted when stopped.
	serverOpts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k '%s' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
		port, s.dir)
	logFile := filepath.Join(s.dir, "postgres.log")
	out, err := s.command(ctx, s.pgCtl, "start", "--pgdata", filepath.Join(s.dir, "data"), "--log", logFile,
		"--wait", "--timeout", strconv.Itoa(int(readyTimeout.Seconds())), "-o", serverOpts).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pglocal: pg_ctl start failed: %w\n%s\n%s", err, out, tail(logFile))
	}
	s.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := waitReady(ctx, s.url, readyTimeout); err != nil {
		return errors.Join(fmt.Errorf("pglocal: throwaway PostgreSQL on port %d: %w\n%s", port, err, tail(logFile)), s.pgStop("immediate"))
	}
	return nil
}

// stop shuts the server down and removes its directory. It is safe to call
// more than once.
func (s *server) stop() error {
	s.stopOnce.Do(func() {
		err := s.pgStop("fast")
		if err != nil {
			// A server that won't stop cleanly must not outlive its
			// deleted directory.
			err = errors.Join(err, s.pgStop("immediate"))
		}
		if rerr := os.RemoveAll(s.dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("pglocal: removing %s: %w", s.dir, rerr))
		}
		s.stopErr = err
		if err == nil {
			s.logger.Info("stopped the throwaway PostgreSQL server", slog.String("dir", s.dir))
		}
	})
	return s.stopErr
}

func (s *server) pgStop(mode string) error {
	// Not tied to a caller's context: stopping must happen even after it
	// was cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	out, err := s.command(ctx, s.pgCtl, "stop", "--pgdata", filepath.Join(s.dir, "data"), "--mode", mode, "--wait").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pglocal: pg_ctl stop -m %s failed: %w\n%s", mode, err, out)
	}
	return nil
}

// command prepares a PostgreSQL program to run as the server's user, in its
// directory (the postgres user may not be able to read the current one) and
// in its own process group, so a Ctrl-C meant for the tests does not also
// shut the server down under them.
func (s *server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = sysProcAttr(s.cred)
	return cmd
}

// findBinaries looks for initdb and pg_ctl in PATH, then in the newest
// binGlob directory that has both (Debian keeps them out of PATH in
// /usr/lib/postgresql/<version>/bin).
func findBinaries(lookPath func(string) (string, error), binGlob string) (binaries, error) {
	initdb, err1 := lookPath("initdb")
	pgCtl, err2 := lookPath("pg_ctl")
	if err1 == nil && err2 == nil {
		return binaries{initdb: initdb, pgCtl: pgCtl}, nil
	}
	dirs, err := filepath.Glob(binGlob)
	if err != nil {
		return binaries{}, fmt.Errorf("pglocal: bad pattern %q: %w", binGlob, err)
	}
	sortNewestFirst(dirs)
	for _, dir := range dirs {
		b := binaries{initdb: filepath.Join(dir, "initdb"), pgCtl: filepath.Join(dir, "pg_ctl")}
		if isExecutable(b.initdb) && isExecutable(b.pgCtl) {
			return b, nil
		}
	}
	return binaries{}, fmt.Errorf("pglocal: no PostgreSQL server binaries (initdb and pg_ctl) in PATH or %s, and no server answers at 127.0.0.1:5432; %s",
		binGlob, installHint)
}

// sortNewestFirst orders directories like /usr/lib/postgresql/<version>/bin
// by version, highest first, comparing dotted versions numerically so 10
// sorts above 9.6.
func sortNewestFirst(dirs []string) {
	version := func(dir string) []int {
		var v []int
		for _, part := range strings.Split(filepath.Base(filepath.Dir(dir)), ".") {
			n, err := strconv.Atoi(part)
			if err != nil {
				return nil
			}
			v = append(v, n)
		}
		return v
	}
	sort.SliceStable(dirs, func(i, j int) bool {
		a, b := version(dirs[i]), version(dirs[j])
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return len(a) > len(b)
	})
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// freePort returns a 127.0.0.1 TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pglocal: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the end of the server log, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(bytes.TrimSpace(b))
}
