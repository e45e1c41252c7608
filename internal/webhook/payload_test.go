package webhook

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseWorkflowRun(t *testing.T) {
	t.Parallel()
	real, err := os.ReadFile("testdata/workflow_run_completed.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		body    string
		want    workflowRun
		wantErr string
	}{
		{
			name: "GitHub's payload",
			body: string(real),
			want: workflowRun{Action: "completed", Repository: "acme/api", RunID: 30433642, Name: "Build", HeadBranch: "main", Conclusion: "success"},
		},
		{
			name: "minimal",
			body: `{"action":"requested","workflow_run":{"id":7},"repository":{"full_name":"o/r"}}`,
			want: workflowRun{Action: "requested", Repository: "o/r", RunID: 7},
		},
		{name: "not JSON", body: `action=completed`, wantErr: "invalid character"},
		{name: "truncated", body: string(real[:len(real)/2]), wantErr: "unexpected end"},
		{name: "empty", body: ``, wantErr: "unexpected end"},
		{name: "array", body: `[]`, wantErr: "cannot unmarshal"},
		{name: "null", body: `null`, wantErr: "no action"},
		{name: "no action", body: `{"workflow_run":{"id":7},"repository":{"full_name":"o/r"}}`, wantErr: "no action"},
		{name: "null workflow_run", body: `{"action":"completed","workflow_run":null,"repository":{"full_name":"o/r"}}`, wantErr: "no workflow_run.id"},
		{name: "zero run id", body: `{"action":"completed","workflow_run":{"id":0},"repository":{"full_name":"o/r"}}`, wantErr: "no workflow_run.id"},
		{name: "run id as string", body: `{"action":"completed","workflow_run":{"id":"7"},"repository":{"full_name":"o/r"}}`, wantErr: "cannot unmarshal"},
		{name: "no repository", body: `{"action":"completed","workflow_run":{"id":7}}`, wantErr: "no repository"},
		{name: "bad full_name", body: `{"action":"completed","workflow_run":{"id":7},"repository":{"full_name":"o/r/x"}}`, wantErr: "repository.full_name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseWorkflowRun([]byte(tc.body))
			if tc.wantErr != "" {
				if !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want ErrBadPayload mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseWorkflowRun(f *testing.F) {
	real, err := os.ReadFile("testdata/workflow_run_completed.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Add([]byte(`{"action":"completed","workflow_run":{"id":7},"repository":{"full_name":"O/R"}}`))
	f.Add([]byte(`{"action":"","workflow_run":{"id":-1},"repository":{"full_name":"/"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := parseWorkflowRun(body)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error %v does not wrap ErrBadPayload", err)
			}
			return
		}
		// What the handler relies on when the parse succeeds.
		if got.Action == "" || got.RunID <= 0 || string(got.Repository) != strings.ToLower(string(got.Repository)) || strings.Count(string(got.Repository), "/") != 1 {
			t.Fatalf("parse accepted an unusable payload: %+v", got)
		}
	})
}
