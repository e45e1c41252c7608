package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Version and Revision are stamped by `make build` (and so the Dockerfile):
//
//	-ldflags "-X github.com/retentiond/retentiond/internal/cli.Version=v1.2.3 -X github.com/retentiond/retentiond/internal/cli.Revision=abc123"
//
// Left empty, they come from what the Go toolchain recorded in the binary:
// the module version for `go install ...@v1.2.3`, and the VCS revision for a
// build inside a git checkout. A Docker build has no .git to read, which is
// why make passes both explicitly.
var (
	Version  = ""
	Revision = ""
)

// build describes this binary.
type build struct {
	Version   string // "v1.2.3", a git describe, or "dev"
	Revision  string // the VCS commit, or "unknown"
	Modified  bool   // built from a checkout with uncommitted changes
	GoVersion string
}

// thisBuild reads this binary's build information once per call; it is cheap.
func thisBuild() build {
	bi, ok := debug.ReadBuildInfo()
	return buildFrom(bi, ok, Version, Revision)
}

// buildFrom combines the stamped values with the toolchain's build
// information; stamped values win.
func buildFrom(bi *debug.BuildInfo, ok bool, version, revision string) build {
	b := build{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if ok {
		b.GoVersion = bi.GoVersion
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Revision == "" {
					b.Revision = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Revision == "" {
		b.Revision = "unknown"
	}
	return b
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "Print the version, VCS revision and Go version of this binary",
		bind: func(*flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(_ context.Context, e *Env, _ []string) error {
				b := thisBuild()
				rev := b.Revision
				if b.Modified {
					rev += " (modified)"
				}
				fmt.Fprintf(e.Stdout, "retentiond %s\n  revision  %s\n  go        %s %s/%s\n", b.Version, rev, b.GoVersion, runtime.GOOS, runtime.GOARCH)
				return nil
			}
		},
	}
}

// buildInfoMetric is retentiond_build_info{version,revision,goversion},
// always 1: the Prometheus convention for exporting a build's identity, so a
// dashboard can show which build runs and an alert can join on it.
func buildInfoMetric() prometheus.Collector {
	b := thisBuild()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "retentiond_build_info",
		Help:        "The running build: version, VCS revision and Go version as labels; always 1.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}

// versionString is the version alone, as the User-Agent carries it.
func versionString() string { return thisBuild().Version }
