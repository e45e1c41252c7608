package githubsim

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bodies of the App endpoints, in GitHub's shapes (the members a client
// reads; GitHub sends more).
type (
	jsonAccount struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
		Type  string `json:"type"`
	}
	jsonInstallation struct {
		ID                  int64             `json:"id"`
		Account             jsonAccount       `json:"account"`
		AppID               int64             `json:"app_id"`
		TargetType          string            `json:"target_type"`
		RepositorySelection string            `json:"repository_selection"`
		AccessTokensURL     string            `json:"access_tokens_url"`
		RepositoriesURL     string            `json:"repositories_url"`
		Permissions         map[string]string `json:"permissions"`
	}
	jsonAccessToken struct {
		Token               string            `json:"token"`
		ExpiresAt           string            `json:"expires_at"`
		Permissions         map[string]string `json:"permissions"`
		RepositorySelection string            `json:"repository_selection"`
	}
	jsonRepository struct {
		ID       int64       `json:"id"`
		NodeID   string      `json:"node_id"`
		Name     string      `json:"name"`
		FullName string      `json:"full_name"`
		Owner    jsonAccount `json:"owner"`
		Private  bool        `json:"private"`
		Archived bool        `json:"archived"`
		Disabled bool        `json:"disabled"`
		Fork     bool        `json:"fork"`
		URL      string      `json:"url"`
	}
	jsonRepositoryList struct {
		TotalCount          int              `json:"total_count"`
		RepositorySelection string           `json:"repository_selection"`
		Repositories        []jsonRepository `json:"repositories"`
	}
	jsonRate struct {
		Limit     int    `json:"limit"`
		Remaining int    `json:"remaining"`
		Reset     int64  `json:"reset"`
		Used      int    `json:"used"`
		Resource  string `json:"resource"`
	}
)

// appPermissions are what the simulated App was granted: what retentiond
// needs.
var appPermissions = map[string]string{"actions": "write", "metadata": "read"}

func writeJSONValue(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeJSON(w, status, b)
}

// serveAppInstallations lists the App's installations, paginated.
func (s *Server) serveAppInstallations(c *call) {
	q := parseListQuery(c.r.URL.RawQuery)
	all := s.sortedInstallations(c.cred.app)
	start, end, last := pageWindow(len(all), q.perPage, q.page)
	out := make([]jsonInstallation, 0, end-start)
	for _, inst := range all[start:end] {
		out = append(out, jsonInstallation{
			ID:                  inst.id,
			Account:             jsonAccount{Login: inst.account, ID: inst.id + 1_000_000, Type: "Organization"},
			AppID:               inst.app.id,
			TargetType:          "Organization",
			RepositorySelection: "all",
			AccessTokensURL:     c.base + "/app/installations/" + strconv.FormatInt(inst.id, 10) + "/access_tokens",
			RepositoriesURL:     c.base + "/installation/repositories",
			Permissions:         appPermissions,
		})
	}
	if link := linkHeader(c.base+"/app/installations", q.linkQuery, q.page, last); link != "" {
		c.w.Header().Set("Link", link)
	}
	writeJSONValue(c.w, http.StatusOK, out)
}

// serveAccessToken issues an installation token that expires an hour later
// on the simulator's clock. An installation of another App is 404.
func (s *Server) serveAccessToken(c *call) {
	now := s.clock.Now()
	a := &s.apps
	a.mu.Lock()
	inst := a.insts[c.rt.installation]
	if inst == nil || inst.app != c.cred.app {
		a.mu.Unlock()
		writeError(c.w, http.StatusNotFound, "Not Found", docApps+"#create-an-installation-access-token-for-an-app", true)
		return
	}
	tok := newInstallationToken()
	expires := now.Add(InstallationTokenLifetime).Truncate(time.Second)
	if a.tokens == nil {
		a.tokens = map[string]*instToken{}
	}
	a.tokens[tok] = &instToken{inst: inst, expires: expires}
	inst.issued++
	a.mu.Unlock()
	writeJSONValue(c.w, http.StatusCreated, jsonAccessToken{
		Token:               tok,
		ExpiresAt:           expires.UTC().Format(time.RFC3339),
		Permissions:         appPermissions,
		RepositorySelection: "all",
	})
}

// serveInstallationRepos lists the repositories of the token's installation,
// by id, paginated, with total_count.
func (s *Server) serveInstallationRepos(c *call) {
	q := parseListQuery(c.r.URL.RawQuery)
	owner := c.cred.inst.owner
	s.mu.RLock()
	// Copies, so that the flags are read under s.mu.
	var repos []repository
	for key, r := range s.repos {
		if o, _, _ := strings.Cut(key, "/"); o == owner {
			repos = append(repos, repository{id: r.id, display: r.display, archived: r.archived})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(repos, func(a, b repository) int { return cmp.Compare(a.id, b.id) })

	start, end, last := pageWindow(len(repos), q.perPage, q.page)
	body := jsonRepositoryList{TotalCount: len(repos), RepositorySelection: "all", Repositories: []jsonRepository{}}
	s.apps.mu.Lock()
	for _, r := range repos[start:end] {
		ownerName, name, _ := strings.Cut(r.display, "/")
		body.Repositories = append(body.Repositories, jsonRepository{
			ID:       r.id,
			NodeID:   "R_" + strconv.FormatInt(r.id, 36),
			Name:     name,
			FullName: r.display,
			Owner:    jsonAccount{Login: ownerName, ID: c.cred.inst.id + 1_000_000, Type: "Organization"},
			Private:  true,
			Archived: r.archived,
			URL:      c.base + "/repos/" + r.display,
		})
	}
	s.apps.mu.Unlock()
	if link := linkHeader(c.base+"/installation/repositories", q.linkQuery, q.page, last); link != "" {
		c.w.Header().Set("Link", link)
	}
	writeJSONValue(c.w, http.StatusOK, body)
}

// serveRateLimit reports the budget of the request's credentials. GitHub
// does not count GET /rate_limit against it.
func (s *Server) serveRateLimit(c *call) {
	snap := s.peekBudget(s.budget(c.cred))
	setRateHeaders(c.w.Header(), snap)
	core := jsonRate{Limit: snap.limit, Remaining: snap.remaining, Reset: snap.reset, Used: snap.used, Resource: "core"}
	writeJSONValue(c.w, http.StatusOK, map[string]any{
		"resources": map[string]jsonRate{"core": core},
		"rate":      core,
	})
}
