package daemon

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/retentiond/retentiond/internal/clock"
	"github.com/retentiond/retentiond/internal/logging"
)

func TestLoopRunsOnScheduleAndSurvivesPanics(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 23, 10, 20, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	sched, err := ParseSchedule("@hourly")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var at []time.Time
	err = Loop(ctx, sched, clk, logging.Discard(), func(context.Context) error {
		at = append(at, clk.Now())
		switch len(at) {
		case 1:
			panic("boom")
		case 2:
			// A run that outlasts the next tick: 12:00 → 13:30 skips 13:00.
			clk.Advance(90 * time.Minute)
			return errors.New("scan failed")
		case 4:
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(at))
	for i, t := range at {
		got[i] = t.Format("15:04")
	}
	if diff := cmp.Diff([]string{"11:00", "12:00", "14:00", "15:00"}, got); diff != "" {
		t.Errorf("run times (-want +got):\n%s", diff)
	}
}

func TestLoopStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sched, _ := ParseSchedule("@every 1m")
	ran := false
	if err := Loop(ctx, sched, clock.NewFake(time.Unix(0, 0)), logging.Discard(), func(context.Context) error { ran = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("ran after the context ended")
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "retentiond_up", Help: "Up."})
	reg.MustRegister(up)
	up.Set(1)
	dbErr := errors.New("connection refused")
	healthy := true
	h := Handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), map[string]Checker{
		"database": func(context.Context) error {
			if healthy {
				return nil
			}
			return dbErr
		},
	}, nil)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 || body != "database: ok\n" {
		t.Errorf("/readyz healthy = %d %q", code, body)
	}
	healthy = false
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "database: connection refused") {
		t.Errorf("/readyz unhealthy = %d %q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "\nretentiond_up 1\n") {
		t.Errorf("/metrics = %d %q", code, body)
	}
}
