// Package policy is retentiond's retention policy language: it loads a
// YAML policy, validates all of it up front, and decides for every
// artifact whether to keep or delete it, and why.
//
// The package is pure. Load is its only I/O (reading the file); Evaluate
// takes the artifacts and the current time and returns decisions, so a dry
// run and a real run given the same input decide exactly the same.
//
// A policy lists the repositories to scan, a safety net and rules:
//
//	version: 1
//	repositories: [octo-org/api]
//	safety:
//	  min_age: 24h
//	rules:
//	  - rule: keep-latest-per-branch
//	    action: keep
//	    keep_latest: 3
//	    group_by: [name, branch]
//	  - rule: old-test-results
//	    action: delete
//	    name: ["test-results-*", "coverage-*"]
//	    older_than: 7d
//
// The rule's own name is the key "rule"; "name" is the condition on the
// artifact's name. The conditions of a rule are ANDed. An artifact is
// deleted when at least one delete rule matches it, no keep rule keeps it,
// its creation time is known and it is at least safety.min_age old;
// otherwise it is kept. Keep always wins, whatever the order of the rules;
// order only chooses which rule a decision names. keep_latest keeps the N
// newest (by created_at, ties broken by the larger id, unknown creation
// times oldest) of each group among the artifacts matching that rule's
// own conditions, never among some other rule's candidates.
//
// The mistakes other cleaners' users hit are ruled out by construction:
// keep-N is counted over a set the keep rule names itself, "newest" has one
// total order that ignores input order and updated_at, and there is a
// single Evaluate for dry and real runs.
package policy
