package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/retentiond/retentiond/internal/cli"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

// stage is one FROM and what follows it.
type stage struct {
	from, name string
	body       []instruction
}

// parseDockerfile reads a Dockerfile's stages. Comments and parser
// directives are dropped; a line ending in a backslash continues.
func parseDockerfile(t *testing.T, file string) []stage {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, file)))
	var stages []stage
	var cur strings.Builder
	start := 0
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{from: f[len(f)-1]}
			if len(f) >= 3 && strings.EqualFold(f[len(f)-2], "AS") {
				st.from, st.name = f[len(f)-3], f[len(f)-1]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s:%d: %s before the first FROM", file, in.line, in.cmd)
			}
			continue
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	return stages
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// execForm parses an instruction's JSON (exec form) argument list.
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(in.args), &args); err != nil {
		t.Fatalf("Dockerfile:%d: %s %s is not exec form (JSON): %v", in.line, in.cmd, in.args, err)
	}
	return args
}

var digestPinned = regexp.MustCompile(`^[a-z0-9./_-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$`)

// makeBuildOutput is where `make build` writes the binary, from the
// Makefile's build recipe.
func makeBuildOutput(t *testing.T) string {
	t.Helper()
	mk := string(readFile(t, filepath.Join(repoRoot, "Makefile")))
	_, recipe, ok := strings.Cut(mk, "\nbuild:")
	if !ok {
		t.Fatal("Makefile has no build target")
	}
	m := regexp.MustCompile(`\n\t[^\n]*(?:go|\$\(GO\)) build[^\n]* -o (\S+)`).FindStringSubmatch(recipe)
	if m == nil {
		t.Fatal("Makefile's build recipe has no go build -o")
	}
	return m[1]
}

// dockerignored reports whether .dockerignore leaves p out of the build
// context: as Docker reads it, a pattern matches a path relative to the
// context's root, or one of its parent directories (so everything under an
// ignored directory is ignored). Its patterns here use no ** or !.
func dockerignored(t *testing.T, p string) bool {
	t.Helper()
	for _, pat := range strings.Split(string(readFile(t, filepath.Join(repoRoot, ".dockerignore"))), "\n") {
		pat = strings.TrimSpace(pat)
		if pat == "" || strings.HasPrefix(pat, "#") {
			continue
		}
		if strings.Contains(pat, "**") || strings.HasPrefix(pat, "!") {
			t.Fatalf(".dockerignore: %q needs a fuller reader than dockerignored", pat)
		}
		for q := path.Clean(p); q != "." && q != "/"; q = path.Dir(q) {
			if ok, _ := path.Match(path.Clean(pat), q); ok {
				return true
			}
		}
	}
	return false
}

// commandExists reports whether retentiond has command name.
func commandExists(name string) bool {
	err := cli.Run(context.Background(), []string{"help", name}, cli.Env{Stdout: io.Discard, Stderr: io.Discard})
	return err == nil
}

func checkCommand(t *testing.T, where, name string) {
	t.Helper()
	exists, soon := commandExists(name), slices.Contains(soonCommands, name)
	switch {
	case exists && soon:
		t.Errorf("%s: retentiond %s exists now: remove it from soonCommands in deploy/helpers_test.go", where, name)
	case !exists && !soon:
		t.Errorf("%s: retentiond has no command %q", where, name)
	}
}

