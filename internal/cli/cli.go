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

	command *command // the command Run runs
}

// command is one subcommand. Its options live in a value that bind creates
// and that only its run function sees: no global state, no type assertions.
type command struct {
	name    string
	args    string // usage after the name, e.g. "[flags] FILE"
	summary string
	help    string // paragraphs after the usage line
	// config lists the concerns of the configuration the command reads.
	// Only they are loaded and validated, so a bad setting the command does
	// not use cannot stop it, and its help lists exactly their variables.
	config []config.Concern
	// bind registers the command's flags on fs and returns the function
	// that runs it with its positional arguments.
	bind func(fs *flag.FlagSet) func(ctx context.Context, e *Env, args []string) error
}

// commands returns every command, in the order help lists them.
func commands() []*command {
	return []*command{
		serveCommand(), runCommand(), planCommand(), auditCommand(), reportCommand(), applyCommand(), demoCommand(),
		scanCommand(), reposCommand(), downloadCommand(), migrateCommand(), policyCommand(), checkCommand(), versionCommand(),
	}
}

func lookup(name string) (*command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return nil, false
}

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
			c, ok := lookup(args[1])
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
	c, ok := lookup(name)
	if !ok {
		printUsage(e.Stderr)
		return usagef("unknown command %q", name)
	}
	fs := flag.NewFlagSet("retentiond "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := c.bind(fs)
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(e.Stdout, c)
			return nil
		}
		return usagef("%s: %v; run 'retentiond help %s'", c.name, err, c.name)
	}
	e.command = c
	return run(ctx, &e, pos)
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments, so 'download o/r 42 -o out.zip' works as people type it, and
// returns the positional ones. Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `retentiond keeps GitHub Actions artifact storage under control: it scans
artifacts into PostgreSQL, applies retention rules from a YAML policy, and
deletes what the rules say (dry-run by default), recording every decision.

Usage: retentiond COMMAND [flags] [args]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'retentiond help COMMAND' (or COMMAND --help) for a command's flags.

Environment:
`)
	printVars(w, config.Vars())
}

func printCommandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: retentiond %s %s\n\n%s\n", c.name, c.args, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.bind(fs)
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if len(c.config) > 0 {
		fmt.Fprint(w, "\nEnvironment:\n")
		printVars(w, config.Vars(c.config...))
	}
}

func printVars(w io.Writer, vars []config.Var) {
	for _, v := range vars {
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		fmt.Fprintf(w, "  %s%s\n      %s\n", v.Name, def, v.Help)
	}
}

// loadConfig reads the configuration the running command reads, and builds
// the logger it asks for (the default one when it reads no LOG_ settings).
func loadConfig(ctx context.Context, e *Env) (*config.Config, *slog.Logger, error) {
	var concerns []config.Concern
	if e.command != nil {
		concerns = e.command.config
	}
	cfg := &config.Config{}
	if len(concerns) > 0 { // with none, Load would read them all
		var err error
		if cfg, err = config.Load(ctx, e.Lookup, concerns...); err != nil {
			return nil, nil, err
		}
	}
	level, format := cfg.Log.Level, cfg.Log.Format
	if !cfg.Loaded(config.LogConcern) {
		level, format = "info", "auto"
	}
	logger, err := logging.New(e.Stderr, level, format)
	if err != nil {
		return nil, nil, err
	}
	return cfg, logger, nil
}
