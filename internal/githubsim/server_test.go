package githubsim

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDebugLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, _ := newSim(t, Options{Token: "s3cret", Logger: log})
	seed(s, "octo/app", 1)
	serve(t, s, "GET", "/repos/octo/app/actions/artifacts", "Authorization", "Bearer s3cret")
	serve(t, s, "GET", "/repos/octo/app/actions/artifacts")
	if strings.Contains(buf.String(), "s3cret") {
		t.Fatal("the token was logged")
	}
	type record struct {
		Component string `json:"component"`
		Msg       string `json:"msg"`
		Route     string `json:"route"`
		Status    int    `json:"status"`
	}
	var got []record
	for line := range strings.Lines(buf.String()) {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		got = append(got, r)
	}
	want := []record{{"githubsim", "request", "list", 200}, {"githubsim", "request", "list", 401}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}
