// Package workload builds the benchmarks' shared world: storage and the
// evaluator holding the issues' workload (groups x 10 topics x 50 partitions,
// full windows), for benchmarks of the evaluator and of /metrics.
package workload

import (
	"fmt"
	"testing"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// Start starts storage and the evaluator (cache off, so every request
// evaluates) holding groups x 10 topics x 50 partitions with full windows.
func Start(tb testing.TB, groups int) *protocol.ApplicationContext {
	tb.Helper()
	v := viper.New()
	v.Set("cluster.local.class-name", "kafka")
	v.Set("evaluator.bench.class-name", "caching")
	v.Set("evaluator.bench.expire-cache", 0)
	app := &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v,
		StorageChannel: make(chan *protocol.StorageRequest), EvaluatorChannel: make(chan *protocol.EvaluatorRequest)}
	sc := &storage.Coordinator{App: app}
	sc.Configure()
	if err := sc.Start(); err != nil {
		tb.Fatal(err)
	}
	ec := &evaluator.Coordinator{App: app}
	ec.Configure()
	if err := ec.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ec.Stop(); sc.Stop() })
	now := time.Now().UnixMilli()
	topic := func(t int) string { return fmt.Sprintf("topic-%03d", t) }
	for round := int64(1); round <= 10; round++ {
		for t := range 100 {
			for p := range 50 {
				app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "local",
					Topic: topic(t), Partition: int32(p), TopicPartitionCount: 50, Offset: round * 2000, Timestamp: now}
			}
		}
		for g := range groups {
			for i := range 10 {
				for p := range 50 {
					app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local",
						Group: fmt.Sprintf("group-%03d", g), Topic: topic((g*7 + i*10) % 100), Partition: int32(p),
						Offset: round * 1000, Order: round, Timestamp: now - (10-round)*10000}
				}
			}
		}
	}
	return app
}
