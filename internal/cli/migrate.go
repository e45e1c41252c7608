package cli

import (
	"context"
	"flag"
	"fmt"
)

func init() {
	register(&command{
		name:    "migrate",
		summary: "Apply the database migrations and exit",
		help: `Every command that uses the database migrates it first, under an advisory
lock, so this is only needed to migrate ahead of a deployment.`,
		vars: []string{"DATABASE_URL"},
		run: func(ctx context.Context, e *Env, _ *flag.FlagSet, _ any) error {
			_, closeFn, err := setup(ctx, e, needs{db: true})
			if err != nil {
				return err
			}
			defer closeFn()
			fmt.Fprintln(e.Stdout, "database is migrated")
			return nil
		},
	})
}
