// Command rssbench measures the peak resident memory of `retentiond run`
// (dry-run) and `retentiond plan` over a simulated organisation: the figure
// the README's memory section quotes. The simulator runs in this process and
// retentiond in a child, so the child's peak RSS (getrusage's ru_maxrss) is
// retentiond's alone.
//
//	go run ./internal/tools/withpostgres -- go run ./internal/tools/rssbench -repos 1000 -per-repo 1000
//	go run ./internal/tools/rssbench -bin /path/to/old/retentiond ...   # the same for another build
//
// Each measurement uses a fresh database on DATABASE_URL's server, dropped
// afterwards.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/githubsim"
)

const token = "rssbench-token"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rssbench:", err)
		os.Exit(1)
	}
}

func run() error {
	repos := flag.Int("repos", 1000, "repositories in the simulated organisation")
	perRepo := flag.Int("per-repo", 1000, "artifacts per repository")
	bin := flag.String("bin", "", "retentiond binary to measure (default: build ./cmd/retentiond)")
	commands := flag.String("commands", "run,plan --format csv", "comma-separated retentiond commands to measure, in order, on the same database")
	simulator := flag.Bool("simulator", false, "internal: be the simulator process")
	flag.Parse()
	if *simulator {
		return serveSimulator(*repos, *perRepo)
	}
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		return errors.New("DATABASE_URL is not set; run under internal/tools/withpostgres")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "rssbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *bin == "" {
		*bin = filepath.Join(dir, "retentiond")
		build := exec.Command("go", "build", "-o", *bin, "./cmd/retentiond")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building retentiond: %w", err)
		}
	}

	simURL, names, stop, err := startSimulator(*repos, *perRepo)
	if err != nil {
		return err
	}
	defer stop()

	var policy strings.Builder
	policy.WriteString("version: 1\nrepositories:\n")
	for _, n := range names {
		fmt.Fprintf(&policy, "  - %s\n", n)
	}
	policy.WriteString(rules)
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(policy.String()), 0o600); err != nil {
		return err
	}

	dbURL, drop, err := freshDatabase(ctx, base)
	if err != nil {
		return err
	}
	defer drop()
	env := append(os.Environ(),
		"DATABASE_URL="+dbURL, "GITHUB_API_URL="+simURL, "GITHUB_TOKEN="+token, "POLICY_FILE="+policyFile,
		"MAX_DELETIONS_PER_RUN=100000000", "MAX_DELETIONS_PER_DAY=100000000", "LOG_LEVEL=error", "LOG_FORMAT=json")

	fmt.Printf("%d repositories x %d artifacts = %d artifacts, binary %s\n", *repos, *perRepo, *repos**perRepo, *bin)
	fmt.Printf("%-28s %12s %10s\n", "COMMAND", "PEAK RSS", "WALL")
	for _, c := range strings.Split(*commands, ",") {
		args := strings.Fields(c)
		rss, wall, err := measure(ctx, *bin, args, env)
		if err != nil {
			return err
		}
		fmt.Printf("%-28s %9.1f MB %10s\n", "retentiond "+strings.Join(args, " "), float64(rss)/(1<<20), wall.Round(100*time.Millisecond))
	}
	return nil
}

// rules are the example policy's, but for its archive rule (which needs
// ARCHIVE_DIR) and its repository-specific one: most of a generated
// organisation's artifacts are decided delete, as in a first run.
const rules = `safety:
  min_age: 24h
rules:
  - rule: keep-latest-per-branch
    action: keep
    expired: false
    keep_latest: 3
    group_by: [name, branch]
  - rule: keep-releases
    action: keep
    branch: ["main", "release/**"]
  - rule: old-test-results
    action: delete
    name: ["test-results-*", "coverage-*"]
    older_than: 7d
  - rule: stale-branch-artifacts
    action: delete
    branch: ["!main", "!release/**"]
    older_than: 30d
  - rule: expired
    action: delete
    expired: true
`

// measure runs bin with args and returns its peak RSS in bytes.
func measure(ctx context.Context, bin string, args, env []string) (int64, time.Duration, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	// run exits 1 for a partial run; anything else is a failure.
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() > 1) {
		return 0, 0, fmt.Errorf("retentiond %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	rss, err := peakRSS(cmd.ProcessState)
	return rss, wall, err
}

// freshDatabase creates a database on base's server and returns its URL and
// a func that drops it.
func freshDatabase(ctx context.Context, base string) (string, func(), error) {
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connecting to DATABASE_URL: %w", err)
	}
	name := fmt.Sprintf("retentiond_rssbench_%d", os.Getpid())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return "", nil, fmt.Errorf("creating %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("DATABASE_URL must be a postgres:// URL here: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(context.Background())
	}
	return u.String(), drop, nil
}

// startSimulator runs this program again as the simulator and returns its
// URL and repositories, and a func that stops it.
func startSimulator(repos, perRepo int) (string, []string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, nil, err
	}
	cmd := exec.Command(exe, "-simulator", "-repos", fmt.Sprint(repos), "-per-repo", fmt.Sprint(perRepo))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, nil, fmt.Errorf("starting the simulator: %w", err)
	}
	stop := func() {
		_ = stdin.Close() // asks it to stop
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, nil, fmt.Errorf("reading the simulator's address: %w", err)
	}
	u, list, _ := strings.Cut(strings.TrimSpace(line), " ")
	return u, strings.Split(list, ","), stop, nil
}

// serveSimulator is the simulator process: it prints its URL and
// repositories on one line and serves until stdin closes.
func serveSimulator(repos, perRepo int) error {
	sim := githubsim.New(githubsim.Options{Token: token, RateLimit: 1 << 30})
	names := sim.Generate(githubsim.GenerateOptions{Seed: 1, Repositories: repos, ArtifactsPerRepository: perRepo})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	list := make([]string, len(names))
	for i, n := range names {
		list[i] = n.String()
	}
	fmt.Printf("%s %s\n", srv.URL, strings.Join(list, ","))
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}
