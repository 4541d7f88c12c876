package metrics

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/collect"
)

// scrape serves the handler over httptest and parses the text exposition.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// series renders a family's samples as "label=value,... value" lines, sorted.
func series(f *dto.MetricFamily) []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, m := range f.Metric {
		var labels []string
		for _, l := range m.Label {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		v := m.GetGauge().GetValue()
		if m.Counter != nil {
			v = m.GetCounter().GetValue()
		}
		out = append(out, strings.Join(labels, ",")+" "+strconv.FormatFloat(v, 'f', -1, 64))
	}
	sort.Strings(out)
	return out
}

func TestScrape(t *testing.T) {
	ec, sc := evaluator.StorageAndEvaluatorCoordinatorsWithOffsets()
	defer sc.Stop()
	defer ec.Stop()
	h := Handler(Options{Storage: sc.App.StorageChannel, Evaluator: sc.App.EvaluatorChannel,
		Collectors: []prometheus.Collector{collect.New(collect.Family{Name: "warren_test_total", Help: "a test counter",
			Labels: []string{"reason"}, Read: collect.Map(func() map[string]float64 { return map[string]float64{"expired": 3} })})}})
	families := scrape(t, h)
	want := map[string][]string{
		"burrow_kafka_consumer_status": {
			"cluster=testcluster,consumer_group=testgroup 1",
			"cluster=testcluster,consumer_group=testgroup2 3"},
		"burrow_kafka_consumer_lag_total": {
			"cluster=testcluster,consumer_group=testgroup 2421",
			"cluster=testcluster,consumer_group=testgroup2 2921"},
		"burrow_kafka_consumer_partition_lag": {
			"cluster=testcluster,consumer_group=testgroup,partition=0,topic=testtopic 2421",
			"cluster=testcluster,consumer_group=testgroup2,partition=0,topic=testtopic 2921"},
		"burrow_kafka_consumer_current_offset": {
			"cluster=testcluster,consumer_group=testgroup,partition=0,topic=testtopic 1900"},
		"burrow_kafka_topic_partition_status": {
			"cluster=testcluster,consumer_group=testgroup,partition=0,topic=testtopic 1"},
		"burrow_kafka_topic_partition_offset": {
			"cluster=testcluster,partition=0,topic=testtopic 4321"},
		"warren_test_total":          {"reason=expired 3"},
		"warren_scrape_errors_total": {" 0"},
	}
	for name, w := range want {
		got := series(families[name])
		if strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", name, got, w)
		}
	}
	if f := families["warren_test_total"]; f == nil || f.GetType() != dto.MetricType_COUNTER {
		t.Errorf("warren_test_total is not a counter: %v", f)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "promhttp_metric_handler_requests_total"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// TestAsCollector: registered in a registry of one's own, the collector gives
// the same series as the handler.
func TestAsCollector(t *testing.T) {
	ec, sc := evaluator.StorageAndEvaluatorCoordinatorsWithOffsets()
	defer sc.Stop()
	defer ec.Stop()
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(Options{Storage: sc.App.StorageChannel, Evaluator: sc.App.EvaluatorChannel}))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	if got := series(byName["burrow_kafka_consumer_lag_total"]); strings.Join(got, ";") !=
		"cluster=testcluster,consumer_group=testgroup 2421;cluster=testcluster,consumer_group=testgroup2 2921" {
		t.Errorf("lag totals %q", got)
	}
}
