package policy

import (
	"github.com/retentiond/retentiond/internal/artifact"
)

// RuleBranchUnknown decides when a delete rule with branch_deleted would
// otherwise have decided, but whether the branch is gone is not known: the
// repository has no complete branch listing. Such an artifact is kept, as
// an artifact of a repository whose scan failed is.
const RuleBranchUnknown = "policy.branch_deleted"

// UsesBranchDeleted reports whether a rule that applies to repo has
// branch_deleted, so its branches must be listed before evaluating.
func (p *Policy) UsesBranchDeleted(repo artifact.Repository) bool {
	for i := range p.Rules {
		if r := &p.Rules[i]; r.BranchDeleted && r.Repositories.Match(string(repo)) {
			return true
		}
	}
	return false
}

// branchVerdict is what branch_deleted says of an artifact.
type branchVerdict uint8

const (
	branchNo branchVerdict = iota
	branchYes
	branchUndecided
)

// branchDeletedVerdict: an artifact without a branch never matches, nor
// does one from a fork (its branch is the fork's, which this repository's
// list cannot tell about); otherwise the latest listing decides, and with
// no complete listing nothing does.
func branchDeletedVerdict(a *artifact.Artifact) branchVerdict {
	if a.Branch == "" || a.FromFork() {
		return branchNo
	}
	switch a.BranchState {
	case artifact.BranchDeleted:
		return branchYes
	case artifact.BranchExists:
		return branchNo
	}
	return branchUndecided
}

// firstUndecided returns the first rule of rules with branch_deleted whose
// other conditions hold for arts[i] but whose branch_deleted is undecided,
// or -1.
func (e *evaluation) firstUndecided(rules []int, i int) int {
	if branchDeletedVerdict(&e.arts[i]) != branchUndecided {
		return -1
	}
	for _, ri := range rules {
		if e.p.Rules[ri].BranchDeleted && e.matchesExcept(ri, i, true) {
			return ri
		}
	}
	return -1
}

// undecidedReason explains a decision that branch_deleted could not make.
func (e *evaluation) undecidedReason(ri, i int) string {
	r := &e.p.Rules[ri]
	a := &e.arts[i]
	buf := e.scratch[:0]
	if r.Action == Keep {
		buf = append(buf, "kept by "...)
		buf = append(buf, r.Name...)
		buf = append(buf, ": unknown whether branch "...)
	} else {
		buf = append(buf, "kept: delete rule "...)
		buf = append(buf, r.Name...)
		buf = append(buf, " needs to know whether branch "...)
	}
	buf = append(buf, a.Branch...)
	buf = append(buf, " still exists, and "...)
	buf = append(buf, e.repos[e.repoIdx[i]].name...)
	buf = append(buf, " has no complete branch listing"...)
	e.scratch = buf
	return string(buf)
}
