package evaluator

import (
	"fmt"
	"testing"

	"github.com/warrenlag/warren/protocol"
)

// topics500 is a group as storage returns it: 10 topics x 50 partitions, full
// windows whose lag does not fall (every partition WARN, each with a reason).
func topics500() protocol.ConsumerTopics {
	out := protocol.ConsumerTopics{}
	for t := range 10 {
		parts := make(protocol.ConsumerPartitions, 50)
		for p := range parts {
			cp := &protocol.ConsumerPartition{CurrentLag: 1000}
			for i := int64(0); i < 10; i++ {
				cp.Offsets = append(cp.Offsets, &protocol.ConsumerOffset{Offset: 1000 * (i + 1), Timestamp: base - (10-i)*10000,
					Lag: &protocol.Lag{Value: 1000}})
				cp.BrokerOffsets = append(cp.BrokerOffsets, 1000*(i+2))
				cp.BrokerTimestamps = append(cp.BrokerTimestamps, base-(10-i)*10000)
			}
			parts[p] = cp
		}
		out[fmt.Sprintf("topic-%d", t)] = parts
	}
	return out
}

// BenchmarkRules is the evaluation of a 500-partition group and one caller's
// full view of it, without storage.
func BenchmarkRules(b *testing.B) {
	topics := topics500()
	b.ReportAllocs()
	for b.Loop() {
		st := (rules{}).evaluate("c", "g", topics, base)
		if v := view(st, true); len(v.Partitions) != 500 || v.Partitions[0].Why == "" {
			b.Fatal("wrong evaluation")
		}
	}
}
