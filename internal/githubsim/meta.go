package githubsim

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The routes `retentiond check` and serve's readiness use besides the
// artifacts API.
const (
	RouteRepo = "repo" // GET /repos/{owner}/{repo}
)

// parseMetaRoute recognises GET /repos/{owner}/{repo};
// path has had the Enterprise prefix removed.
func parseMetaRoute(method, path string) (route, bool) {
	if method != http.MethodGet {
		return route{}, false
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(seg) == 3 && seg[0] == "repos" && seg[1] != "" && seg[2] != "":
		return route{name: RouteRepo, owner: seg[1], repo: seg[2]}, true
	}
	return route{}, false
}

// serveRepo answers GET /repos/{owner}/{repo} with the fields retentiond
// reads: the ids, names, archived, and the authenticated user's
// permissions, which say push: false on a ReadOnly server.
func (s *Server) serveRepo(c *call) {
	s.mu.RLock()
	repo := s.repoFor(c.rt)
	var id int64
	var display string
	var archived bool
	if repo != nil {
		id, display, archived = repo.id, repo.display, repo.archived
	}
	s.mu.RUnlock()
	if repo == nil {
		writeError(c.w, http.StatusNotFound, "Not Found", docRoot+"/repos/repos#get-a-repository", true)
		return
	}
	owner, name, _ := strings.Cut(display, "/")
	write := !s.readOnly
	b, _ := json.Marshal(map[string]any{
		"id": id, "name": name, "full_name": display, "private": true, "archived": archived, "disabled": false,
		"default_branch": "main",
		"owner":          map[string]any{"login": owner, "type": "Organization"},
		"permissions":    map[string]bool{"admin": false, "maintain": false, "push": write, "triage": true, "pull": true},
	})
	writeJSON(c.w, http.StatusOK, b)
}
