package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/retentiond/retentiond/internal/config"
)

func migrateCommand() *command {
	return &command{
		name:    "migrate",
		summary: "Apply the database migrations and exit",
		help: `Brings the database schema up to the version this retentiond needs, under an
advisory lock, and exits. serve, run, apply, scan and demo migrate on start
too; the read-only commands (audit, plan) never do: they say to run this.`,
		config: []config.Concern{config.DatabaseConcern, config.LogConcern},
		bind: func(*flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(ctx context.Context, e *Env, args []string) error {
				if len(args) != 0 {
					return usagef("migrate takes no arguments")
				}
				_, closeFn, err := setup(ctx, e, needs{db: true, migrate: true})
				if err != nil {
					return err
				}
				defer closeFn()
				fmt.Fprintln(e.Stdout, "database is migrated")
				return nil
			}
		},
	}
}
