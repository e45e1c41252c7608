package githubsim

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The routes `retentiond check` and serve's readiness use besides the
// artifacts API.
const (
	RouteRateLimit = "rate_limit" // GET /rate_limit
	RouteRepo      = "repo"       // GET /repos/{owner}/{repo}
)

// parseMetaRoute recognises GET /rate_limit and GET /repos/{owner}/{repo};
// path has had the Enterprise prefix removed.
func parseMetaRoute(method, path string) (route, bool) {
	if method != http.MethodGet {
		return route{}, false
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(seg) == 1 && seg[0] == "rate_limit":
		return route{name: RouteRateLimit}, true
	case len(seg) == 3 && seg[0] == "repos" && seg[1] != "" && seg[2] != "":
		return route{name: RouteRepo, owner: seg[1], repo: seg[2]}, true
	}
	return route{}, false
}

// serveRateLimit answers GET /rate_limit as GitHub does: the budgets
// without spending any of them ("Accessing this endpoint does not count
// against your REST API rate limit"), core under resources and, for old
// clients, again as rate.
func (s *Server) serveRateLimit(c *call) {
	snap := s.peekRate()
	setRateHeaders(c.w.Header(), snap)
	core := map[string]any{"limit": snap.limit, "remaining": snap.remaining, "used": snap.used, "reset": snap.reset, "resource": "core"}
	b, _ := json.Marshal(map[string]any{"resources": map[string]any{"core": core}, "rate": core})
	writeJSON(c.w, http.StatusOK, b)
}

// serveRepo answers GET /repos/{owner}/{repo} with the fields retentiond
// reads: the ids, names, archived, and the authenticated user's
// permissions, which say push: false on a ReadOnly server.
func (s *Server) serveRepo(c *call) {
	s.mu.RLock()
	repo := s.repoFor(c.rt)
	var id int64
	var display string
	if repo != nil {
		id, display = repo.id, repo.display
	}
	s.mu.RUnlock()
	if repo == nil {
		writeError(c.w, http.StatusNotFound, "Not Found", docRoot+"/repos/repos#get-a-repository", true)
		return
	}
	owner, name, _ := strings.Cut(display, "/")
	write := !s.readOnly
	b, _ := json.Marshal(map[string]any{
		"id": id, "name": name, "full_name": display, "private": true, "archived": false, "disabled": false,
		"default_branch": "main",
		"owner":          map[string]any{"login": owner, "type": "Organization"},
		"permissions":    map[string]bool{"admin": false, "maintain": false, "push": write, "triage": true, "pull": true},
	})
	writeJSON(c.w, http.StatusOK, b)
}
