package evaluator

import (
	"fmt"
	"testing"

	"github.com/warrenlag/warren/protocol"
)

// windows500 is a group as storage returns it: 10 topics x 50 partitions, full
// windows whose lag does not fall (every partition WARN, each with a reason).
func windows500() *protocol.ConsumerWindows {
	var topics []testTopic
	for t := range 10 {
		parts := make([]testPartition, 50)
		for p := range parts {
			tp := testPartition{lag: 1000}
			for i := int64(0); i < 10; i++ {
				tp.commits = append(tp.commits, protocol.WindowCommit{Offset: 1000 * (i + 1), Timestamp: base - (10-i)*10000,
					Lag: 1000, LagKnown: true})
				tp.readings = append(tp.readings, protocol.BrokerReading{Offset: 1000 * (i + 2), Timestamp: base - (10-i)*10000})
			}
			parts[p] = tp
		}
		topics = append(topics, testTopic{fmt.Sprintf("topic-%d", t), parts})
	}
	return windowsOf(10, topics...)
}

// BenchmarkRules is the evaluation of a 500-partition group and one caller's
// full view of it, without storage.
func BenchmarkRules(b *testing.B) {
	w := windows500()
	b.ReportAllocs()
	for b.Loop() {
		st := (rules{}).evaluate("c", "g", w, base)
		if v := view(st, true); len(v.Partitions) != 500 || v.Partitions[0].Why == "" {
			b.Fatal("wrong evaluation")
		}
	}
}
