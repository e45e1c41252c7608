package cli

import (
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Stamped values win over what the toolchain recorded; without either, the
// version is "dev" and the revision "unknown", never empty, since both are
// label values of retentiond_build_info.
func TestBuildFrom(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"},
	}}
	installed := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"}}
	for _, c := range []struct {
		name              string
		bi                *debug.BuildInfo
		version, revision string
		want              build
	}{
		{"stamped by make", vcs, "v1.5.0-3-g0123abc", "0123abcdef", build{"v1.5.0-3-g0123abc", "0123abcdef", true, "go1.26.0"}},
		{"go build in a checkout", vcs, "", "", build{"dev", "0123abcd", true, "go1.26.0"}},
		{"go install module@version", installed, "", "", build{"v1.4.0", "unknown", false, "go1.26.0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(c.want, buildFrom(c.bi, true, c.version, c.revision)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
