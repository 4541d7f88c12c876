package kafka

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/warrenlag/warren/internal/collect"
)

// Named is a Kafka module and the name its metrics carry (cluster.NAME,
// consumer.NAME).
type Named struct {
	Name   string
	Module Module
}

// Collector exports the modules' counts: warren_kafka_errors_total,
// warren_kafka_rounds_total and warren_kafka_last_round_seconds, by module.
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
	)
}
