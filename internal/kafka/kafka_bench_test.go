package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// benchRecords are offset commits (key v1, value v3) of 100 groups over 50
// partitions, as the offsets topic holds them.
func benchRecords(n int) (keys, values [][]byte) {
	for i := range n {
		keys = append(keys, commitKey(1, fmt.Sprintf("group-%03d", i%100), "orders", int32(i%50)))
		values = append(values, commitValue(3, int64(i), time.Now().UnixMilli(), ""))
	}
	return keys, values
}

// BenchmarkDecode decodes offset-commit records; one op is one record.
func BenchmarkDecode(b *testing.B) {
	keys, values := benchRecords(1000)
	d := &decoder{cluster: "local"}
	emit := func(*protocol.StorageRequest) {}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.decode(keys[i%1000], values[i%1000], int64(i), emit)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeForward decodes records and forwards what the reader sends for
// each (its progress commit and the group's commit) into a started storage
// through its channel; one op is one record.
func BenchmarkDecodeForward(b *testing.B) {
	decodeAndSend(b, newBenchStorage(b))
}

// BenchmarkDecodeSend is BenchmarkDecodeForward with a receiver that drops the
// requests: the consumer side's own cost, without storage's.
func BenchmarkDecodeSend(b *testing.B) {
	ch := make(chan *protocol.StorageRequest)
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	decodeAndSend(b, ch)
	close(ch)
	<-done
}

// decodeAndSend is the reader's work per record: its progress commit, then the
// decoded record, sent on ch.
func decodeAndSend(b *testing.B, ch chan *protocol.StorageRequest) {
	keys, values := benchRecords(1000)
	d := &decoder{cluster: "local"}
	ctx := context.Background()
	out := sender{ch: ch}
	emit := func(r *protocol.StorageRequest) { out.send(ctx, r) }
	now := time.Now().UnixMilli()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local",
			Group: "burrow-local", Topic: "__consumer_offsets", Partition: 0, Offset: int64(i + 1), Order: int64(i), Timestamp: now})
		d.decode(keys[i%1000], values[i%1000], int64(i), emit)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// newBenchStorage is a started storage with broker offsets for the records of
// benchRecords and for the offsets topic.
func newBenchStorage(b *testing.B) chan *protocol.StorageRequest {
	e := newEnv(b, "orders")
	now := time.Now().UnixMilli()
	for p := range 50 {
		e.storage <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "local",
			Topic: "orders", Partition: int32(p), TopicPartitionCount: 50, Offset: 1 << 40, Timestamp: now}
	}
	e.storage <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "local",
		Topic: "__consumer_offsets", Partition: 0, TopicPartitionCount: 1, Offset: 1 << 40, Timestamp: now}
	return e.storage
}

// BenchmarkAdminPoll is one poll of the admin source over groups of 10 topics
// in kfake whose members are unknown (DescribeGroups fails, so every group
// counts as live and each of its offsets must be committed again every poll,
// as for a group with members). With state=kept the source polls as it does in
// steady state, every offset unchanged since the last poll; with
// state=forgotten every offset is new to it, as after a start or a switch of
// offsets-source auto. It reports the requests storage took per poll.
func BenchmarkAdminPoll(b *testing.B) {
	for _, size := range []struct{ groups, partitions int }{{200, 500}, {1000, 1000}} {
		for _, state := range []string{"kept", "forgotten"} {
			name := fmt.Sprintf("groups=%d/partitions=%d/state=%s", size.groups, size.partitions, state)
			b.Run(name, func(b *testing.B) {
				e, a := setupPoll(b, size.groups, size.partitions/10)
				e.kf.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.DescribeGroups}, Err: kerr.UnknownServerError, Count: -1})
				ctx := context.Background()
				a.Poll(ctx) // the first poll of live groups
				before := storageRequests(b, e)
				b.ReportAllocs()
				for b.Loop() {
					if state == "forgotten" {
						forgetState(a)
					}
					a.Poll(ctx)
				}
				b.ReportMetric(float64(storageRequests(b, e)-before)/float64(b.N), "storage-requests/op")
				last := fmt.Sprintf("group-%03d", size.groups-1)
				g := e.group(b, last)
				if g == nil || len(g) != 10 {
					b.Fatalf("%s: %d topics", last, len(g))
				}
				for _, p := range g["topic-9-big"] {
					if n := countCommits(p); n < min(b.N+2, 10) {
						b.Fatalf("%s: %d commits after %d polls", last, n, b.N+2)
					}
				}
			})
		}
	}
}

// countCommits counts the commits of a partition's window.
func countCommits(p *protocol.ConsumerPartition) int {
	n := 0
	for _, o := range p.Offsets {
		if o != nil {
			n++
		}
	}
	return n
}

// storageRequests returns how many requests storage has taken so far.
func storageRequests(b *testing.B, e *env) uint64 {
	b.Helper()
	reqs, _ := e.sc.Stats()
	n := uint64(0)
	for _, v := range reqs {
		n += v
	}
	return n
}

// setupPoll commits offsets of groups over 10 topics of perTopic partitions
// and starts the cluster module and an admin source.
func setupPoll(b testing.TB, groups, perTopic int) (*env, *AdminSource) {
	var topics []string
	for t := range 10 {
		topics = append(topics, fmt.Sprintf("topic-%d", t))
	}
	e := newEnv(b, topics...)
	for _, t := range topics {
		if err := e.kf.CreateTopic(t+"-big", int32(perTopic), nil); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	offsets := kadm.Offsets{}
	for _, t := range topics {
		for p := range int32(perTopic) {
			offsets.Add(kadm.Offset{Topic: t + "-big", Partition: p, At: int64(p) + 1, LeaderEpoch: -1})
		}
	}
	for g := range groups {
		if _, err := e.adm.CommitOffsets(ctx, fmt.Sprintf("group-%03d", g), offsets); err != nil {
			b.Fatal(err)
		}
	}
	cl, _ := NewCluster(clusterConfig(e), e.storage, zap.NewNop())
	if err := cl.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Stop)
	cfg := config.Consumer{Name: "local", Cluster: "local", Servers: e.kf.ListenAddrs(), Profile: &config.ClientProfile{}}
	a, _ := NewAdminSource(cfg, time.Hour, e.storage, zap.NewNop())
	if err := a.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Stop)
	eventually(b, "the first poll", func() bool { return a.Polls.Load() >= 1 })
	return e, a
}

// forgetState makes the source forget what it sent, as a start does.
func forgetState(a *AdminSource) {
	a.groups = map[string]*polledGroup{}
	a.prevOrder = 0
}
