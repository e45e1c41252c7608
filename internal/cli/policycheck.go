package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/retentiond/retentiond/policy"
)

func policyCommand() *command {
	return &command{
		name:    "policy",
		args:    "check FILE",
		summary: "Validate a policy file and summarise its rules",
		help: `'policy check FILE' prints a readable summary of the rules and exits 0, or
prints every error with file, line and column and exits 2.`,
		bind: func(*flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(_ context.Context, e *Env, args []string) error {
				if len(args) != 2 || args[0] != "check" {
					return usagef("usage: retentiond policy check FILE")
				}
				p, err := policy.Load(args[1])
				var pe policy.ErrorList
				if err != nil && !errors.As(err, &pe) {
					// A file that cannot be read is a usage error too: exit 2.
					return usagef("policy check %s: %v", args[1], err)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(e.Stdout, "%s: OK\n\n", args[1])
				return policy.Describe(e.Stdout, p)
			}
		},
	}
}
