package offsets

import (
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/warrenlag/warren/internal/state"
	"github.com/warrenlag/warren/protocol"
)

// fullStore builds a started store (20 workers) of groups x partitions with
// full windows: each group reads one of 50 topics of `partitions` partitions,
// and commits every partition once a minute for 10 minutes, a few hundred
// messages behind a broker that moves about 1,000 a minute; Orders are
// positions in a shared offsets log.
func fullStore(b *testing.B, groups, partitions int) (*Store, Config) {
	b.Helper()
	cfg := Config{Clusters: []string{"c"}}
	s, clk := newStore(b, cfg)
	rnd := rand.New(rand.NewPCG(1, 1))
	const topics = 50
	t0 := testNow - 3_600_000
	brokerAt := make([]int64, topics*partitions)
	for i := range brokerAt {
		brokerAt[i] = rnd.Int64N(1 << 40)
	}
	r := &protocol.StorageRequest{Cluster: "c"}
	order := int64(1 << 32)
	for round := range int64(10) {
		ts := t0 + round*60_000
		clk.ms = ts
		r.RequestType = protocol.StorageSetBrokerOffset
		r.TopicPartitionCount = int32(partitions)
		for tp := range brokerAt {
			brokerAt[tp] += 900 + rnd.Int64N(200)
			r.Topic, r.Partition = fmt.Sprint("topic-", tp/partitions), int32(tp%partitions)
			r.Offset, r.Timestamp = brokerAt[tp], ts
			s.Handle(r)
		}
		clk.ms = ts + 1_500
		r.RequestType = protocol.StorageSetConsumerOffset
		for g := range groups {
			r.Group, r.Topic = fmt.Sprint("group-", g), fmt.Sprint("topic-", g%topics)
			commitTs := ts + rnd.Int64N(1_000)
			for p := range partitions {
				order += 1 + rnd.Int64N(3)
				r.Partition = int32(p)
				r.Offset = brokerAt[g%topics*partitions+p] - rnd.Int64N(500)
				r.Order, r.Timestamp = order, commitTs
				s.Handle(r)
			}
		}
	}
	clk.ms = testNow
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Stop)
	return s, cfg
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStateFile writes the state file of a store of 1,000,000
// group-partitions with full windows, with and without ingest going on, and
// restores it. It reports the CPU time of a snapshot, the longest a worker
// stopped serving requests for it, the longest a Handle call waited meanwhile,
// and the file's bytes per group-partition.
func BenchmarkStateFile(b *testing.B) {
	for _, size := range []struct{ groups, partitions int }{{1000, 1000}, {2000, 500}} {
		b.Run(fmt.Sprintf("groups=%d,partitions=%d", size.groups, size.partitions), func(b *testing.B) {
			s, cfg := fullStore(b, size.groups, size.partitions)
			gps := float64(size.groups * size.partitions)
			f := &state.File{Dir: b.TempDir()}
			b.Run("snapshot", func(b *testing.B) {
				var st SnapshotStats
				src := func(add func(string, []byte) error) (err error) {
					st, err = s.Snapshot(add)
					return err
				}
				var longest time.Duration
				cpu := cpuTime()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.Write(src); err != nil {
						b.Fatal(err)
					}
					longest = max(longest, st.LongestSlice)
				}
				cpu = cpuTime() - cpu
				fi, _ := os.Stat(f.Path())
				b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
				b.ReportMetric(float64(longest.Microseconds())/1000, "max-pause-ms")
				b.ReportMetric(float64(fi.Size())/gps, "B/group-partition")
				if st.Partitions != int(gps) || st.Commits != 10*int(gps) {
					b.Fatalf("snapshot of %d partitions, %d commits", st.Partitions, st.Commits)
				}
			})
			b.Run("snapshot-while-ingesting", func(b *testing.B) {
				// First, how long Handle calls take without a snapshot, over
				// about as long as two snapshots take.
				stop, done := make(chan struct{}), make(chan time.Duration)
				go ingest(s, size.groups, size.partitions, stop, done)
				time.Sleep(600 * time.Millisecond)
				close(stop)
				alone := <-done
				stop = make(chan struct{})
				go ingest(s, size.groups, size.partitions, stop, done)
				var longest time.Duration
				for b.Loop() {
					st, err := s.Snapshot(func(string, []byte) error { return nil })
					if err != nil {
						b.Fatal(err)
					}
					longest = max(longest, st.LongestSlice)
				}
				close(stop)
				b.ReportMetric(float64(longest.Microseconds())/1000, "max-pause-ms")
				b.ReportMetric(float64((<-done).Microseconds())/1000, "max-handle-ms")
				b.ReportMetric(float64(alone.Microseconds())/1000, "max-handle-alone-ms")
			})
			b.Run("restore", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					snap, err := f.Read()
					if err != nil {
						b.Fatal(err)
					}
					r, _ := newStore(b, cfg)
					st, err := r.Restore(snap.All())
					if err != nil || st.Partitions != int(gps) || st.Malformed != 0 {
						b.Fatalf("restored %+v, %v", st, err)
					}
				}
			})
		})
	}
}

// ingest commits to the store's groups until stop, then sends the longest a
// Handle call took.
func ingest(s *Store, groups, partitions int, stop chan struct{}, done chan time.Duration) {
	var longest time.Duration
	r := &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c", Timestamp: testNow}
	order := int64(1 << 50)
	for i := 0; ; i++ {
		if i%1024 == 0 {
			select {
			case <-stop:
				done <- longest
				return
			default:
			}
		}
		g := i / partitions % groups
		r.Group, r.Topic = fmt.Sprint("group-", g), fmt.Sprint("topic-", g%50)
		r.Partition = int32(i % partitions)
		order++
		r.Order, r.Offset = order, order
		start := time.Now()
		s.Handle(r)
		longest = max(longest, time.Since(start))
	}
}
