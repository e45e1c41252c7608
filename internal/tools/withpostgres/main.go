// Command withpostgres runs a command with DATABASE_URL pointing at a
// PostgreSQL server: the one DATABASE_URL already names, the local server at
// 127.0.0.1:5432, or a throwaway server it starts and removes afterwards
// (see internal/pglocal). It exits with the command's status, and passes
// SIGINT and SIGTERM on to the command.
//
//	go run ./internal/tools/withpostgres -- go test -race -count=1 ./...
//	go run ./internal/tools/withpostgres -throwaway -- go test ./internal/store/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/retentiond/retentiond/internal/pglocal"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr))
}

// run runs args[0] with args[1:] in the environment env plus DATABASE_URL,
// forwarding SIGINT and SIGTERM to it, and returns the exit status to use.
func run(args, env []string, stdin io.Reader, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	flags := flag.NewFlagSet("withpostgres", flag.ContinueOnError)
	flags.SetOutput(stderr)
	throwaway := flags.Bool("throwaway", false, "always start a throwaway server, ignoring DATABASE_URL and 127.0.0.1:5432")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: withpostgres [-throwaway] [--] COMMAND [ARG...]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	args = flags.Args()
	if len(args) == 0 {
		flags.Usage()
		return 2
	}
	opts := []pglocal.Option{pglocal.WithLookupEnv(lookupIn(env))}
	if *throwaway {
		opts = append(opts, pglocal.Throwaway())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu    sync.Mutex
		child *os.Process
	)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			mu.Lock()
			p := child
			mu.Unlock()
			if p == nil {
				cancel() // still setting up: give up
				continue
			}
			_ = p.Signal(sig)
		}
	}()

	url, stop, err := pglocal.Ensure(ctx, logger, opts...)
	if err != nil {
		logger.Error("no PostgreSQL server", slog.String("error", err.Error()))
		return 1
	}
	defer func() {
		if err := stop(); err != nil {
			logger.Error("stopping PostgreSQL", slog.String("error", err.Error()))
		}
	}()
	if ctx.Err() != nil {
		return 130
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(env[:len(env):len(env)], "DATABASE_URL="+url) // os/exec keeps the last duplicate
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	mu.Lock()
	err = cmd.Start()
	child = cmd.Process
	mu.Unlock()
	if err != nil {
		logger.Error("starting the command", slog.String("command", args[0]), slog.String("error", err.Error()))
		return 127
	}
	return exitStatus(cmd.Wait())
}

// exitStatus turns cmd.Wait's error into a shell-style exit status.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return 1
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return exit.ExitCode()
}

func lookupIn(env []string) func(string) (string, bool) {
	return func(key string) (string, bool) {
		// The last assignment wins, as for the process environment.
		val, found := "", false
		for _, kv := range env {
			if k, v, ok := strings.Cut(kv, "="); ok && k == key {
				val, found = v, true
			}
		}
		return val, found
	}
}
