package artifact

// BranchState is what retentiond knows about whether an artifact's head
// branch still exists in its repository. It is not part of GitHub's
// artifact object: the runner fills it from the repository's latest branch
// listing before evaluating a policy that asks (branch_deleted), and it is
// never stored with the artifact.
type BranchState uint8

// The states. The zero value is BranchUnknown, so an artifact nobody looked
// up is never taken for one whose branch is gone.
const (
	// BranchUnknown: no complete branch listing of the repository (none
	// made yet, or the latest failed).
	BranchUnknown BranchState = iota
	// BranchExists: the latest complete listing has the branch.
	BranchExists
	// BranchDeleted: the latest complete listing does not have it.
	BranchDeleted
)

// FromFork reports whether the artifact's workflow run came from a fork:
// its head repository is not the repository. Its Branch then names a
// branch of the fork, which this repository's branch list cannot confirm
// or deny.
func (a *Artifact) FromFork() bool {
	return a.HeadRepositoryID != 0 && a.RepositoryID != 0 && a.HeadRepositoryID != a.RepositoryID
}
