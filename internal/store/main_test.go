package store_test

import (
	"context"
	"testing"

	"github.com/retentiond/retentiond/internal/pgtest"
	"github.com/retentiond/retentiond/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newStore returns a store on a fresh, migrated database.
func newStore(t testing.TB) *store.Store {
	t.Helper()
	return openStore(t, pgtest.NewDatabase(t))
}

func openStore(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}
