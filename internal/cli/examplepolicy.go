package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"

	"github.com/retentiond/retentiond"
	"github.com/retentiond/retentiond/internal/config"
)

// examplePolicySHA256 is the SHA-256 of policies.example.yaml as this binary
// ships it: the policy the container image runs until a real one is mounted
// over /etc/retentiond/policies.yaml.
var examplePolicySHA256 = func() string {
	sum := sha256.Sum256(retentiond.ExamplePolicy)
	return hex.EncodeToString(sum[:])
}()

// checkExamplePolicy refuses to delete under the example policy, byte for
// byte: it is what the image runs when nobody mounted a policy, and its
// rules were written for the demo's organisation, not for whatever the
// token can reach. A dry-run under it only warns, loudly, so that `docker
// compose up` without a policy still shows something. Against an API on a
// loopback address — the simulator of `demo --keep`, whose organisation the
// example was written for — deleting is allowed, with the same warning.
func (a *app) checkExamplePolicy(ctx context.Context, dryRun bool) error {
	if a.policy.SHA256 != examplePolicySHA256 {
		return nil
	}
	const what = "is the example policy shipped with retentiond (policies.example.yaml)"
	switch {
	case dryRun:
		a.logger.WarnContext(ctx, "POLICY_FILE "+what+"; this dry-run only records, a run with DRY_RUN=false refuses to start until your own policy is mounted",
			slog.String("policy_file", a.cfg.Policy.File), slog.String("policy_sha256", a.policy.SHA256))
		return nil
	case loopbackURL(a.cfg.GitHub.APIURL):
		a.logger.WarnContext(ctx, "POLICY_FILE "+what+"; deleting with it only because GITHUB_API_URL is on this machine (the simulator)",
			slog.String("policy_file", a.cfg.Policy.File), slog.String("github_api_url", a.cfg.GitHub.APIURL))
		return nil
	}
	return &config.Error{Var: "POLICY_FILE", Msg: fmt.Sprintf(
		"%s %s, and DRY_RUN is false: retentiond does not delete with the example; mount your own policy there "+
			"(docker run -v $PWD/policies.yaml:/etc/retentiond/policies.yaml ..., or the ConfigMap in deploy/kubernetes), "+
			"or keep DRY_RUN=true to see what the example would do", a.cfg.Policy.File, what)}
}

// loopbackURL reports whether u's host is this machine.
func loopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := p.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
