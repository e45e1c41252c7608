package githubsim

import (
	"net/http"
	"strconv"
	"strings"
)

// enterprisePrefix is where GitHub Enterprise Server mounts the REST API;
// go-github's WithEnterpriseURLs adds it, so the simulator accepts it too.
const enterprisePrefix = "/api/v3"

// route is a parsed request path. A hand-written router rather than
// http.ServeMux because GitHub answers a wrong method with 404, not 405, and
// because /repos/{owner}/{repo} and /repositories/{id} share every sub-route.
type route struct {
	name       string
	prefix     string // "" or enterprisePrefix
	owner      string // set for /repos/{owner}/{repo}/...
	repo       string
	repoID     int64 // set for /repositories/{id}/...
	artifactID int64
	runID      int64
	format     string
	blobPath   string // the rest of a blob path, parsed by serveBlob
	ownerLogin string // set for /orgs/{org}/repos and /users/{user}/repos
	ownerID    int64  // set for /organizations/{id}/repos and /user/{id}/repos
	// installation is set for /app/installations/{id}/access_tokens.
	installation int64
}

// byID reports whether the request named its repository by numeric id.
func (rt route) byID() bool { return rt.owner == "" }

// parseRoute maps method and path to a route; anything unrecognised is RouteUnknown.
func parseRoute(method, path string) route {
	rt := route{name: RouteUnknown}
	if strings.HasPrefix(path, blobPrefix) {
		rt.name = RouteBlob
		rt.blobPath = path[len(blobPrefix):]
		if method != http.MethodGet {
			rt.name = RouteUnknown
		}
		return rt
	}
	if strings.HasPrefix(path, enterprisePrefix+"/") {
		rt.prefix = enterprisePrefix
		path = path[len(enterprisePrefix):]
	}
	if path == "/rate_limit" && method == http.MethodGet {
		rt.name = RouteRateLimit
		return rt
	}
	if mr, ok := parseMetaRoute(method, path); ok {
		mr.prefix = rt.prefix
		return mr
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if ort, ok := parseOwnerRoute(rt, method, seg); ok {
		return ort
	}
	var rest []string
	switch {
	case len(seg) >= 4 && seg[0] == "repos" && seg[1] != "" && seg[2] != "":
		rt.owner, rt.repo, rest = seg[1], seg[2], seg[3:]
	case len(seg) >= 3 && seg[0] == "repositories":
		id, ok := parseID(seg[1])
		if !ok {
			return rt
		}
		rt.repoID, rest = id, seg[2:]
	default:
		return parseAppRoute(method, seg, rt)
	}
	if len(rest) == 1 && rest[0] == "branches" && method == http.MethodGet {
		rt.name = RouteBranches
		return rt
	}
	if rest[0] != "actions" || len(rest) < 2 {
		return rt
	}
	switch {
	case rest[1] == "artifacts" && len(rest) == 2 && method == http.MethodGet:
		rt.name = RouteList
	case rest[1] == "artifacts" && len(rest) == 3:
		id, ok := parseID(rest[2])
		if !ok {
			return rt
		}
		rt.artifactID = id
		switch method {
		case http.MethodGet:
			rt.name = RouteGet
		case http.MethodDelete:
			rt.name = RouteDelete
		}
	case rest[1] == "artifacts" && len(rest) == 4 && method == http.MethodGet:
		id, ok := parseID(rest[2])
		if !ok {
			return rt
		}
		rt.artifactID, rt.format, rt.name = id, rest[3], RouteDownload
	case rest[1] == "runs" && len(rest) == 4 && rest[3] == "artifacts" && method == http.MethodGet:
		id, ok := parseID(rest[2])
		if !ok {
			return rt
		}
		rt.runID, rt.name = id, RouteListRun
	}
	return rt
}

// parseID parses a positive decimal id.
func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// repoFor finds the repository a route names; the caller holds s.mu.
func (s *Server) repoFor(rt route) *repository {
	if rt.byID() {
		return s.reposByID[rt.repoID]
	}
	return s.repos[strings.ToLower(rt.owner+"/"+rt.repo)]
}

func itoa(n int) string { return strconv.Itoa(n) }
