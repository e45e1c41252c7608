package policy

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestDescribeGolden(t *testing.T) {
	t.Parallel()
	for file, goldenName := range map[string]string{
		filepath.Join("testdata", "valid.yaml"):      "valid.describe.golden",
		filepath.Join("testdata", "edge.yaml"):       "edge.describe.golden",
		filepath.Join("..", "policies.example.yaml"): "example.describe.golden",
	} {
		t.Run(goldenName, func(t *testing.T) {
			t.Parallel()
			p, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := Describe(&b, p); err != nil {
				t.Fatal(err)
			}
			golden(t, goldenName, b.Bytes())
		})
	}
}

func TestDescribeNoRules(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "version: 1\nrepositories: [a/b]\n")
	var b bytes.Buffer
	if err := Describe(&b, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "rules (0):\n  none: nothing is ever deleted\n") {
		t.Errorf("summary:\n%s", b.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestDescribeWriteError(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "version: 1\nrepositories: [a/b]\n")
	if err := Describe(failingWriter{}, p); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadFileErrorsGolden(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join("testdata", "bad.yaml"))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v", err)
	}
	golden(t, "bad.errors.golden", []byte(err.Error()+"\n"))
}
