package githubsim

import (
	"net/http"
	"strconv"
)

// RouteRateLimit is GET /rate_limit, which GitHub serves without counting
// it against the primary limit.
const RouteRateLimit = "rate_limit"

// serveRateLimit answers GET /rate_limit with the core budget, in the body's
// resources.core and rate members and in the usual headers, without
// spending any of it.
func (s *Server) serveRateLimit(c *call) {
	snap := s.peekRate()
	setRateHeaders(c.w.Header(), snap)
	core := make([]byte, 0, 96)
	core = append(core, `{"limit":`...)
	core = strconv.AppendInt(core, int64(snap.limit), 10)
	core = append(core, `,"used":`...)
	core = strconv.AppendInt(core, int64(snap.used), 10)
	core = append(core, `,"remaining":`...)
	core = strconv.AppendInt(core, int64(snap.remaining), 10)
	core = append(core, `,"reset":`...)
	core = strconv.AppendInt(core, snap.reset, 10)
	core = append(core, `,"resource":"core"}`...)
	b := make([]byte, 0, 2*len(core)+48)
	b = append(b, `{"resources":{"core":`...)
	b = append(b, core...)
	b = append(b, `},"rate":`...)
	b = append(b, core...)
	b = append(b, '}')
	writeJSON(c.w, http.StatusOK, b)
}
