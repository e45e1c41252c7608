// Package metrics keeps retentiond's Prometheus metrics and writes them in the
// text exposition format. retentiond exports a dozen series; a hand-written
// registry is smaller than the client library and has no global state.
package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry holds metrics and serves them.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
}

type metric interface {
	write(w io.Writer)
}

// New returns an empty registry.
func New() *Registry { return &Registry{} }

func (r *Registry) add(m metric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, m)
}

// Write writes every metric in the Prometheus text format.
func (r *Registry) Write(w io.Writer) {
	r.mu.Lock()
	ms := append([]metric(nil), r.metrics...)
	r.mu.Unlock()
	for _, m := range ms {
		m.write(w)
	}
}

// ServeHTTP serves the metrics, so a Registry is the /metrics handler.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	r.Write(w)
}

// Vec is a counter or gauge with one label; the label's values appear as
// they are first used.
type Vec struct {
	name, help, typ, label string
	mu                     sync.Mutex
	values                 map[string]float64
}

// NewCounterVec registers a counter with one label.
func (r *Registry) NewCounterVec(name, help, label string) *Vec {
	v := &Vec{name: name, help: help, typ: "counter", label: label, values: map[string]float64{}}
	r.add(v)
	return v
}

// NewGaugeVec registers a gauge with one label.
func (r *Registry) NewGaugeVec(name, help, label string) *Vec {
	v := &Vec{name: name, help: help, typ: "gauge", label: label, values: map[string]float64{}}
	r.add(v)
	return v
}

// Add adds d to the series with label value lv.
func (v *Vec) Add(lv string, d float64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.values[lv] += d
}

// Set sets the series with label value lv (for gauges).
func (v *Vec) Set(lv string, x float64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.values[lv] = x
}

// Value returns the series' current value.
func (v *Vec) Value(lv string) float64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.values[lv]
}

func (v *Vec) write(w io.Writer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	header(w, v.name, v.help, v.typ)
	keys := make([]string, 0, len(v.values))
	for k := range v.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v.label == "" {
			fmt.Fprintf(w, "%s %s\n", v.name, num(v.values[k]))
			continue
		}
		fmt.Fprintf(w, "%s{%s=\"%s\"} %s\n", v.name, v.label, escape(k), num(v.values[k]))
	}
}

// Scalar is a counter or gauge without labels.
type Scalar struct{ v *Vec }

// NewCounter registers a counter without labels.
func (r *Registry) NewCounter(name, help string) Scalar {
	return Scalar{r.NewCounterVec(name, help, "")}
}

// NewGauge registers a gauge without labels.
func (r *Registry) NewGauge(name, help string) Scalar {
	return Scalar{r.NewGaugeVec(name, help, "")}
}

// Add adds d.
func (s Scalar) Add(d float64) { s.v.Add("", d) }

// Set sets the value.
func (s Scalar) Set(x float64) { s.v.Set("", x) }

// Value returns the current value.
func (s Scalar) Value() float64 { return s.v.Value("") }

// Histogram counts observations into cumulative buckets.
type Histogram struct {
	name, help string
	bounds     []float64
	mu         sync.Mutex
	counts     []uint64
	sum        float64
	count      uint64
}

// NewHistogram registers a histogram with the given upper bounds (ascending).
func (r *Registry) NewHistogram(name, help string, bounds []float64) *Histogram {
	h := &Histogram{name: name, help: help, bounds: bounds, counts: make([]uint64, len(bounds))}
	r.add(h)
	return h
}

// Observe records one value.
func (h *Histogram) Observe(x float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, b := range h.bounds {
		if x <= b {
			h.counts[i]++
		}
	}
	h.sum += x
	h.count++
}

func (h *Histogram) write(w io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	header(w, h.name, h.help, "histogram")
	for i, b := range h.bounds {
		fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", h.name, num(b), h.counts[i])
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", h.name, h.count, h.name, num(h.sum), h.name, h.count)
}

func header(w io.Writer, name, help, typ string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, strings.ReplaceAll(help, "\n", " "), name, typ)
}

func num(x float64) string {
	if math.IsInf(x, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escape(s string) string { return labelEscaper.Replace(s) }

// funcMetric reads its value when scraped.
type funcMetric struct {
	name, help, typ string
	f               func() float64
}

// NewGaugeFunc registers a gauge whose value f returns at scrape time.
func (r *Registry) NewGaugeFunc(name, help string, f func() float64) {
	r.add(&funcMetric{name: name, help: help, typ: "gauge", f: f})
}

// NewCounterFunc registers a counter whose value f returns at scrape time;
// f must never decrease.
func (r *Registry) NewCounterFunc(name, help string, f func() float64) {
	r.add(&funcMetric{name: name, help: help, typ: "counter", f: f})
}

func (m *funcMetric) write(w io.Writer) {
	header(w, m.name, m.help, m.typ)
	fmt.Fprintf(w, "%s %s\n", m.name, num(m.f()))
}
