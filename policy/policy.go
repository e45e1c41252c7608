package policy

import (
	"slices"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
)

// Action is what a rule, or a decision, does with an artifact.
type Action string

// The two actions. A decision is Delete only when a delete rule matched, no
// keep rule kept the artifact and the safety net allowed it.
const (
	Keep   Action = "keep"
	Delete Action = "delete"
)

// GroupKey is an artifact field a keep_latest rule can group by. The
// repository is always part of the group and is not listed.
type GroupKey string

// The fields group_by accepts.
const (
	GroupName    GroupKey = "name"
	GroupBranch  GroupKey = "branch"
	GroupHeadSHA GroupKey = "head_sha"
)

// DefaultMinAge is safety.min_age when the file does not set it.
const DefaultMinAge = 24 * time.Hour

// Policy is a validated retention policy. Build it with Parse, ParseFile or
// Load: the matchers inside its rules are compiled there, and a hand-built
// Policy matches nothing.
type Policy struct {
	// File is the name the policy was parsed under ("<input>" for Parse).
	File string
	// SHA256 is the hex SHA-256 of the exact file bytes, so an audit record
	// can name the policy version that made a decision.
	SHA256 string
	// Version is the policy language version; only 1 exists.
	Version int
	// Repositories are the plain owner/name entries of the repositories
	// list that no exclusion removes, lower-case, deduplicated, in file
	// order. Patterns are in Selector, and resolved against GitHub at the
	// start of each run.
	Repositories []artifact.Repository
	// Selector is the whole repositories list, patterns and exclusions
	// included: which repositories the policy scans and decides on.
	Selector *Selector
	// IncludeArchived (include_archived: true) scans and reports archived
	// repositories that patterns match; they still get no deletions,
	// since GitHub refuses to delete their artifacts. By default they are
	// skipped.
	IncludeArchived bool
	// MinAge is safety.min_age: no artifact younger than this is deleted,
	// whatever the rules say.
	MinAge time.Duration
	// Rules are the rules in file order. Order never changes what is
	// deleted (keep always wins); it only picks which rule a decision names
	// when several apply.
	Rules []Rule

	// minAgeText is safety.min_age as written, for reasons.
	minAgeText string
}

// Rule is one keep or delete rule. A nil condition is absent; all present
// conditions must hold for the rule to match (they are ANDed).
type Rule struct {
	// Name is the rule's unique name (the YAML key "rule").
	Name   string
	Action Action

	// Repositories scopes the rule to repositories whose owner/name
	// matches (case-insensitive).
	Repositories *Patterns
	// ArtifactName matches the artifact's name (YAML key "name"),
	// case-sensitively.
	ArtifactName *Patterns
	// Branch matches the head branch of the artifact's workflow run,
	// case-sensitively. An artifact without a workflow run never matches.
	Branch *Patterns
	// OlderThan holds when the artifact's age is strictly greater.
	OlderThan *Duration
	// NewerThan holds when the artifact's age is strictly smaller.
	NewerThan *Duration
	// SizeGreaterThan holds when size_in_bytes is strictly greater.
	SizeGreaterThan *Size
	// SizeLessThan holds when size_in_bytes is strictly smaller.
	SizeLessThan *Size
	// Expired holds when the artifact's expired flag equals it.
	Expired *bool
	// BranchDeleted (YAML branch_deleted: true) holds when the artifact's
	// head branch is known to be gone from its repository: the latest
	// complete branch listing does not have it. It never holds for an
	// artifact without a branch or from a fork, and it is undecided when
	// the repository has no complete listing (see Evaluate).
	BranchDeleted bool

	// KeepLatest, on a keep rule, keeps only the KeepLatest newest matching
	// artifacts of each group; 0 keeps every match.
	KeepLatest int
	// GroupBy lists the fields that, with the repository, form a
	// keep_latest group.
	GroupBy []GroupKey

	// Archive, on a delete rule, asks the janitor to download the artifact
	// before deleting it.
	Archive bool
	// ArchiveRequired, on a delete rule with Archive, forbids deleting an
	// artifact that could not be archived (for example because it already
	// expired). It defaults to true.
	ArchiveRequired bool

	// Line and Column locate the rule in the policy file.
	Line, Column int

	// order lists the conditions as written, so reasons read like the rule.
	order []condKind
}

// Duration is an age threshold as written in the policy.
type Duration struct {
	Value time.Duration
	// Text is the threshold as written, e.g. "7d" or "1d12h".
	Text string
}

// Size is a size threshold as written in the policy.
type Size struct {
	// Bytes is the threshold rounded down to a whole byte.
	Bytes int64
	// Fractional reports that the written value was not a whole number of
	// bytes (e.g. "1.1KiB" is 1126.4 bytes); comparisons stay exact.
	Fractional bool
	// Text is the threshold as written, e.g. "500MB" or "1.5GiB".
	Text string

	// fraction holds the decimal digits of a fractional threshold ("4"
	// for 1126.4 bytes), for Describe.
	fraction string
}

// condKind names one condition of a rule.
type condKind uint8

const (
	condRepositories condKind = iota
	condName
	condBranch
	condOlderThan
	condNewerThan
	condSizeGreaterThan
	condSizeLessThan
	condExpired
	condBranchDeleted
)

// Selects reports whether the policy scans and decides on repo: a plain
// entry or a pattern includes it and no exclusion removes it.
func (p *Policy) Selects(repo artifact.Repository) bool {
	if p.Selector == nil {
		return slices.Contains(p.Repositories, repo)
	}
	return p.Selector.Match(string(repo))
}
