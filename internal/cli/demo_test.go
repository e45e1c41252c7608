package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/cli"
	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/webhook"
)

// demoDatabase returns the name of a database the demo may create on the
// test server, dropped when the test ends.
func demoDatabase(t *testing.T, kind string) string {
	t.Helper()
	name := fmt.Sprintf("retentiond_test_demo_%s_%d_%d", kind, time.Now().UnixNano(), os.Getpid())
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, pgtest.AdminURL())
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	return name
}

// demoNormaliser replaces what changes between runs of the demo: the
// simulator's port, the database server and the database's name.
func demoNormaliser(dbName string) func(string) string {
	port := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	dsn := regexp.MustCompile(`postgres://[^\s'"]+`)
	return func(s string) string {
		s = strings.ReplaceAll(s, dbName, "DEMO_DB")
		s = dsn.ReplaceAllString(s, "postgres://SERVER/DEMO_DB")
		return port.ReplaceAllString(s, "127.0.0.1:PORT")
	}
}

// The demo's output is for people and is compared whole: a first run that
// succeeds (the cap is no failure), tables within 100 columns, times in UTC,
// sizes in the policy's units, no log line, and next steps that name the
// binary. The clock is fake and the simulated organisation seeded, so only
// the port and the database differ from run to run.
func TestDemoOutputGolden(t *testing.T) {
	t.Parallel()
	name := demoDatabase(t, "golden")
	clk := clock.NewFake(time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC))
	r := runWith(t, map[string]string{"DATABASE_URL": pgtest.AdminURL()}, clk, "demo", "--database", name)
	if r.code != 0 {
		t.Fatalf("demo: exit %d %v\n%s\n%s", r.code, r.err, r.stdout, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("the demo logged below warn by default:\n%s", r.stderr)
	}
	for i, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "  ") && strings.HasPrefix(line, "octo-org/") && len([]rune(line)) > 100 {
			t.Errorf("table line %d is %d wide: %q", i+1, len([]rune(line)), line)
		}
	}
	golden(t, "demo", demoNormaliser(name)(r.stdout))
}

// lineReader hands over, line by line, what a running command writes.
type lineReader struct {
	lines chan string
}

func newLineReader(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lr.lines <- sc.Text()
		}
		close(lr.lines)
	}()
	return lr
}

// until returns the lines read up to and including the first containing
// marker, or fails when the output ends first.
func (lr *lineReader) until(t *testing.T, marker string) []string {
	t.Helper()
	var got []string
	for line := range lr.lines {
		got = append(got, line)
		if strings.Contains(line, marker) {
			return got
		}
	}
	t.Fatalf("output ended without %q:\n%s", marker, strings.Join(got, "\n"))
	return nil
}

// demo --keep keeps the simulator and the database up, prints an
// environment that every other command works with, and a webhook delivery
// signed with the printed secret; cancelling it (Ctrl-C) stops the
// simulator and removes the files it wrote.
func TestDemoKeep(t *testing.T) {
	t.Parallel()
	name := demoDatabase(t, "keep")
	pr, pw := io.Pipe()
	lr := newLineReader(pr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		var errb bytes.Buffer
		err := cli.Run(ctx, []string{"demo", "--keep", "--database", name},
			cli.Env{Stdout: pw, Stderr: &errb, Lookup: envconfig.MapLookuper(map[string]string{"DATABASE_URL": pgtest.AdminURL()})})
		pw.CloseWithError(io.EOF)
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, errb.String())
		}
		done <- err
	}()
	lines := lr.until(t, "Press Ctrl-C")

	env := map[string]string{"DELETE_INTERVAL": "0s", "LOG_FORMAT": "json"}
	var curl []string
	export := regexp.MustCompile(`^\s+export (\w+)='([^']*)'$`)
	for i, line := range lines {
		if m := export.FindStringSubmatch(line); m != nil {
			env[m[1]] = m[2]
		}
		if strings.Contains(line, "curl ") {
			curl = lines[i : i+4]
		}
	}
	for _, v := range []string{"DATABASE_URL", "GITHUB_API_URL", "GITHUB_TOKEN", "POLICY_FILE", "WEBHOOK_SECRET"} {
		if env[v] == "" {
			t.Fatalf("demo --keep printed no %s:\n%s", v, strings.Join(lines, "\n"))
		}
	}

	// The printed environment is enough for the other commands.
	if r := runWith(t, env, nil, "run"); r.code != 0 || !strings.Contains(r.stdout, "(manual, dry-run): succeeded") {
		t.Errorf("run with the printed environment: exit %d %v\n%s\n%s", r.code, r.err, r.stdout, r.stderr)
	}
	if r := runWith(t, env, nil, "audit", "--run", "1", "--format", "csv"); r.code != 0 || strings.Count(r.stdout, "\n") < 100 {
		t.Errorf("audit with the printed environment: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	if r := runWith(t, env, nil, "apply", "--run", "1", "--only-rule", "old-test-results"); r.code != 0 || !strings.Contains(r.stdout, "DELETING") {
		t.Errorf("apply with the printed environment: exit %d %v\n%s\n%s", r.code, r.err, r.stdout, r.stderr)
	}

	// The curl line's signature is the payload file's, under the printed secret.
	if len(curl) != 4 {
		t.Fatalf("no curl line:\n%s", strings.Join(lines, "\n"))
	}
	sig := regexp.MustCompile(webhook.SignatureHeader + `: (sha256=[0-9a-f]{64})`).FindStringSubmatch(curl[2])
	file := regexp.MustCompile(`--data-binary @(\S+)`).FindStringSubmatch(curl[3])
	if sig == nil || file == nil {
		t.Fatalf("curl line without signature or payload file:\n%s", strings.Join(curl, "\n"))
	}
	body, err := os.ReadFile(file[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := webhook.VerifySignature(env["WEBHOOK_SECRET"], body, sig[1]); err != nil {
		t.Errorf("the printed signature does not verify: %v", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo --keep after Ctrl-C: %v", err)
	}
	for _, v := range []string{"POLICY_FILE", "ARCHIVE_DIR"} {
		if _, err := os.Stat(env[v]); !os.IsNotExist(err) {
			t.Errorf("the demo's %s is still there after Ctrl-C: %v", v, err)
		}
	}
	addr := strings.TrimPrefix(env["GITHUB_API_URL"], "http://")
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Errorf("the simulator still answers on %s after Ctrl-C", addr)
	}
}
