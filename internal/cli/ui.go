package cli

import (
	"log/slog"
	"net/http"

	"github.com/retentiond/retentiond/internal/ui"
)

// uiHandler returns serve's review page, to mount on ui.Patterns, or nil
// with UI=false.
func (a *app) uiHandler(e *Env) http.Handler {
	if !a.cfg.UI.Enabled {
		return nil
	}
	return ui.Handler(ui.Options{
		Store:  a.store,
		Clock:  e.Clock,
		Logger: a.logger.With(slog.String("component", "ui")),
		Access: ui.Access{Users: a.cfg.UI.Users, Token: []byte(a.cfg.UI.Token.Reveal())},
	})
}
