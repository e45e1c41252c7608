package policy

import (
	"slices"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
)

// Names that Decision.Rule takes when no rule of the policy decided.
const (
	// RuleSafety decides when a delete rule matched but the artifact is
	// younger than safety.min_age or its creation time is unknown.
	RuleSafety = "safety.min_age"
	// RuleNotInPolicy decides for an artifact of a repository the policy
	// does not list: retentiond never deletes outside the policy's scope,
	// even when a stale list of artifacts says otherwise.
	RuleNotInPolicy = "policy.repositories"
)

// Decision is what the policy decided for one artifact and why.
type Decision struct {
	Action Action
	// Rule names what decided:
	//   - a keep rule's name when that rule kept the artifact (the first
	//     such rule in file order);
	//   - a delete rule's name when the artifact is deleted (the first
	//     matching delete rule in file order);
	//   - RuleSafety when a delete rule matched but safety.min_age, or an
	//     unknown creation time, kept it;
	//   - RuleNotInPolicy when the artifact's repository is not listed;
	//   - RuleBranchUnknown when only a delete rule with branch_deleted
	//     could have deleted it and its repository has no complete branch
	//     listing;
	//   - "" when no delete rule matched, so there was nothing to decide.
	Rule string
	// Reason is one line a person can read, e.g.
	// "matched delete rule old-test-results: name test-results-* and older than 7d (9d12h)".
	Reason string
	// Archive and ArchiveRequired are copied from the deciding delete
	// rule; both are false unless Action is Delete.
	Archive         bool
	ArchiveRequired bool
}

// Reasons for decisions that no rule made.
const (
	reasonNoDeleteRule = "no delete rule matched"
	reasonUnknownTime  = "creation time unknown; kept by safety"
)

// Evaluate decides every artifact: decisions[i] is for arts[i]. It is
// pure: it reads arts (never modifies them), depends on nothing but its
// arguments, and gives each artifact the same decision whatever the order
// of arts.
//
// The decision for an artifact is:
//  1. keep, when its repository is not one of the policy's repositories;
//  2. keep, when a keep rule keeps it (keep always wins);
//  3. keep, when no delete rule matches it (a rule with branch_deleted
//     matches only when the artifact's BranchState says its branch is
//     gone; when its repository has no complete branch listing, such a
//     rule decides nothing and the artifact is kept, naming the rule);
//  4. keep, when its creation time is unknown or it is younger than
//     safety.min_age;
//  5. delete otherwise.
//
// keep_latest ranks the artifacts matching the rule's conditions within
// their group, so arts must hold every current artifact of each
// repository: evaluating page by page would count keep_latest over the
// wrong set. Artifacts of several repositories may be mixed; the
// repository is always part of a group.
//
// Evaluate is safe to call concurrently with the same Policy. The
// decisions are the caller's: each Reason is a string of its own, shared
// with nothing else.
func Evaluate(p *Policy, arts []artifact.Artifact, now time.Time) []Decision {
	e := newEvaluation(p, arts, now)
	out := make([]Decision, len(arts))
	var keepRules, deleteRules []int
	for ri := range p.Rules {
		switch p.Rules[ri].Action {
		case Keep:
			keepRules = append(keepRules, ri)
			if p.Rules[ri].KeepLatest > 0 {
				e.rankLatest(ri)
			}
		case Delete:
			deleteRules = append(deleteRules, ri)
		}
	}
	minAgeReason := "younger than safety.min_age " + p.minAgeString()
	for i := range arts {
		d := &out[i]
		d.Action = Keep
		repo := &e.repos[e.repoIdx[i]]
		if !repo.listed {
			d.Rule = RuleNotInPolicy
			d.Reason = repo.notListedReason
			continue
		}
		if ri := e.firstKeep(keepRules, i); ri >= 0 {
			d.Rule = p.Rules[ri].Name
			d.Reason = e.keepReason(ri, i)
			continue
		}
		// A keep rule that might keep it, were its branches known, keeps
		// it: keep wins, and an unknown is not a no.
		if ri := e.firstUndecided(keepRules, i); ri >= 0 {
			d.Rule = p.Rules[ri].Name
			d.Reason = e.undecidedReason(ri, i)
			continue
		}
		ri := e.firstDelete(deleteRules, i)
		switch {
		case ri < 0:
			d.Reason = reasonNoDeleteRule
			if bi := e.firstUndecided(deleteRules, i); bi >= 0 {
				d.Rule = RuleBranchUnknown
				d.Reason = e.undecidedReason(bi, i)
			}
		case arts[i].CreatedAt.IsZero():
			d.Rule = RuleSafety
			d.Reason = reasonUnknownTime
		case e.ages[i] < p.MinAge:
			d.Rule = RuleSafety
			d.Reason = minAgeReason
		default:
			r := &p.Rules[ri]
			d.Action = Delete
			d.Rule = r.Name
			d.Reason = e.deleteReason(ri, i)
			d.Archive = r.Archive
			d.ArchiveRequired = r.Archive && r.ArchiveRequired
		}
	}
	return out
}

// minAgeString is safety.min_age as written, or Go's notation for it.
func (p *Policy) minAgeString() string {
	if p.minAgeText != "" {
		return p.minAgeText
	}
	return trimZeroUnits(p.MinAge.String())
}

