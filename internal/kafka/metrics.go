package kafka

import (
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warrenlag/warren/internal/collect"
	"github.com/warrenlag/warren/internal/config"
)

// Named is a Kafka module and the name its metrics carry (cluster.NAME,
// consumer.NAME).
type Named struct {
	Name   string
	Module Module
}

// Collector exports the modules' counts by module: errors, rounds, the last
// round's duration, the offsets topic's skipped records by reason, and for
// consumer modules the source in use and the switches of offsets-source auto.
func Collector(mods []Named) prometheus.Collector {
	each := func(f func(Stats) float64) func(emit func(float64, ...string)) {
		return func(emit func(float64, ...string)) {
			for _, m := range mods {
				emit(f(m.Module.Stats()), m.Name)
			}
		}
	}
	module := []string{"module"}
	return collect.New(
		collect.Family{Name: "warren_kafka_errors_total", Help: "Failed Kafka requests, by module.", Labels: module,
			Read: each(func(s Stats) float64 { return float64(s.Errors) })},
		collect.Family{Name: "warren_kafka_rounds_total", Help: "Rounds done by module: offset rounds of a cluster, polls of an admin source, records read from the offsets topic.", Labels: module,
			Read: each(func(s Stats) float64 { return float64(s.Rounds) })},
		collect.Family{Name: "warren_kafka_last_round_seconds", Help: "How long the last offset round or admin poll took, by module.", Labels: module, Gauge: true,
			Read: each(func(s Stats) float64 { return s.LastRound.Seconds() })},
		collect.Family{Name: "warren_kafka_skipped_records_total", Help: "Records of the offsets topic skipped, by module and reason.",
			Labels: []string{"module", "reason"}, Read: func(emit func(float64, ...string)) {
				for _, m := range mods {
					st := m.Module.Stats()
					for _, reason := range slices.Sorted(maps.Keys(st.Skips)) {
						emit(float64(st.Skips[reason]), m.Name, reason)
					}
				}
			}},
		collect.Family{Name: "warren_kafka_source_switches_total", Help: "Switches of a consumer module with offsets-source auto between the offsets topic and the admin API.",
			Labels: module, Read: func(emit func(float64, ...string)) {
				for _, m := range mods {
					if st := m.Module.Stats(); st.Source != "" { // consumer modules only
						emit(float64(st.Switches), m.Name)
					}
				}
			}},
		collect.Family{Name: "warren_kafka_offsets_source", Help: "Where a consumer module reads committed offsets now: 1 for the source in use (topic or admin), 0 for the other.",
			Labels: []string{"module", "source"}, Gauge: true, Read: func(emit func(float64, ...string)) {
				for _, m := range mods {
					st := m.Module.Stats()
					if st.Source == "" {
						continue
					}
					for _, src := range []string{config.SourceTopic, config.SourceAdmin} {
						v := 0.0
						if st.Source == src {
							v = 1
						}
						emit(v, m.Name, src)
					}
				}
			}},
	)
}
