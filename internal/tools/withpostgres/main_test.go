package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// testEnv is an environment whose DATABASE_URL makes run skip finding a
// server, so these tests only exercise the command handling.
func testEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=postgres://u@db.invalid/x"}
}

func TestRunPassesDatabaseURLAndExitStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantOut    string
	}{
		{name: "sees DATABASE_URL", args: []string{"--", "sh", "-c", `printf %s "$DATABASE_URL"`}, wantOut: "postgres://u@db.invalid/x"},
		{name: "without --", args: []string{"sh", "-c", "exit 0"}},
		{name: "exit status", args: []string{"--", "sh", "-c", "exit 3"}, wantStatus: 3},
		{name: "killed by a signal", args: []string{"--", "sh", "-c", "kill -KILL $$"}, wantStatus: 128 + 9},
		{name: "command not found", args: []string{"--", "/nonexistent/command"}, wantStatus: 127},
		{name: "no command", args: []string{"--"}, wantStatus: 2},
		{name: "unknown flag", args: []string{"-nope", "--", "true"}, wantStatus: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			got := run(tc.args, testEnv(), strings.NewReader(""), &stdout, &stderr)
			if got != tc.wantStatus {
				t.Errorf("run(%q) = %d, want %d; stderr:\n%s", tc.args, got, tc.wantStatus, stderr.String())
			}
			if stdout.String() != tc.wantOut {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.wantOut)
			}
		})
	}
}

// TestRunForwardsSIGTERM has the command send SIGTERM to this process (its
// parent); run must pass it on, so the command dies of it. It is not
// parallel: every concurrent run would forward the signal to its own command.
func TestRunForwardsSIGTERM(t *testing.T) {
	var stderr bytes.Buffer
	got := run([]string{"--", "sh", "-c", "kill -TERM $PPID; exec sleep 30"}, testEnv(), strings.NewReader(""), &bytes.Buffer{}, &stderr)
	if got != 128+15 {
		t.Errorf("run = %d, want %d (killed by the forwarded SIGTERM); stderr:\n%s", got, 128+15, stderr.String())
	}
}
