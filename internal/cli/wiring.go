package cli

import (
	"github.com/retentiond/retentiond/internal/archive"
	"github.com/retentiond/retentiond/internal/discovery"
	"github.com/retentiond/retentiond/internal/github"
	"github.com/retentiond/retentiond/internal/runner"
	"github.com/retentiond/retentiond/internal/store"
	"github.com/retentiond/retentiond/internal/webhook"
	"github.com/retentiond/retentiond/janitor"
	"github.com/retentiond/retentiond/scanner"
)

// The packages declare the small interfaces they need; this is where the
// implementations meet them, so the consumers never import their producers
// just to say so.
var (
	_ scanner.Lister      = (*github.Client)(nil)
	_ scanner.Store       = (*store.Store)(nil)
	_ janitor.GitHub      = (*github.Client)(nil)
	_ janitor.Store       = (*store.Store)(nil)
	_ archive.Downloader  = (*github.Client)(nil)
	_ webhook.Scanner     = (*scanner.Scanner)(nil)
	_ webhook.Deliveries  = (*store.Store)(nil)
	_ discovery.Lister    = (*github.Client)(nil)
	_ discovery.Store     = (*store.Store)(nil)
	_ runner.Resolver     = (*discovery.Resolver)(nil)
	_ runner.BudgetReader = (*github.Client)(nil)
	_ discovery.Lister    = discovery.InstallationLister{}
)
