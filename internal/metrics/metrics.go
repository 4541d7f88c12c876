// Package metrics serves Warren's Prometheus metrics: Burrow's gauges of every
// group and topic, computed at scrape time from storage and the evaluator (so
// that no stale series is ever exported), and Warren's own operational counters.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
)

// Counter is a named source of values by label value, such as storage's drops
// by reason. It is exported as a counter, or as a gauge with Gauge set. Read
// serves a family with one label (Label) or none; a family with several labels
// names them in Labels and is read by Series instead.
type Counter struct {
	Name, Help, Label string
	Gauge             bool
	Read              func() map[string]float64

	Labels []string
	Series func() []Sample
}

// Sample is one series of a Counter with several labels: its label values, in
// the order of the Counter's Labels, and its value.
type Sample struct {
	Values []string
	Value  float64
}

// Options are what the collector reads.
type Options struct {
	Storage   chan *protocol.StorageRequest
	Evaluator chan *protocol.EvaluatorRequest
	Log       *zap.Logger
	// Wait bounds each request to storage and the evaluator during a scrape.
	Wait time.Duration
	// Counters are Warren's operational counters, exported as counters.
	Counters []Counter
}

// The Burrow families, in the order they are written.
const (
	famStatus = iota
	famLagTotal
	famPartitionLag
	famCurrentOffset
	famPartitionStatus
	famTopicOffset
	famLagSeconds
	famScrapeErrors
	numFamilies
)

var families = [numFamilies]struct{ name, help string }{
	famStatus:          {"burrow_kafka_consumer_status", "The status of a consumer group: 1 OK, 2 WARN, 3 ERR (NOTFOUND, OK, WARN, or ERR)."},
	famLagTotal:        {"burrow_kafka_consumer_lag_total", "The sum of the current lags of a consumer group's partitions."},
	famPartitionLag:    {"burrow_kafka_consumer_partition_lag", "The current lag of a consumer group's partition."},
	famCurrentOffset:   {"burrow_kafka_consumer_current_offset", "The newest committed offset of a consumer group's partition (partitions with a full window)."},
	famPartitionStatus: {"burrow_kafka_topic_partition_status", "The status of a consumer group's partition: OK, WARN, STOP, STALL, REWIND as 1, 2, 4, 5, 6."},
	famTopicOffset:     {"burrow_kafka_topic_partition_offset", "The newest broker offset of a topic's partition."},
	famLagSeconds:      {"warren_kafka_consumer_partition_lag_seconds", "How far behind a consumer group's partition is in time: how long ago the log end was at its newest commit (estimated from the broker offset history)."},
	famScrapeErrors:    {"warren_scrape_errors_total", "Requests to storage or the evaluator that failed during this scrape."},
}

// Collector computes Burrow's gauges at every scrape, from storage and the
// evaluator, so that no stale series is ever exported. It is a
// prometheus.Collector, and also a prometheus.Gatherer, which is what /metrics
// uses: Gather writes the metric families directly, already in order and sharing
// one set of labels among a partition's series, because a registry's per-series
// checks and sort cost seconds for the hundreds of thousands of series a large
// cluster has.
type Collector struct {
	opts Options
}

// NewCollector returns a collector over storage and the evaluator.
func NewCollector(opts Options) *Collector {
	if opts.Wait <= 0 {
		opts.Wait = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	return &Collector{opts: opts}
}

// builder accumulates the families of one scrape.
type builder struct {
	fams    [numFamilies]*dto.MetricFamily
	metrics []dto.Metric // slab
	gauges  []dto.Gauge  // slab
}

func (b *builder) add(fam int, labels []*dto.LabelPair, v float64) {
	if len(b.metrics) == 0 {
		b.metrics = make([]dto.Metric, 4096)
		b.gauges = make([]dto.Gauge, 4096)
	}
	m, g := &b.metrics[0], &b.gauges[0]
	b.metrics, b.gauges = b.metrics[1:], b.gauges[1:]
	g.Value = &v
	m.Label, m.Gauge = labels, g
	f := b.fams[fam]
	f.Metric = append(f.Metric, m)
}

func pairs(kv ...string) []*dto.LabelPair {
	out := make([]*dto.LabelPair, len(kv)/2)
	slab := make([]dto.LabelPair, len(kv)/2)
	for i := range out {
		slab[i].Name, slab[i].Value = &kv[2*i], &kv[2*i+1]
		out[i] = &slab[i]
	}
	return out
}

// Gather asks storage for every cluster, group and topic, the evaluator for
// every group, and returns Burrow's families. Failures are counted in
// warren_scrape_errors_total, never an error: the rest is still exported.
func (c *Collector) Gather() ([]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*c.opts.Wait)
	defer cancel()
	b := &builder{}
	gauge := dto.MetricType_GAUGE
	for i := range b.fams {
		b.fams[i] = &dto.MetricFamily{Name: &families[i].name, Help: &families[i].help, Type: &gauge}
	}
	failures := 0
	clusters, ok := c.names(ctx, &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters})
	if !ok {
		failures++
	}
	for _, cluster := range clusters {
		groups, ok := c.names(ctx, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers, Cluster: cluster})
		if !ok {
			failures++
		}
		for _, group := range groups {
			st, ok := c.status(ctx, cluster, group)
			if !ok {
				failures++
				continue
			}
			if st.Status == protocol.StatusNotFound {
				continue
			}
			gl := pairs("cluster", cluster, "consumer_group", group)
			b.add(famStatus, gl, float64(st.Status))
			b.add(famLagTotal, gl, float64(st.TotalLag))
			for _, p := range st.Partitions {
				pl := pairs("cluster", cluster, "consumer_group", group, "partition", strconv.Itoa(int(p.Partition)), "topic", p.Topic)
				b.add(famPartitionLag, pl, float64(p.CurrentLag))
				if p.LagSeconds != nil {
					b.add(famLagSeconds, pl, *p.LagSeconds)
				}
				if p.Complete == 1 {
					if p.End != nil {
						b.add(famCurrentOffset, pl, float64(p.End.Offset))
					}
					b.add(famPartitionStatus, pl, float64(p.Status))
				}
			}
		}
		topics, ok := c.names(ctx, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopics, Cluster: cluster})
		if !ok {
			failures++
		}
		for _, topic := range topics {
			v, ok, err := c.ask(ctx, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopic, Cluster: cluster, Topic: topic})
			if err != nil {
				failures++
				continue
			}
			if !ok {
				continue
			}
			offsets, _ := v.([]int64)
			for i, off := range offsets {
				b.add(famTopicOffset, pairs("cluster", cluster, "partition", strconv.Itoa(i), "topic", topic), float64(off))
			}
		}
	}
	b.add(famScrapeErrors, nil, float64(failures))
	out := make([]*dto.MetricFamily, 0, numFamilies)
	for _, f := range b.fams {
		if len(f.Metric) > 0 {
			out = append(out, f)
		}
	}
	return out, nil
}

