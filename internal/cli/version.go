package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X github.com/retentiond/retentiond/internal/cli.Version=v1.2.3".
var Version = ""

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "Print the version and build information",
		bind: func(*flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(_ context.Context, e *Env, _ []string) error {
				fmt.Fprintf(e.Stdout, "retentiond %s\n", versionString())
				return nil
			}
		},
	}
}

func versionString() string {
	v := Version
	bi, ok := debug.ReadBuildInfo()
	if v == "" && ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if v == "" {
		v = "dev"
	}
	if ok {
		v += " (" + bi.GoVersion + ")"
	}
	return v
}
