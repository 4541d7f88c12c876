// Package collect builds prometheus.Collectors that read a subsystem's
// current counts at scrape time, so that each subsystem exports its own
// metrics without keeping Prometheus types in its hot paths.
package collect

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// Family is one metric family, read at every scrape.
type Family struct {
	Name, Help string
	// Labels are the family's label names, in the order Read gives values.
	Labels []string
	// Gauge exports the family as a gauge; it is a counter otherwise.
	Gauge bool
	// Read calls emit once per series with its value and label values.
	Read func(emit func(v float64, labelValues ...string))
}

// Map is a Read for a family of one label, from a map of label value to
// count, in label order.
func Map[N uint64 | int64 | float64](read func() map[string]N) func(emit func(float64, ...string)) {
	return func(emit func(float64, ...string)) {
		m := read()
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			emit(float64(m[k]), k)
		}
	}
}

// Value is a Read for a family without labels.
func Value[N uint64 | int64 | float64](read func() N) func(emit func(float64, ...string)) {
	return func(emit func(float64, ...string)) { emit(float64(read())) }
}

type collector struct {
	fams  []Family
	descs []*prometheus.Desc
}

// New returns an unchecked collector of fams.
func New(fams ...Family) prometheus.Collector {
	c := &collector{fams: fams}
	for _, f := range fams {
		c.descs = append(c.descs, prometheus.NewDesc(f.Name, f.Help, f.Labels, nil))
	}
	return c
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for i, f := range c.fams {
		kind := prometheus.CounterValue
		if f.Gauge {
			kind = prometheus.GaugeValue
		}
		d := c.descs[i]
		f.Read(func(v float64, labelValues ...string) {
			ch <- prometheus.MustNewConstMetric(d, kind, v, labelValues...)
		})
	}
}