// evaluation holds what Evaluate computes once per call.
type evaluation struct {
	p    *Policy
	arts []artifact.Artifact
	now  time.Time

	repoIdx []int32 // per artifact, into repos
	repos   []repoInfo
	ages    []time.Duration // per artifact; meaningless when CreatedAt is zero

	order  []newness      // per artifact, when a rule has keep_latest
	latest []*latestRanks // per rule; nil for rules without keep_latest

	scratch []byte // where reasons are built
}

// repoInfo is what is known about one distinct repository of the input.
type repoInfo struct {
	name            string // lower-case owner/name
	listed          bool
	ruleOK          []bool // per rule: its repositories condition holds
	notListedReason string
}

func newEvaluation(p *Policy, arts []artifact.Artifact, now time.Time) *evaluation {
	e := &evaluation{
		p:       p,
		arts:    arts,
		now:     now,
		repoIdx: make([]int32, len(arts)),
		ages:    make([]time.Duration, len(arts)),
		latest:  make([]*latestRanks, len(p.Rules)),
		scratch: make([]byte, 0, 256),
	}
	if slices.ContainsFunc(p.Rules, func(r Rule) bool { return r.KeepLatest > 0 }) {
		e.order = make([]newness, len(arts))
	}
	index := map[string]int32{}
	last, lastIdx := "", int32(-1)
	for i := range arts {
		a := &arts[i]
		if !a.CreatedAt.IsZero() {
			e.ages[i] = now.Sub(a.CreatedAt)
		}
		if e.order != nil {
			e.order[i] = newnessKey(a.CreatedAt, a.ID)
		}
		// Inputs come a repository at a time, so the previous answer is
		// almost always the right one.
		if lastIdx >= 0 && string(a.Repository) == last {
			e.repoIdx[i] = lastIdx
			continue
		}
		idx, ok := index[string(a.Repository)]
		if !ok {
			idx = int32(len(e.repos))
			index[string(a.Repository)] = idx
			e.repos = append(e.repos, newRepoInfo(p, string(a.Repository)))
		}
		e.repoIdx[i] = idx
		last, lastIdx = string(a.Repository), idx
	}
	return e
}

func newRepoInfo(p *Policy, repo string) repoInfo {
	name := strings.ToLower(repo)
	// Once per distinct repository of the input, not per artifact, so
	// patterns cost nothing at a million artifacts.
	info := repoInfo{name: name, listed: p.Selects(artifact.Repository(name)), ruleOK: make([]bool, len(p.Rules))}
	excludedBy := p.Selector.Explain(name).ExcludedBy
	for ri := range p.Rules {
		info.ruleOK[ri] = p.Rules[ri].Repositories.Match(name)
	}
	if !info.listed {
		info.notListedReason = "repository " + name + " is not in the policy's repositories"
		if excludedBy != nil {
			info.notListedReason = "repository " + name + " is excluded by the policy's repositories entry " + excludedBy.Text
		}
	}
	return info
}

// matches reports whether every condition of rule ri holds for arts[i].
func (e *evaluation) matches(ri, i int) bool { return e.matchesExcept(ri, i, false) }

// matchesExcept is matches, leaving branch_deleted out when skipBranch is
// set (to tell whether it alone is what is undecided).
func (e *evaluation) matchesExcept(ri, i int, skipBranch bool) bool {
	r := &e.p.Rules[ri]
	a := &e.arts[i]
	if r.Repositories != nil && !e.repos[e.repoIdx[i]].ruleOK[ri] {
		return false
	}
	if r.ArtifactName != nil && r.ArtifactName.matchIndex(a.Name) < 0 {
		return false
	}
	if r.Branch != nil && (a.Branch == "" || r.Branch.matchIndex(a.Branch) < 0) {
		return false
	}
	if r.OlderThan != nil || r.NewerThan != nil {
		// An unknown creation time satisfies no age condition.
		if a.CreatedAt.IsZero() {
			return false
		}
		if r.OlderThan != nil && e.ages[i] <= r.OlderThan.Value {
			return false
		}
		if r.NewerThan != nil && e.ages[i] >= r.NewerThan.Value {
			return false
		}
	}
	if r.SizeGreaterThan != nil && !r.SizeGreaterThan.greater(a.SizeInBytes) {
		return false
	}
	if r.SizeLessThan != nil && !r.SizeLessThan.less(a.SizeInBytes) {
		return false
	}
	if r.Expired != nil && a.Expired != *r.Expired {
		return false
	}
	if r.BranchDeleted && !skipBranch && branchDeletedVerdict(a) != branchYes {
		return false
	}
	return true
}

// firstKeep returns the first keep rule, in file order, that keeps arts[i],
// or -1.
func (e *evaluation) firstKeep(keepRules []int, i int) int {
	for _, ri := range keepRules {
		if l := e.latest[ri]; l != nil {
			if l.rank[i] > 0 {
				return ri
			}
			continue
		}
		if e.matches(ri, i) {
			return ri
		}
	}
	return -1
}

// firstDelete returns the first delete rule, in file order, that matches
// arts[i], or -1.
func (e *evaluation) firstDelete(deleteRules []int, i int) int {
	for _, ri := range deleteRules {
		if e.matches(ri, i) {
			return ri
		}
	}
	return -1
}
