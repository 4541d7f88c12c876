package main

import (
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/kafka"
	"github.com/warrenlag/warren/internal/metrics"
)

// kafkaCounters exports the Kafka modules' counts by module name. modules is
// main's list, filled in after the metrics handler is built and before it
// serves.
func kafkaCounters(modules *[]namedModule) []metrics.Counter {
	each := func(f func(name string, st kafka.Stats)) {
		for _, m := range *modules {
			f(m.name, m.m.Stats())
		}
	}
	byModule := func(f func(kafka.Stats) float64) func() map[string]float64 {
		return func() map[string]float64 {
			out := map[string]float64{}
			each(func(name string, st kafka.Stats) { out[name] = f(st) })
			return out
		}
	}
	return []metrics.Counter{
		{Name: "warren_kafka_errors_total", Help: "Failed Kafka requests, by module.", Label: "module",
			Read: byModule(func(s kafka.Stats) float64 { return float64(s.Errors) })},
		{Name: "warren_kafka_rounds_total", Help: "Rounds done by module: offset rounds of a cluster, polls of an admin source, records read from the offsets topic.", Label: "module",
			Read: byModule(func(s kafka.Stats) float64 { return float64(s.Rounds) })},
		{Name: "warren_kafka_last_round_seconds", Help: "How long the last offset round or admin poll took, by module.", Label: "module", Gauge: true,
			Read: byModule(func(s kafka.Stats) float64 { return s.LastRound.Seconds() })},
		{Name: "warren_kafka_skipped_records_total", Help: "Records of the offsets topic skipped, by module and reason.",
			Labels: []string{"module", "reason"}, Series: func() []metrics.Sample {
				var out []metrics.Sample
				each(func(name string, st kafka.Stats) {
					for reason, n := range st.Skips {
						out = append(out, metrics.Sample{Values: []string{name, reason}, Value: float64(n)})
					}
				})
				return out
			}},
		{Name: "warren_kafka_source_switches_total", Help: "Switches of a consumer module with offsets-source auto between the offsets topic and the admin API.",
			Label: "module", Read: func() map[string]float64 {
				out := map[string]float64{}
				each(func(name string, st kafka.Stats) {
					if st.Source != "" { // consumer modules only
						out[name] = float64(st.Switches)
					}
				})
				return out
			}},
		{Name: "warren_kafka_offsets_source", Help: "Where a consumer module reads committed offsets now: 1 for the source in use (topic or admin), 0 for the other.",
			Gauge: true, Labels: []string{"module", "source"}, Series: func() []metrics.Sample {
				var out []metrics.Sample
				each(func(name string, st kafka.Stats) {
					if st.Source == "" {
						return
					}
					for _, src := range []string{config.SourceTopic, config.SourceAdmin} {
						v := 0.0
						if st.Source == src {
							v = 1
						}
						out = append(out, metrics.Sample{Values: []string{name, src}, Value: v})
					}
				})
				return out
			}},
	}
}