// TestDockerfile keeps the Dockerfile honest where no Docker engine can
// build it: it builds with `make build`, copies only what exists and is in
// the build context, pins its base images by digest, listens where
// HTTP_ADDR does, and runs as a non-root user.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	const file = repoRoot + "/Dockerfile"
	stages := parseDockerfile(t, file)
	if len(stages) != 2 {
		t.Fatalf("%d stages, want build and final", len(stages))
	}
	build, final := stages[0], stages[1]
	names := map[string]bool{}
	for _, st := range stages {
		if !names[st.from] && !digestPinned.MatchString(st.from) {
			t.Errorf("FROM %s is not pinned by digest (IMAGE:TAG@sha256:...)", st.from)
		}
		if st.name != "" {
			names[st.name] = true
		}
	}

	// The build is make's.
	var makes int
	for _, in := range build.all("RUN") {
		if strings.Contains(in.args, "go build") {
			t.Errorf("Dockerfile:%d: builds with go build itself; `make build` is the one build command", in.line)
		}
		if strings.HasPrefix(in.args, "make build") {
			makes++
			for _, arg := range []string{`VERSION="$VERSION"`, `REVISION="$REVISION"`} {
				if !strings.Contains(in.args, arg) {
					t.Errorf("Dockerfile:%d: make build without %s", in.line, arg)
				}
			}
		}
	}
	if makes != 1 {
		t.Errorf("the build stage runs make build %d times, want once", makes)
	}
	workdir := ""
	for _, in := range build.all("WORKDIR") {
		workdir = in.args
	}
	var buildRuns strings.Builder
	for _, in := range build.all("RUN") {
		buildRuns.WriteString(in.args + "\n")
	}
	for _, in := range build.all("COPY") {
		f := strings.Fields(in.args)
		for _, src := range f[:len(f)-1] {
			if strings.HasPrefix(src, "--") {
				t.Errorf("Dockerfile:%d: COPY %s in the build stage", in.line, src)
				continue
			}
			if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
				t.Errorf("Dockerfile:%d: COPY %s: %v", in.line, src, err)
			} else if src != "." && dockerignored(t, src) {
				t.Errorf("Dockerfile:%d: COPY %s, which .dockerignore leaves out of the context", in.line, src)
			}
		}
	}

	// The final stage copies the binary make built, and files that exist.
	binary := path.Join(workdir, makeBuildOutput(t))
	copied := map[string]string{} // destination -> source
	for _, in := range final.all("COPY") {
		f := strings.Fields(in.args)
		if !slices.Contains(f, "--from="+build.name) {
			t.Errorf("Dockerfile:%d: the final stage copies only from the build stage", in.line)
			continue
		}
		var srcs []string
		for _, a := range f[:len(f)-1] {
			if !strings.HasPrefix(a, "--") {
				srcs = append(srcs, a)
			}
		}
		for _, src := range srcs {
			copied[f[len(f)-1]] = src
			rel, inTree := strings.CutPrefix(src, workdir+"/")
			switch {
			case src == binary:
			case inTree:
				if _, err := os.Stat(filepath.Join(repoRoot, rel)); err != nil {
					t.Errorf("Dockerfile:%d: COPY %s: %v", in.line, src, err)
				} else if dockerignored(t, rel) {
					t.Errorf("Dockerfile:%d: COPY %s, which .dockerignore leaves out of the context", in.line, rel)
				}
			case !strings.Contains(buildRuns.String(), src):
				t.Errorf("Dockerfile:%d: COPY %s, which the build stage does not make", in.line, src)
			}
		}
	}
	if copied["/usr/local/bin/retentiond"] != binary {
		t.Errorf("the final stage must copy %s (make build's output) to /usr/local/bin/retentiond; copies %v", binary, copied)
	}

	env := map[string]string{}
	for _, in := range final.all("ENV") {
		k, v, ok := strings.Cut(in.args, "=")
		if !ok {
			t.Errorf("Dockerfile:%d: ENV %s: write KEY=value", in.line, in.args)
		}
		checkVarName(t, "Dockerfile ENV", k)
		env[k] = v
	}
	if src := copied[env["POLICY_FILE"]]; path.Base(src) != "policies.example.yaml" {
		t.Errorf("POLICY_FILE=%s is not where the example policy is copied (%v)", env["POLICY_FILE"], copied)
	}

	expose := final.all("EXPOSE")
	if port := listenPort(t, env); len(expose) != 1 || expose[0].args != strconv.Itoa(port) {
		t.Errorf("EXPOSE %v, want %d (HTTP_ADDR's default)", expose, port)
	}
	users := final.all("USER")
	if len(users) != 1 {
		t.Fatalf("the final stage has %d USER lines, want 1", len(users))
	}
	uid, _, _ := strings.Cut(users[0].args, ":")
	if uid == "root" || uid == "0" || uid != "65532" {
		t.Errorf("USER %s, want distroless' nonroot 65532 (the Kubernetes manifests' runAsUser)", users[0].args)
	}

	entry := final.all("ENTRYPOINT")
	if len(entry) != 1 || !slices.Equal(execForm(t, entry[0]), []string{"retentiond"}) {
		t.Errorf("ENTRYPOINT %v, want [\"retentiond\"]", entry)
	}
	cmd := final.all("CMD")
	if len(cmd) != 1 {
		t.Fatalf("%d CMD lines", len(cmd))
	}
	for _, c := range execForm(t, cmd[0])[:1] {
		checkCommand(t, "CMD", c)
	}
	hc := final.all("HEALTHCHECK")
	if len(hc) != 1 {
		t.Fatalf("%d HEALTHCHECK lines, want 1", len(hc))
	}
	_, hcCmd, ok := strings.Cut(hc[0].args, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %s has no CMD", hc[0].args)
	}
	probe := execForm(t, instruction{line: hc[0].line, cmd: "HEALTHCHECK", args: hcCmd})
	// distroless has no shell: exec form, the binary itself.
	if !slices.Equal(probe, []string{"retentiond", "check", "--liveness"}) {
		t.Errorf("HEALTHCHECK CMD %q, want retentiond check --liveness", probe)
	}
	checkCommand(t, "HEALTHCHECK", probe[1])

	// OCI labels, with the version and revision from build args declared
	// in the final stage (an ARG does not cross a FROM).
	labels := strings.Join(func() []string {
		var s []string
		for _, in := range final.all("LABEL") {
			s = append(s, in.args)
		}
		return s
	}(), " ")
	for _, want := range []string{`org.opencontainers.image.version="$VERSION"`, `org.opencontainers.image.revision="$REVISION"`,
		"org.opencontainers.image.source=", "org.opencontainers.image.title="} {
		if !strings.Contains(labels, want) {
			t.Errorf("LABEL lacks %s", want)
		}
	}
	for _, st := range stages {
		var args []string
		for _, in := range st.all("ARG") {
			name, _, _ := strings.Cut(in.args, "=")
			args = append(args, name)
		}
		for _, want := range []string{"VERSION", "REVISION"} {
			if !slices.Contains(args, want) {
				t.Errorf("stage %s does not declare ARG %s", st.from, want)
			}
		}
	}
}

func TestDockerignored(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"bin/retentiond": true, "bin": true, ".git": true, "x.test": true, "archive/a/b.zip": true,
		"policies.example.yaml": false, "cmd/retentiond/main.go": false, "go.mod": false, "internal/archive/archive.go": false,
	} {
		if got := dockerignored(t, p); got != want {
			t.Errorf("dockerignored(%q) = %v, want %v", p, got, want)
		}
	}
}
