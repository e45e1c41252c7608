package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X github.com/retentiond/retentiond/internal/cli.Version=v1.2.3".
var Version = ""

func init() {
	register(&command{
		name:    "version",
		summary: "Print the version and build information",
		run: func(_ context.Context, e *Env, _ *flag.FlagSet, _ any) error {
			fmt.Fprintf(e.Stdout, "retentiond %s\n", versionString())
			return nil
		},
	})
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
