// Package cli is retentiond's command line: it parses arguments, loads the
// configuration and wires the packages together for each command. main only
// sets up signals and calls Run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/config"
	"github.com/retentiond/retentiond/internal/logging"
	"github.com/retentiond/retentiond/policy"
)

// Env is what a command may touch of the outside world. Tests pass buffers, a
// map of variables and a fake clock.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Lookup envconfig.Lookuper
	Clock  clock.Clock
	// Listening, when set, is told the address serve's HTTP server bound;
	// tests use it with HTTP_ADDR=127.0.0.1:0.
	Listening func(net.Addr)
}

// command is one subcommand.
type command struct {
	name    string
	args    string // usage after the name, e.g. "[flags] FILE"
	summary string
	help    string // paragraphs after the usage line
	flags   func(fs *flag.FlagSet) any
	run     func(ctx context.Context, e *Env, fs *flag.FlagSet, opts any) error
	// vars lists the environment variables the command reads, for its help.
	vars []string
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// Usage errors exit with status 2, like configuration errors.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// ExitCode maps an error returned by Run to the process exit status: 0 for
// success, 2 for usage, configuration and policy errors (nothing was
// attempted), 1 for everything else.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ue *usageError
	var ce *config.Error
	var pe policy.ErrorList
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &pe) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// Run runs the command named by args[0].
func Run(ctx context.Context, args []string, e Env) error {
	if e.Clock == nil {
		e.Clock = clock.Real{}
	}
	if e.Lookup == nil {
		e.Lookup = envconfig.OsLookuper()
	}
	if len(args) == 0 {
		printUsage(e.Stderr)
		return usagef("no command given")
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				return usagef("unknown command %q; run 'retentiond help'", args[1])
			}
			printCommandHelp(e.Stdout, c)
			return nil
		}
		printUsage(e.Stdout)
		return nil
	case "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		printUsage(e.Stderr)
		return usagef("unknown command %q", name)
	}
	fs := flag.NewFlagSet("retentiond "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var opts any
	if c.flags != nil {
		opts = c.flags(fs)
	}
	if err := fs.Parse(interspersed(fs, args[1:])); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(e.Stdout, c)
			return nil
		}
		return usagef("%s: %v; run 'retentiond help %s'", c.name, err, c.name)
	}
	return c.run(ctx, &e, fs, opts)
}

// interspersed moves flags that follow positional arguments to the front, so
// `download o/r 42 -o out.zip` works as people type it. "--" ends flags.
func interspersed(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		// A non-boolean flag takes the next argument as its value.
		if f := fs.Lookup(name); f != nil && i+1 < len(args) {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return append(flags, pos...)
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `retentiond keeps GitHub Actions artifact storage under control: it scans
artifacts into PostgreSQL, applies retention rules from a YAML policy, and
deletes what the rules say (dry-run by default), recording every decision.

Usage: retentiond COMMAND [flags] [args]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Run 'retentiond help COMMAND' (or COMMAND --help) for a command's flags.

Environment:
`)
	printVars(w, nil)
}

func printCommandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: retentiond %s %s\n\n%s\n", c.name, c.args, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	if c.flags != nil {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs)
		has := false
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprint(w, "\nFlags:\n")
			fs.SetOutput(w)
			fs.PrintDefaults()
		}
	}
	if len(c.vars) > 0 {
		fmt.Fprint(w, "\nEnvironment:\n")
		printVars(w, c.vars)
	}
}

// printVars prints the variables named in only, or all of them.
func printVars(w io.Writer, only []string) {
	want := map[string]bool{}
	for _, n := range only {
		want[n] = true
	}
	for _, v := range config.Vars() {
		if only != nil && !want[v.Name] {
			continue
		}
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		fmt.Fprintf(w, "  %s%s\n      %s\n", v.Name, def, v.Help)
	}
}

// loadConfig reads the configuration and builds the logger it asks for.
func loadConfig(ctx context.Context, e *Env) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(ctx, e.Lookup)
	if err != nil {
		return nil, nil, err
	}
	logger, err := logging.New(e.Stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return nil, nil, err
	}
	return cfg, logger, nil
}
