package webhook_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/retentiond/retentiond/internal/webhook"
	"github.com/retentiond/retentiond/policy"
)

// A policy of patterns names no repository in its plain list: its
// selector decides which events are scanned.
func TestSelectsDecidesWithPatterns(t *testing.T) {
	t.Parallel()
	p, err := policy.Parse([]byte("version: 1\nrepositories: [\"acme/*\", \"!acme/api\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, webhook.Config{Selects: p.Selects})
	f.addRuns(1, 501)
	// acme/api is excluded: ignored, though Repositories lists it.
	status, body := f.post(t, completed(t, "guid-excluded", 501))
	f.h.Wait()
	if status != http.StatusAccepted || !strings.Contains(body, "not in the policy") {
		t.Errorf("excluded repository: %d %s", status, body)
	}
	p, err = policy.Parse([]byte("version: 1\nrepositories: [\"acme/*\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	g := newFixture(t, webhook.Config{Selects: p.Selects})
	g.addRuns(1, 501)
	status, body = g.post(t, completed(t, "guid-pattern", 501))
	g.h.Wait()
	if status != http.StatusAccepted || strings.Contains(body, "not in the policy") || len(g.liveIDs(t)) != 1 {
		t.Errorf("pattern-matched repository: %d %s, %d artifacts recorded", status, body, len(g.liveIDs(t)))
	}
}
