package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/artifact"
	"github.com/retentiond/retentiond/internal/githubsim"
	"github.com/retentiond/retentiond/internal/pgtest"
)

// The sizing figures in the README ("Sizing") come from BenchmarkRunSizing:
// the real binary, built as `make build` builds it, runs `retentiond run`
// (a dry-run) as its own process against a simulated organisation in a
// second process and a fresh PostgreSQL database; the benchmark reports the
// run's peak resident memory (the kernel's maxrss for the process, what a
// memory limit is measured against), its wall time, and what the run left
// in the database.
//
//	go run ./internal/tools/withpostgres -- go test -run '^$' -bench BenchmarkRunSizing -benchtime 1x ./deploy/
func BenchmarkRunSizing(b *testing.B) {
	bin := buildBinary(b)
	for _, total := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("artifacts=%d", total), func(b *testing.B) {
			sim := startSizingSimulator(b, 20, total/20)
			var last sizing
			for range b.N {
				b.StopTimer()
				db := pgtest.NewDatabase(b)
				b.StartTimer()
				last = runBinary(b, bin, sim, db)
			}
			if last.artifacts != total {
				b.Fatalf("the run saw %d artifacts, want %d", last.artifacts, total)
			}
			b.ReportMetric(last.maxRSS/(1<<20), "max-rss-MB")
			b.ReportMetric(last.wall.Seconds(), "s/run")
			b.ReportMetric(last.dbBytes/(1<<20), "db-MB")
			b.ReportMetric(last.auditBytes/float64(last.auditRows), "audit-B/row")
			b.ReportMetric(last.artifactBytes/float64(total), "artifacts-B/artifact")
		})
	}
}

// TestRunBinary runs the sizing harness small, so that a broken harness
// shows in CI (which runs no benchmarks) — and so the binary `make build`
// makes is run once as a deployment runs it: a process reading only its
// environment, exiting 0 after a dry-run.
func TestRunBinary(t *testing.T) {
	if spec := os.Getenv(sizingSimEnv); spec != "" {
		serveSizingSimulator(t, spec)
		return
	}
	t.Parallel()
	bin := buildBinary(t)
	sim := startSizingSimulator(t, 3, 150)
	s := runBinary(t, bin, sim, pgtest.NewDatabase(t))
	if s.artifacts != 450 || s.auditRows != 450 {
		t.Errorf("the run saw %d artifacts and wrote %d audit rows, want 450 of each", s.artifacts, s.auditRows)
	}
	if s.maxRSS <= 0 || s.dbBytes <= 0 {
		t.Errorf("no figures: %+v", s)
	}
}

// buildBinary builds cmd/retentiond as `make build` does (CGO_ENABLED=0,
// -trimpath) into a directory removed with tb. The build cache makes all
// but the first build a link.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "retentiond")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/retentiond")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// sizing is what one run of the binary measured.
type sizing struct {
	maxRSS, dbBytes, auditBytes, artifactBytes float64
	wall                                       time.Duration
	artifacts, auditRows                       int
}

func runBinary(tb testing.TB, bin string, sim sizingSim, dbURL string) sizing {
	tb.Helper()
	policyFile := filepath.Join(tb.TempDir(), "policies.yaml")
	names := make([]string, len(sim.repos))
	for i, r := range sim.repos {
		names[i] = string(r)
	}
	// The example policy's rules, over the simulated repositories.
	policy := fmt.Sprintf(`version: 1
repositories: [%s]
safety:
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
`, strings.Join(names, ", "))
	if err := os.WriteFile(policyFile, []byte(policy), 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "run")
	cmd.Env = []string{
		"DATABASE_URL=" + dbURL, "GITHUB_TOKEN=" + sizingToken, "GITHUB_API_URL=" + sim.url, "POLICY_FILE=" + policyFile,
		"LOG_LEVEL=warn", "LOG_FORMAT=json", "MAX_DELETIONS_PER_RUN=100000",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		tb.Fatalf("retentiond run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	s := sizing{wall: time.Since(start)}
	// Linux reports ru_maxrss in KiB.
	s.maxRSS = float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var db, audit, arts int64
	if err := conn.QueryRow(ctx, `SELECT pg_database_size(current_database()), pg_total_relation_size('audit_log'),
		pg_total_relation_size('artifacts'), (SELECT artifacts_seen FROM runs ORDER BY id DESC LIMIT 1),
		(SELECT count(*) FROM audit_log)`).Scan(&db, &audit, &arts, &s.artifacts, &s.auditRows); err != nil {
		tb.Fatal(err)
	}
	s.dbBytes, s.auditBytes, s.artifactBytes = float64(db), float64(audit), float64(arts)
	return s
}

const (
	sizingToken  = "ghp_sizingTOKENabcdefghijklmnopqrstuvwxyz"
	sizingSimEnv = "RETENTIOND_SIZING_SIMULATOR"
	sizingPrefix = "sizingsim "
)

type sizingSim struct {
	url   string
	repos []artifact.Repository
}

// startSizingSimulator runs this test binary again as a simulator of repos ×
// perRepo generated artifacts; it stops when tb ends (stdin closes).
func startSizingSimulator(tb testing.TB, repos, perRepo int) sizingSim {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestRunBinary$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%dx%d", sizingSimEnv, repos, perRepo))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("simulator process: %v", err)
		}
	})
	var line strings.Builder
	buf := make([]byte, 1)
	for !strings.HasSuffix(line.String(), "\n") {
		if _, err := stdout.Read(buf); err != nil {
			tb.Fatalf("simulator process: %v (read %q)", err, line.String())
		}
		line.WriteByte(buf[0])
	}
	text, ok := strings.CutPrefix(strings.TrimSpace(line.String()), sizingPrefix)
	if !ok {
		tb.Fatalf("simulator process said %q", line.String())
	}
	url, list, _ := strings.Cut(text, " ")
	var names []artifact.Repository
	for _, n := range strings.Split(list, ",") {
		names = append(names, artifact.Repository(n))
	}
	// The rest of its output (go test's PASS) is not read: drain it.
	go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(stdout) }()
	return sizingSim{url: url, repos: names}
}

func serveSizingSimulator(t *testing.T, spec string) {
	var repos, perRepo int
	if _, err := fmt.Sscanf(spec, "%dx%d", &repos, &perRepo); err != nil {
		t.Fatalf("%s=%q: %v", sizingSimEnv, spec, err)
	}
	sim := githubsim.New(githubsim.Options{Token: sizingToken, RateLimit: 1 << 30})
	names := sim.Generate(githubsim.GenerateOptions{Seed: 1, Repositories: repos, ArtifactsPerRepository: perRepo})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	list := make([]string, len(names))
	for i, n := range names {
		list[i] = n.String()
	}
	fmt.Printf("%s%s %s\n", sizingPrefix, srv.URL, strings.Join(list, ","))
	_, _ = bytes.NewBuffer(nil).ReadFrom(os.Stdin)
}
