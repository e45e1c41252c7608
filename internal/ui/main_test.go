package ui_test

import (
	"testing"

	"github.com/retentiond/retentiond/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
