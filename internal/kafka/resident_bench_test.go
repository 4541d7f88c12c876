package kafka

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/viper"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// The fleet (issue 11, part 2): 1,000 groups x 10 topics x 100
// partitions, read from an offsets topic of 500 partitions, whose progress
// group adds 500 group-partitions: 1,000,500 in all.
const (
	fleetGroups     = 1000
	fleetTopics     = 10
	fleetPartitions = 100
	fleetOffsets    = 500 // partitions of the offsets topic
)

// BenchmarkResident ingests 2 M offset commits (two rounds over the fleet) the
// way the offsets-topic reader delivers them, then forces a collection and
// reports the process's resident memory (VmRSS) against the live heap. Each
// record is encoded as Kafka writes it, decoded by the reader's decoder, and
// sent with the reader's progress commit on the channel of a started storage,
// one goroutine per sender as the reader does; only kgo's fetch buffers are
// left out (kfake would hold the 2 M records in this process).
//
// Resident memory only means something in a fresh process: run it alone, once.
//
//	go test ./internal/kafka -run XXX -bench Resident -benchtime 1x
func BenchmarkResident(b *testing.B) {
	for b.Loop() {
		app := fleetStorage(b)
		ingestFleet(b, app.StorageChannel, 2)
		runtime.GC()
		live := liveHeap()
		rss := residentBytes(b)
		gps := float64(fleetGroups*fleetTopics*fleetPartitions + fleetOffsets)
		b.ReportMetric(float64(rss)/1e6, "rss-MB")
		b.ReportMetric(float64(live)/1e6, "live-MB")
		b.ReportMetric(float64(rss)/float64(live), "rss/live")
		b.ReportMetric(float64(rss)/gps, "rss-B/gp")
		b.ReportMetric(float64(live)/gps, "live-B/gp")
		runtime.KeepAlive(app)
	}
}

// fleetStorage starts storage (defaults: intervals 10, 20 workers) holding the
// fleet's broker offsets and those of the offsets topic.
func fleetStorage(b *testing.B) *protocol.ApplicationContext {
	b.Helper()
	v := viper.New()
	v.Set("cluster.local.class-name", "kafka")
	app := &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v, StorageChannel: make(chan *protocol.StorageRequest)}
	sc := &storage.Coordinator{App: app}
	sc.Configure()
	if err := sc.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sc.Stop() })
	now := time.Now().UnixMilli()
	broker := func(topic string, p, count int) {
		app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "local",
			Topic: topic, Partition: int32(p), TopicPartitionCount: int32(count), Offset: 1 << 40, Timestamp: now}
	}
	for t := range fleetTopics {
		for p := range fleetPartitions {
			broker(fleetTopic(t), p, fleetPartitions)
		}
	}
	for p := range fleetOffsets {
		broker("__consumer_offsets", p, fleetOffsets)
	}
	return app
}

func fleetTopic(t int) string { return "topic-" + strconv.Itoa(t) }

// ingestFleet sends rounds commits of every group-partition as the reader
// would read them: a group's records live in one partition of the offsets
// topic, each record's Order is its offset there, and a group commits all its
// partitions at once. It returns once storage has applied them all.
func ingestFleet(b *testing.B, ch chan *protocol.StorageRequest, rounds int) {
	groups := make([]string, fleetGroups)
	for g := range groups {
		groups[g] = fmt.Sprintf("group-%04d", g)
	}
	topics := make([]string, fleetTopics)
	for t := range topics {
		topics[t] = fleetTopic(t)
	}
	d := &decoder{cluster: "local"}
	out := sender{ch: ch}
	ctx := context.Background()
	emit := func(r *protocol.StorageRequest) { out.send(ctx, r) }
	var next [fleetOffsets]int64 // next record offset, by offsets-topic partition
	key, value := kmsg.NewOffsetCommitKey(), kmsg.NewOffsetCommitValue()
	key.Version, value.Version, value.LeaderEpoch = 1, 3, 7
	var kb, vb []byte
	start := time.Now().UnixMilli() - int64(rounds)*60_000
	for round := range rounds {
		for g, group := range groups {
			part := int32(g % fleetOffsets)
			now := time.Now().Unix() * 1000 // once per poll, as the reader stamps its progress
			for _, topic := range topics {
				for p := range int32(fleetPartitions) {
					key.Group, key.Topic, key.Partition = group, topic, p
					value.Offset = int64(round+1) * 1000
					value.CommitTimestamp = start + int64(round)*60_000
					kb, vb = key.AppendTo(kb[:0]), value.AppendTo(vb[:0])
					order := next[part]
					next[part]++
					out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset,
						Cluster: "local", Group: "burrow-local", Topic: "__consumer_offsets", Partition: part,
						Offset: order + 1, Order: order, Timestamp: now})
					if why, detail := d.decode(kb, vb, order, emit); why != skipNone {
						b.Fatalf("record skipped: %s", detail)
					}
				}
			}
		}
	}
	reply := make(chan any)
	ch <- &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers, Cluster: "local", Reply: reply}
	if names := (<-reply).([]string); len(names) != fleetGroups+1 {
		b.Fatalf("%d groups stored", len(names))
	}
}

// liveHeap returns the heap the last collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// residentBytes returns the process's resident memory (VmRSS).
func residentBytes(b *testing.B) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
