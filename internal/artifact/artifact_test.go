package artifact

import (
	"errors"
	"testing"
	"time"
)

func TestParseRepository(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Repository{
		"octo/api":       "octo/api",
		"Octo-Org/API":   "octo-org/api",
		" octo/web.git ": "octo/web",
	} {
		got, err := ParseRepository(in)
		if err != nil || got != want {
			t.Errorf("ParseRepository(%q) = %q, %v; want %q", in, got, err, want)
		}
		if got.Owner()+"/"+got.Name() != string(want) || got.String() != string(want) {
			t.Errorf("%q: owner %q, name %q, string %q", in, got.Owner(), got.Name(), got.String())
		}
	}
	for _, in := range []string{"", "octo", "/api", "octo/", "octo/api/x", "octo/a b", "octo/api?x", "octo/.git"} {
		if got, err := ParseRepository(in); !errors.Is(err, ErrBadRepository) {
			t.Errorf("ParseRepository(%q) = %q, %v; want ErrBadRepository", in, got, err)
		}
	}
}

func TestExpiredAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		a    Artifact
		want bool
	}{
		{Artifact{}, false},
		{Artifact{Expired: true}, true},
		{Artifact{ExpiresAt: now}, true},
		{Artifact{ExpiresAt: now.Add(-time.Second)}, true},
		{Artifact{ExpiresAt: now.Add(time.Second)}, false},
	}
	for _, tt := range tests {
		if got := tt.a.ExpiredAt(now); got != tt.want {
			t.Errorf("%+v.ExpiredAt = %v, want %v", tt.a, got, tt.want)
		}
	}
}
