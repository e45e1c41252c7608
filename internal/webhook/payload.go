package webhook

import (
	"encoding/json"
	"errors"
	"fmt"

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

// parseWorkflowRun decodes a workflow_run event's payload. The error wraps
// ErrBadPayload.
func parseWorkflowRun(body []byte) (workflowRun, error) {
	var p struct {
		Action      *string `json:"action"`
		WorkflowRun *struct {
			ID         int64  `json:"id"`
			Name       string `json:"name"`
			HeadBranch string `json:"head_branch"`
			Conclusion string `json:"conclusion"`
		} `json:"workflow_run"`
		Repository *struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return workflowRun{}, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	switch {
	case p.Action == nil || *p.Action == "":
		return workflowRun{}, fmt.Errorf("%w: no action", ErrBadPayload)
	case p.WorkflowRun == nil || p.WorkflowRun.ID <= 0:
		return workflowRun{}, fmt.Errorf("%w: no workflow_run.id", ErrBadPayload)
	case p.Repository == nil:
		return workflowRun{}, fmt.Errorf("%w: no repository", ErrBadPayload)
	}
	repo, err := artifact.ParseRepository(p.Repository.FullName)
	if err != nil {
		return workflowRun{}, fmt.Errorf("%w: repository.full_name: %w", ErrBadPayload, err)
	}
	return workflowRun{
		Action:     *p.Action,
		Repository: repo,
		RunID:      p.WorkflowRun.ID,
		Name:       p.WorkflowRun.Name,
		HeadBranch: p.WorkflowRun.HeadBranch,
		Conclusion: p.WorkflowRun.Conclusion,
	}, nil
}
