package store_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/retentiond/retentiond/internal/store"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(port)
}

func TestOpenErrorsNameTheServerButNotThePassword(t *testing.T) {
	t.Parallel()
	const password = "hunter2-secret"
	port := closedPort(t)
	tests := []struct {
		name     string
		url      string
		mentions []string
	}{
		{
			name:     "unreachable URL",
			url:      "postgres://alice:" + password + "@127.0.0.1:" + port + "/retentiond?sslmode=disable",
			mentions: []string{"127.0.0.1:" + port, `"retentiond"`, `"alice"`},
		},
		{
			name:     "unreachable key=value",
			url:      "host=127.0.0.1 port=" + port + " dbname=retentiond user=alice password=" + password + " sslmode=disable",
			mentions: []string{"127.0.0.1:" + port, `"retentiond"`, `"alice"`},
		},
		{
			name:     "malformed URL",
			url:      "postgres://alice:" + password + "@127.0.0.1:notaport/retentiond",
			mentions: []string{"could not be parsed"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := store.Open(context.Background(), tc.url)
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, password) {
				t.Errorf("error reveals the password: %s", msg)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not mention %s", msg, m)
				}
			}
		})
	}
}

func TestDescribeURLHidesPassword(t *testing.T) {
	t.Parallel()
	got := store.DescribeURL("postgres://alice:pw-123@db.example:6543/app?sslmode=disable")
	const want = `PostgreSQL at db.example:6543 database "app" user "alice"`
	if got != want {
		t.Errorf("DescribeURL = %q, want %q", got, want)
	}
}

func TestInTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	errBoom := errors.New("boom")
	err := st.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO scans (repository, kind, started_at) VALUES ('o/r', 'repository', now())`); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	var n int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM scans`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d scans after a rolled-back transaction, want 0", n)
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
