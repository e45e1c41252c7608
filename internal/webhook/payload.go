package webhook

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-github/v92/github"

	"github.com/retentiond/retentiond/internal/artifact"
)

// ErrBadPayload means a workflow_run payload could not be used: it is not
// JSON, or lacks the action, the run's id or the repository's name.
var ErrBadPayload = errors.New("malformed workflow_run payload")

// workflowRun is what retentiond uses of a workflow_run event. GitHub's
// payload is ~30 KB; everything else in it is ignored.
type workflowRun struct {
	Action     string
	Repository artifact.Repository
	RunID      int64
	// For logs only.
	Name       string
	HeadBranch string
	Conclusion string
}

// parseWorkflowRun decodes a workflow_run event's payload into go-github's
// WorkflowRunEvent and checks the fields the handler cannot do without,
// which go-github leaves as optional pointers. The error wraps
// ErrBadPayload.
//
// github.ParseWebHook is not used: the handler has already switched on the
// event's name, so it would only add a lookup and a type assertion, and it
// returns no event and no error for the payload null.
func parseWorkflowRun(body []byte) (workflowRun, error) {
	var e github.WorkflowRunEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return workflowRun{}, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	switch {
	case e.GetAction() == "":
		return workflowRun{}, fmt.Errorf("%w: no action", ErrBadPayload)
	case e.GetWorkflowRun().GetID() <= 0:
		return workflowRun{}, fmt.Errorf("%w: no workflow_run.id", ErrBadPayload)
	case e.Repo == nil:
		return workflowRun{}, fmt.Errorf("%w: no repository", ErrBadPayload)
	}
	repo, err := artifact.ParseRepository(e.Repo.GetFullName())
	if err != nil {
		return workflowRun{}, fmt.Errorf("%w: repository.full_name: %w", ErrBadPayload, err)
	}
	run := e.GetWorkflowRun()
	return workflowRun{
		Action:     e.GetAction(),
		Repository: repo,
		RunID:      run.GetID(),
		Name:       run.GetName(),
		HeadBranch: run.GetHeadBranch(),
		Conclusion: run.GetConclusion(),
	}, nil
}
