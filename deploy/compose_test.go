package deploy_test

import (
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		Environment string `yaml:"environment"`
		File        string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]*struct{} `yaml:"volumes"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command   []string `yaml:"command"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Environment map[string]string `yaml:"environment"`
	Secrets     []string          `yaml:"secrets"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	ReadOnly    bool              `yaml:"read_only"`
	CapDrop     []string          `yaml:"cap_drop"`
	SecurityOpt []string          `yaml:"security_opt"`
	Healthcheck *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		StartPeriod string   `yaml:"start_period"`
		Retries     int      `yaml:"retries"`
	} `yaml:"healthcheck"`
	Restart string `yaml:"restart"`
}

// interpolation is ${VAR}, ${VAR:-default}, ${VAR:?message} and the rest
// of compose's forms.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?[^}]*\}`)

// TestCompose checks deploy/compose.yaml: two variables are the whole
// set-up, retentiond serves in dry-run against the compose PostgreSQL, and
// every variable it sets is one retentiond reads.
func TestCompose(t *testing.T) {
	t.Parallel()
	const file = "compose.yaml"
	docs := documents(t, file)
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	var c composeFile
	decodeStrict(t, file, docs[0], &c)

	// What a user must set: the required interpolations and the secrets
	// read from the environment. Interpolations with a default are fine.
	required := map[string]bool{}
	for _, m := range interpolation.FindAllStringSubmatch(string(readFile(t, file)), -1) {
		if m[2] == "" || strings.Contains(m[2], "?") {
			required[m[1]] = true
		}
	}
	for _, s := range c.Secrets {
		if s.Environment != "" {
			required[s.Environment] = true
		}
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range required {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, []string{"GITHUB_TOKEN", "RETENTIOND_POLICY"}) {
		t.Errorf("compose.yaml needs %v set, want exactly GITHUB_TOKEN and RETENTIOND_POLICY", got)
	}

	pg, ok := c.Services["postgres"]
	if !ok || pg.Healthcheck == nil {
		t.Fatal("want a postgres service with a health check")
	}
	r, ok := c.Services["retentiond"]
	if !ok {
		t.Fatal("no retentiond service")
	}
	if r.Build == nil {
		t.Fatal("retentiond: no build")
	}
	// The build context is relative to deploy/, where go test runs.
	readFile(t, filepath.Join(r.Build.Context, r.Build.Dockerfile))
	if !slices.Equal(r.Command, []string{"serve"}) {
		t.Errorf("retentiond: command %q, want [serve]", r.Command)
	}
	if r.DependsOn["postgres"].Condition != "service_healthy" {
		t.Error("retentiond: want depends_on postgres with condition service_healthy")
	}
	env := r.Environment
	for name := range env {
		checkVarName(t, "compose retentiond", name)
	}
	if env["DRY_RUN"] != "true" {
		t.Errorf("retentiond: DRY_RUN %q; compose starts in dry-run", env["DRY_RUN"])
	}

	// DATABASE_URL names the postgres service, never the container itself.
	u, err := url.Parse(env["DATABASE_URL"])
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	if host := u.Hostname(); host != "postgres" {
		t.Errorf("DATABASE_URL's host %q, want the postgres service (127.0.0.1 in a container is the container)", host)
	}
	pw, _ := u.User.Password()
	if u.User.Username() != pg.Environment["POSTGRES_USER"] || pw != pg.Environment["POSTGRES_PASSWORD"] ||
		strings.TrimPrefix(u.Path, "/") != pg.Environment["POSTGRES_DB"] {
		t.Error("DATABASE_URL's user, password and database differ from the postgres service's")
	}
	if len(pg.Ports) != 0 {
		t.Error("postgres publishes a port: its password is a fixed one, keep it on the compose network")
	}

	// The token is a secret file, from GITHUB_TOKEN.
	if len(r.Secrets) != 1 || env["GITHUB_TOKEN_FILE"] != "/run/secrets/"+r.Secrets[0] || c.Secrets[r.Secrets[0]].Environment != "GITHUB_TOKEN" {
		t.Errorf("retentiond: GITHUB_TOKEN_FILE %q must be the secret from GITHUB_TOKEN", env["GITHUB_TOKEN_FILE"])
	}
	if _, ok := env["GITHUB_TOKEN"]; ok {
		t.Error("retentiond: GITHUB_TOKEN in the environment; it comes as a secret file")
	}

	// The policy is mounted read-only where POLICY_FILE points, and
	// archives go to a named volume.
	mounts := map[string]string{} // target -> source:mode
	for _, v := range r.Volumes {
		// ${RETENTIOND_POLICY:?...} may hold colons of its own.
		v = interpolation.ReplaceAllString(v, "SRC")
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			t.Errorf("retentiond: volume %q", v)
			continue
		}
		mode := ""
		if len(parts) == 3 {
			mode = parts[2]
		}
		mounts[parts[1]] = parts[0] + ":" + mode
	}
	if m := mounts[env["POLICY_FILE"]]; m != "SRC:ro" {
		t.Errorf("POLICY_FILE %s: mount %q, want RETENTIOND_POLICY read-only", env["POLICY_FILE"], m)
	}
	if src, mode, _ := strings.Cut(mounts[env["ARCHIVE_DIR"]], ":"); mode == "ro" {
		t.Errorf("ARCHIVE_DIR %s is mounted read-only", env["ARCHIVE_DIR"])
	} else if _, ok := c.Volumes[src]; !ok {
		t.Errorf("ARCHIVE_DIR %s: mount source %q, want a named volume (it must outlive the container)", env["ARCHIVE_DIR"], src)
	}

	// Published on this machine only, at the port serve listens on.
	port := listenPort(t, env)
	if len(r.Ports) != 1 {
		t.Fatalf("retentiond: ports %v", r.Ports)
	}
	p := strings.Split(r.Ports[0], ":")
	if len(p) != 3 || net.ParseIP(p[0]) == nil || !net.ParseIP(p[0]).IsLoopback() || p[2] != strconv.Itoa(port) {
		t.Errorf("retentiond: ports %q, want 127.0.0.1:HOSTPORT:%d", r.Ports[0], port)
	}

	if !r.ReadOnly || !slices.Equal(r.CapDrop, []string{"ALL"}) || !slices.Contains(r.SecurityOpt, "no-new-privileges:true") {
		t.Error("retentiond: want read_only, cap_drop [ALL] and no-new-privileges")
	}
	// The health check is the image's own.
	if r.Healthcheck == nil || len(r.Healthcheck.Test) < 3 || r.Healthcheck.Test[0] != "CMD" {
		t.Fatal("retentiond: want an exec-form health check")
	}
	if got := r.Healthcheck.Test[1:]; !slices.Equal(got, []string{"retentiond", "check", "--liveness"}) {
		t.Errorf("retentiond: health check %q, want the Dockerfile's retentiond check --liveness", got)
	}
	checkCommand(t, "compose healthcheck", r.Healthcheck.Test[2])
}
