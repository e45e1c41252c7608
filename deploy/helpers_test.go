package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/retentiond/retentiond/internal/config"
)

// Names other branches are adding, used here before they exist. Each test
// accepts a name in these lists only while it does not exist yet, and fails
// once it does, so that the list is emptied as the work lands instead of
// hiding a typo for ever.
var (
	// All have landed; the lists stay for the next branch that needs them.
	soonVars     []string
	soonMetrics  []string
	soonCommands []string
)

// repoRoot is the repository's root: go test runs in deploy/.
const repoRoot = ".."

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// documents splits a YAML stream into its documents, each as a node, and
// fails on a syntax error.
func documents(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, path)))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, &n)
	}
}

// decodeStrict decodes n into v, refusing any field v does not have.
func decodeStrict(t *testing.T, what string, n *yaml.Node, v any) {
	t.Helper()
	b, err := yaml.Marshal(n)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// knownVars is every variable retentiond reads, from the configuration's
// own list (config.Vars), by name.
func knownVars() map[string]config.Var {
	m := map[string]config.Var{}
	for _, v := range config.Vars() {
		m[v.Name] = v
	}
	return m
}

// checkVarName fails the test unless retentiond reads name, or name is one
// of soonVars and retentiond does not read it yet.
func checkVarName(t *testing.T, where, name string) {
	t.Helper()
	_, known := knownVars()[name]
	soon := slices.Contains(soonVars, name)
	switch {
	case known && soon:
		t.Errorf("%s: %s is read by retentiond now: remove it from soonVars in deploy/helpers_test.go", where, name)
	case !known && !soon:
		t.Errorf("%s: retentiond reads no variable %s (config.Vars)", where, name)
	}
}

// defaultVar is the default of variable name, failing if there is none.
func defaultVar(t *testing.T, name string) string {
	t.Helper()
	v, ok := knownVars()[name]
	if !ok || v.Default == "" {
		t.Fatalf("config.Vars has no default for %s", name)
	}
	return v.Default
}

// portOf is the port of a host:port listen address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("HTTP_ADDR %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("HTTP_ADDR %q: %v", addr, err)
	}
	return n
}

// listenPort is the port serve listens on given its environment: HTTP_ADDR
// if set there, else its default.
func listenPort(t *testing.T, env map[string]string) int {
	t.Helper()
	if addr, ok := env["HTTP_ADDR"]; ok {
		return portOf(t, addr)
	}
	return portOf(t, defaultVar(t, "HTTP_ADDR"))
}

// under reports whether path is dir or inside it.
func under(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
