package evaluator_test

import (
	"testing"

	"github.com/warrenlag/warren/internal/workload"
	"github.com/warrenlag/warren/protocol"
)

// BenchmarkEvaluate evaluates a 500-partition group from a warm storage through
// the evaluator's channel (cache off).
func BenchmarkEvaluate(b *testing.B) {
	app := workload.Start(b, 200) // the workload: a warm, full store
	b.ReportAllocs()
	for b.Loop() {
		reply := make(chan *protocol.ConsumerGroupStatus, 1)
		app.EvaluatorChannel <- &protocol.EvaluatorRequest{Reply: reply, Cluster: "local", Group: "group-000", ShowAll: true}
		if st := <-reply; st.TotalPartitions != 500 {
			b.Fatalf("%d partitions", st.TotalPartitions)
		}
	}
}