// Describe sends nothing: the collector is unchecked, as its series change with
// every scrape.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect makes the collector a prometheus.Collector too, for a registry of
// one's own: it sends the families of one Gather as metrics. Warren's /metrics
// handler uses Gather directly, which skips the registry's per-series work.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	fams, _ := c.Gather()
	for _, f := range fams {
		var names []string
		if len(f.Metric) > 0 {
			for _, l := range f.Metric[0].Label {
				names = append(names, l.GetName())
			}
		}
		d := prometheus.NewDesc(f.GetName(), f.GetHelp(), names, nil)
		for _, m := range f.Metric {
			values := make([]string, len(m.Label))
			for i, l := range m.Label {
				values[i] = l.GetValue()
			}
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, m.GetGauge().GetValue(), values...)
		}
	}
}

// ask sends a storage fetch and waits for its answer.
func (c *Collector) ask(ctx context.Context, r *protocol.StorageRequest) (any, bool, error) {
	r.Reply = make(chan any, 1)
	select {
	case c.opts.Storage <- r:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	select {
	case v, ok := <-r.Reply:
		return v, ok, nil
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// names asks storage for a list of names, sorted; ok is false on a failure.
func (c *Collector) names(ctx context.Context, r *protocol.StorageRequest) ([]string, bool) {
	v, _, err := c.ask(ctx, r)
	if err != nil {
		c.opts.Log.Warn("metrics: storage did not answer", zap.Stringer("request", r.RequestType), zap.Error(err))
		return nil, false
	}
	names, _ := v.([]string)
	sort.Strings(names)
	return names, true
}

// status asks the evaluator for a group's full status.
func (c *Collector) status(ctx context.Context, cluster, group string) (*protocol.ConsumerGroupStatus, bool) {
	if c.opts.Evaluator == nil {
		return nil, false
	}
	r := &protocol.EvaluatorRequest{Reply: make(chan *protocol.ConsumerGroupStatus, 1), Cluster: cluster, Group: group, ShowAll: true}
	select {
	case c.opts.Evaluator <- r:
	case <-ctx.Done():
		return nil, false
	}
	select {
	case st := <-r.Reply:
		return st, st != nil
	case <-ctx.Done():
		return nil, false
	}
}

// counters exports Warren's operational counters.
type counters struct{ list []Counter }

func (cs counters) Describe(chan<- *prometheus.Desc) {}

func (cs counters) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs.list {
		kind := prometheus.CounterValue
		if c.Gauge {
			kind = prometheus.GaugeValue
		}
		if c.Series != nil {
			d := prometheus.NewDesc(c.Name, c.Help, c.Labels, nil)
			for _, s := range c.Series() {
				ch <- prometheus.MustNewConstMetric(d, kind, s.Value, s.Values...)
			}
			continue
		}
		var labels []string
		if c.Label != "" {
			labels = []string{c.Label}
		}
		d := prometheus.NewDesc(c.Name, c.Help, labels, nil)
		values := c.Read()
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if c.Label == "" {
				ch <- prometheus.MustNewConstMetric(d, kind, values[k])
				continue
			}
			ch <- prometheus.MustNewConstMetric(d, kind, values[k], k)
		}
	}
}

// gatherers joins the registry's families and Burrow's, keeping each list's
// order (the registry's is sorted; Burrow's is built in order).
type gatherers struct {
	reg    *prometheus.Registry
	burrow *Collector
}

func (g gatherers) Gather() ([]*dto.MetricFamily, error) {
	own, err := g.burrow.Gather()
	rest, err2 := g.reg.Gather()
	return append(own, rest...), errors.Join(err, err2)
}

// Handler returns the /metrics handler: Burrow's gauges, Warren's counters, and
// the standard Go, process and handler metrics, in the format the scraper asks
// for (text 0.0.4 by default).
func Handler(opts Options) http.Handler {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		counters{opts.Counters})
	g := gatherers{reg: reg, burrow: NewCollector(opts)}
	return promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: zap.NewStdLog(opts.Log)}))
}
