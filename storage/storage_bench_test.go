package storage

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
)

// The workload: 1 cluster, 100 topics x 50 partitions, 200 groups x 10
// topics (100,000 group-partitions), intervals 10, default workers.
const (
	wlTopics     = 100
	wlPartitions = 50
	wlGroups     = 200
	wlPerGroup   = 10
)

type workload struct {
	topics []string
	groups []string
	// gps lists every group-partition as (group, topic, partition) indexes.
	gps []gp
}

type gp struct {
	group, topic, partition int
}

func newWorkload() *workload {
	w := &workload{}
	for t := range wlTopics {
		w.topics = append(w.topics, fmt.Sprintf("topic-%03d", t))
	}
	for g := range wlGroups {
		w.groups = append(w.groups, fmt.Sprintf("group-%03d", g))
		for i := range wlPerGroup {
			t := (g*7 + i*10) % wlTopics // ten distinct topics per group
			for p := range wlPartitions {
				w.gps = append(w.gps, gp{g, t, p})
			}
		}
	}
	return w
}

// startBench starts a coordinator with the workload's configuration and its
// broker offsets stored.
func startBench(tb testing.TB, w *workload) *Coordinator {
	tb.Helper()
	v := viper.New()
	v.Set("storage.default.class-name", "inmemory")
	v.Set("storage.default.intervals", 10)
	v.Set("cluster.local.class-name", "kafka")
	sc := &Coordinator{App: &protocol.ApplicationContext{
		Logger:         zap.NewNop(),
		StorageChannel: make(chan *protocol.StorageRequest),
		Viper:          v,
	}}
	sc.Configure()
	if err := sc.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sc.Stop() })
	now := time.Now().UnixMilli()
	for _, t := range w.topics {
		for p := range wlPartitions {
			sc.App.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset,
				Cluster: "local", Topic: t, Partition: int32(p), TopicPartitionCount: wlPartitions,
				Offset: 1 << 40, Timestamp: now}
		}
	}
	return sc
}

// commitRound sends one commit for each of the given group-partitions, with
// Order round.
func (w *workload) commit(ch chan *protocol.StorageRequest, x gp, round int64, now int64) {
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local",
		Group: w.groups[x.group], Topic: w.topics[x.topic], Partition: int32(x.partition),
		Offset: round * 1000, Order: round, Timestamp: now + round}
}

// rounds commits every group-partition n times (Orders 1..n) and returns once
// all is applied.
func (w *workload) rounds(ch chan *protocol.StorageRequest, n int64) {
	now := time.Now().UnixMilli()
	for round := int64(1); round <= n; round++ {
		for _, x := range w.gps {
			w.commit(ch, x, round, now)
		}
	}
	barrier(ch)
}

// barrier returns once every request sent before it has been applied.
func barrier(ch chan *protocol.StorageRequest) {
	reply := make(chan any)
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers, Cluster: "local", Reply: reply}
	<-reply
}

// BenchmarkIngest measures a commit through the coordinator's channel, in steady
// state (every group-partition exists), with 1 and 4 concurrent senders. One op
// is one commit; the allocation per op is the sender's request.
func BenchmarkIngest(b *testing.B) {
	w := newWorkload()
	for _, senders := range []int{1, 4} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			sc := startBench(b, w)
			ch := sc.App.StorageChannel
			now := time.Now().UnixMilli()
			for _, x := range w.gps {
				w.commit(ch, x, 1, now)
			}
			barrier(ch)
			b.ReportAllocs()
			b.ResetTimer()
			if senders == 1 {
				i := 0
				for b.Loop() {
					w.commit(ch, w.gps[i%len(w.gps)], int64(2+i/len(w.gps)), now)
					i++
				}
			} else {
				var next atomic.Int64
				b.SetParallelism((senders + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					// Each sender owns a quarter of the groups, so each group's
					// commits come from one sender, in order.
					id := int(next.Add(1) - 1)
					var mine []gp
					for _, x := range w.gps {
						if x.group%senders == id%senders {
							mine = append(mine, x)
						}
					}
					i := 0
					for pb.Next() {
						w.commit(ch, mine[i%len(mine)], int64(2+i/len(mine)), now)
						i++
					}
				})
			}
			barrier(ch)
		})
	}
}

// BenchmarkEmptyForwarder measures the floor: the same requests through a
// channel to a goroutine that drops them.
func BenchmarkEmptyForwarder(b *testing.B) {
	w := newWorkload()
	ch := make(chan *protocol.StorageRequest)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range ch {
		}
	}()
	now := time.Now().UnixMilli()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.commit(ch, w.gps[i%len(w.gps)], int64(2+i/len(w.gps)), now)
		i++
	}
	close(ch)
	wg.Wait()
}

// BenchmarkMemory stores the workload's 12 rounds and reports the heap per
// group-partition.
func BenchmarkMemory(b *testing.B) {
	w := newWorkload()
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		sc := startBench(b, w)
		ch := sc.App.StorageChannel
		w.rounds(ch, 12)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(w.gps)), "heap-B/group-partition")
		runtime.KeepAlive(sc)
		sc.Stop()
	}
}

// BenchmarkFetchConsumer fetches a 500-partition group from a warm store through
// the coordinator's channel.
func BenchmarkFetchConsumer(b *testing.B) {
	benchFetch(b, "", func(v any) {
		if n := len(v.(protocol.ConsumerTopics)); n != wlPerGroup {
			b.Fatalf("%d topics", n)
		}
	})
}

// BenchmarkFetchWindows fetches the same group as BenchmarkFetchConsumer in the
// evaluator's compact form (protocol.WindowsForm), and releases each reply as
// the evaluator does.
func BenchmarkFetchWindows(b *testing.B) {
	benchFetch(b, protocol.WindowsForm, func(v any) {
		ws := v.(*protocol.ConsumerWindows)
		if n := len(ws.Partitions); n != wlPerGroup*50 {
			b.Fatalf("%d partitions", n)
		}
		ws.Release()
	})
}

// benchFetch fetches the first group of the workload, with topic as the
// request's Topic, and hands each reply to check.
func benchFetch(b *testing.B, topic string, check func(v any)) {
	w := newWorkload()
	sc := startBench(b, w)
	ch := sc.App.StorageChannel
	w.rounds(ch, 12)
	b.ReportAllocs()
	for b.Loop() {
		reply := make(chan any)
		ch <- &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Cluster: "local",
			Group: w.groups[0], Topic: topic, Reply: reply}
		check(<-reply)
	}
}
