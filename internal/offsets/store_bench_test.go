package offsets

import (
	"fmt"
	"testing"

	"github.com/warrenlag/warren/protocol"
)

// The store's own operations, in synchronous mode: no channels, no goroutines.

// BenchmarkPlace appends to a full window, the steady-state case.
func BenchmarkPlace(b *testing.B) {
	for _, size := range []int{10, 100} {
		b.Run(fmt.Sprintf("intervals=%d", size), func(b *testing.B) {
			ring := make([]entry, size)
			var sp span
			order := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				order++
				place(ring, &sp, entry{offset: order, order: order, ts: order}, 1<<40, 0)
			}
		})
	}
}

// BenchmarkPlaceInsert inserts into the middle of a full window: a late commit.
func BenchmarkPlaceInsert(b *testing.B) {
	ring := make([]entry, 10)
	var sp span
	for o := int64(1); o <= 10; o++ {
		place(ring, &sp, entry{order: o * 10, ts: o}, 0, 0)
	}
	b.ReportAllocs()
	for b.Loop() {
		saved, savedSp := ring[0], sp
		place(ring, &sp, entry{order: 55, ts: 5}, 0, 0)
		ring[0], sp = saved, savedSp // undo cheaply: the benchmark stays on one case
	}
}

// benchStore is a synchronous store with groups x partitions committed to.
func benchStore(b *testing.B, groups, partitions int) (*Store, []*protocol.StorageRequest) {
	s, _ := newStore(b, Config{})
	s.Handle(broker("t", 0, int32(partitions), 1<<40))
	for p := range partitions {
		s.Handle(broker("t", int32(p), int32(partitions), 1<<40))
	}
	var reqs []*protocol.StorageRequest
	for g := range groups {
		for p := range partitions {
			r := commit(fmt.Sprint("group-", g), "t", int32(p), 1, 1, testNow)
			s.Handle(r)
			reqs = append(reqs, r)
		}
	}
	return s, reqs
}

// BenchmarkHandleCommit is a commit through Handle on a known partition: the
// dispatcher's and the worker's work, without the hand-off.
func BenchmarkHandleCommit(b *testing.B) {
	s, reqs := benchStore(b, 100, 50)
	order := int64(1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := reqs[i%len(reqs)]
		if i%len(reqs) == 0 {
			order++
		}
		r.Order, r.Offset = order, order
		s.Handle(r)
		i++
	}
}

// BenchmarkHandleBroker is a broker offset through Handle.
func BenchmarkHandleBroker(b *testing.B) {
	s, _ := benchStore(b, 1, 50)
	r := broker("t", 0, 50, 0)
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		r.Partition, r.Offset = int32(i%50), i
		s.Handle(r)
	}
}

// BenchmarkFetchConsumerSync builds the reply for a group of 500 partitions with
// full windows.
func BenchmarkFetchConsumerSync(b *testing.B) {
	s, reqs := benchStore(b, 1, 500)
	for o := int64(2); o <= 12; o++ {
		for _, r := range reqs {
			r.Order, r.Offset = o, o
			s.Handle(r)
		}
	}
	r := &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Cluster: "c", Group: "group-0"}
	b.ReportAllocs()
	for b.Loop() {
		r.Reply = make(chan any, 1)
		s.Handle(r)
		if v := <-r.Reply; len(v.(protocol.ConsumerTopics)["t"]) != 500 {
			b.Fatal("wrong reply")
		}
	}
}

// BenchmarkFetchConsumers lists 1,000 groups spread over the workers.
func BenchmarkFetchConsumers(b *testing.B) {
	s, _ := benchStore(b, 1000, 1)
	r := &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers, Cluster: "c"}
	b.ReportAllocs()
	for b.Loop() {
		r.Reply = make(chan any, 1)
		s.Handle(r)
		if v := <-r.Reply; len(v.([]string)) != 1000 {
			b.Fatal("wrong reply")
		}
	}
}
