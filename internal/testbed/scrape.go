package testbed

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scraped is one scrape of a /metrics handler: the metric families by name,
// as Prometheus itself would parse them.
type Scraped map[string]*dto.MetricFamily

// Scrape GETs /metrics from h as Prometheus would and parses the text
// exposition it answers with, failing the test if it is not 200 and valid.
func Scrape(t testing.TB, h http.Handler) Scraped {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: content type %q, want the text format", ct)
	}
	return Parse(t, rec.Body.String())
}

// Parse parses a text exposition, failing the test if it is not valid.
func Parse(t testing.TB, text string) Scraped {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, text)
	}
	return Scraped(mfs)
}

// Type returns the type of family name, failing the test if there is none.
func (s Scraped) Type(t testing.TB, name string) dto.MetricType {
	t.Helper()
	mf, ok := s[name]
	if !ok {
		t.Fatalf("/metrics has no %s", name)
	}
	return mf.GetType()
}

// Value returns the value of the counter or gauge series name{label=value}
// (no label and value for a series without labels), failing the test if
// there is no such series.
func (s Scraped) Value(t testing.TB, name string, labelValue ...string) float64 {
	t.Helper()
	if len(labelValue) != 0 && len(labelValue) != 2 {
		t.Fatalf("Value(%s, %q): want a label and its value, or nothing", name, labelValue)
	}
	mf, ok := s[name]
	if !ok {
		t.Fatalf("/metrics has no %s", name)
	}
	for _, m := range mf.GetMetric() {
		if len(labelValue) == 0 && len(m.GetLabel()) != 0 {
			continue
		}
		if len(labelValue) == 2 && (len(m.GetLabel()) != 1 ||
			m.GetLabel()[0].GetName() != labelValue[0] || m.GetLabel()[0].GetValue() != labelValue[1]) {
			continue
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		default:
			t.Fatalf("%s is a %s, not a counter or gauge", name, mf.GetType())
		}
	}
	t.Fatalf("/metrics has no %s%q", name, labelValue)
	return 0
}

// LabelValues returns the values family name's series have for label,
// sorted.
func (s Scraped) LabelValues(t testing.TB, name, label string) []string {
	t.Helper()
	mf, ok := s[name]
	if !ok {
		t.Fatalf("/metrics has no %s", name)
	}
	var vs []string
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				vs = append(vs, l.GetValue())
			}
		}
	}
	slices.Sort(vs)
	return vs
}

// Histogram returns the histogram name's count, sum and cumulative bucket
// counts by upper bound, failing the test if it is not a histogram.
func (s Scraped) Histogram(t testing.TB, name string) (count uint64, sum float64, buckets map[float64]uint64) {
	t.Helper()
	if typ := s.Type(t, name); typ != dto.MetricType_HISTOGRAM {
		t.Fatalf("%s is a %s, not a histogram", name, typ)
	}
	ms := s[name].GetMetric()
	if len(ms) != 1 {
		t.Fatalf("%s has %d series, want 1", name, len(ms))
	}
	h := ms[0].GetHistogram()
	buckets = map[float64]uint64{}
	for _, b := range h.GetBucket() {
		buckets[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	return h.GetSampleCount(), h.GetSampleSum(), buckets
}
