// Package demo runs Warren's embedded demonstration: an in-process Kafka cluster
// (franz-go's kfake) on loopback with a small live workload, so that a newcomer
// sees Warren work with one command and no Kafka of their own.
//
// The workload shows the cases an operator meets:
//
//	billing    keeps up with orders                        (healthy)
//	analytics  reads orders slower than they are produced  (falling behind)
//	audit      read payments for a while, then left         (stopped)
//	search     is a live member stuck on one offset         (stalled)
package demo

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/viper"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
)

// Ports are the loopback ports of the demo's Kafka brokers.
var Ports = []int{39092, 39093}

// Options tune the demo; the zero value is the one the README describes.
type Options struct {
	// Ports overrides Ports (0 picks a free port; tests use that).
	Ports []int
	// HTTPAddress is Warren's listener (default 127.0.0.1:8000).
	HTTPAddress string
	// Refresh is the cluster's offset-refresh and the admin poll interval in
	// seconds (default 5).
	Refresh int
	// Rate is records per second produced to each topic (default 20).
	Rate int
	// AuditFor is how long the audit group reads before it stops (default 30 s).
	AuditFor time.Duration
}

// Demo is a running demonstration.
type Demo struct {
	Cluster *kfake.Cluster
	opts    Options
	log     *zap.Logger
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Topics of the demo and their partition counts.
var topics = map[string]int32{"orders": 6, "payments": 3}

// Start starts the cluster and the workload.
func Start(opts Options, log *zap.Logger) (*Demo, error) {
	if opts.Ports == nil {
		opts.Ports = Ports
	}
	if opts.HTTPAddress == "" {
		opts.HTTPAddress = "127.0.0.1:8000"
	}
	if opts.Refresh <= 0 {
		opts.Refresh = 5
	}
	if opts.Rate <= 0 {
		opts.Rate = 20
	}
	if opts.AuditFor <= 0 {
		opts.AuditFor = 30 * time.Second
	}
	kf, err := kfake.NewCluster(kfake.NumBrokers(len(opts.Ports)), kfake.Ports(opts.Ports...),
		kfake.SeedTopics(6, "orders"), kfake.SeedTopics(3, "payments"))
	if err != nil {
		return nil, fmt.Errorf("demo: cannot start the embedded Kafka cluster on 127.0.0.1 ports %v: %w", opts.Ports, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Demo{Cluster: kf, opts: opts, log: log, cancel: cancel}
	seeds := kf.ListenAddrs()
	d.run(func() { d.produce(ctx, seeds) })
	d.run(func() { d.consume(ctx, seeds, "billing", "orders", 0) })
	d.run(func() { d.lagging(ctx, seeds, "analytics", "orders") })
	d.run(func() { d.consume(ctx, seeds, "audit", "payments", opts.AuditFor) })
	d.run(func() { d.stuck(ctx, seeds) })
	return d, nil
}

func (d *Demo) run(f func()) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f()
	}()
}

// Stop ends the workload and the cluster.
func (d *Demo) Stop() {
	d.cancel()
	d.wg.Wait()
	d.Cluster.Close()
}

// Config is the configuration under which Warren watches the demo cluster: the
// same keys as a Burrow file, so the demo runs through the same code as a real
// cluster. Committed offsets come from the admin API (kfake has no offsets topic).
func (d *Demo) Config() *viper.Viper {
	// Defaults, not Set: Set outranks the environment, and a BURROW_...
	// override must win over the demo's choices.
	v := viper.New()
	servers := d.Cluster.ListenAddrs()
	v.SetDefault("general.pidfile", "")
	v.SetDefault("general.state-dir", "") // the demo's cluster lives and dies with the process
	v.SetDefault("cluster.local.class-name", "kafka")
	v.SetDefault("cluster.local.servers", servers)
	v.SetDefault("cluster.local.offset-refresh", d.opts.Refresh)
	v.SetDefault("cluster.local.topic-refresh", 60)
	v.SetDefault("consumer.local.class-name", "kafka")
	v.SetDefault("consumer.local.cluster", "local")
	v.SetDefault("consumer.local.servers", servers)
	v.SetDefault("consumer.local.offsets-source", "admin")
	v.SetDefault("httpserver.default.address", d.opts.HTTPAddress)
	// Alerts on the console: a log notifier that checks every group often,
	// repeats an open alert every minute, and says when a group recovers.
	v.SetDefault("notifier.console.class-name", "log")
	v.SetDefault("notifier.console.interval", 10)
	v.SetDefault("notifier.console.send-interval", 60)
	v.SetDefault("notifier.console.threshold", 2)
	v.SetDefault("notifier.console.send-close", true)
	v.SetDefault("notifier.console.template-open", "builtin:text-open")
	v.SetDefault("notifier.console.template-close", "builtin:text-close")
	return v
}

// Describe is the console text that says what the demo is and where to look:
// the dashboard (dashboard, the first URL it prints), then Burrow's API on
// the listener httpAddr.
func (d *Demo) Describe(dashboard, httpAddr string) string {
	base := "http://" + strings.Replace(httpAddr, "0.0.0.0", "localhost", 1)
	return fmt.Sprintf(`Warren's dashboard: %s

Warren demo: an embedded Kafka cluster on %s with a live workload.
  billing    keeps up with orders                        (healthy)
  analytics  reads orders slower than they are produced  (falling behind)
  audit      reads payments for %s, then stops         (stopped)
  search     is a live member stuck on one offset        (stalled)
The same in Burrow's API:
  %s/v3/kafka/local/consumer
  %s/v3/kafka/local/consumer/billing
  %s/v3/kafka/local/topic
Alerts for the groups that are not OK appear in the log as they happen (a "log"
notifier, checked every 10 s). Stop with Ctrl-C. Point Warren at a real cluster
with --config burrow.toml.
`, dashboard, strings.Join(d.Cluster.ListenAddrs(), ","), d.opts.AuditFor, base, base, base)
}

// produce writes Rate records per second to each topic, round robin over the
// partitions.
func (d *Demo) produce(ctx context.Context, seeds []string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID("demo-producer"),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		d.log.Error("demo producer", zap.Error(err))
		return
	}
	defer cl.Close()
	t := time.NewTicker(time.Second / time.Duration(d.opts.Rate))
	defer t.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for topic := range topics {
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "event %d", n)}, nil)
		}
		n++
	}
}

// consume reads topic in group as fast as records come, committing every
// second; with stopAfter > 0 it leaves the group after that long.
func (d *Demo) consume(ctx context.Context, seeds []string, group, topic string, stopAfter time.Duration) {
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ClientID(group + "-client"), kgo.AutoCommitInterval(time.Second),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		d.log.Error("demo consumer", zap.String("group", group), zap.Error(err))
		return
	}
	defer cl.Close()
	var deadline <-chan time.Time
	if stopAfter > 0 {
		t := time.NewTimer(stopAfter)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			cl.CommitUncommittedOffsets(ctx)
			return // leaves the group: it stops committing
		default:
		}
		if cl.PollFetches(ctx).IsClientClosed() {
			return
		}
	}
}

// lagging reads topic in group as fast as records come, but processes them
// more slowly than the producers write: every second it commits at most half a
// partition's share of the production further on each partition. So every
// partition moves, and every partition's lag grows: a consumer falling behind
// (WARN), not one stuck on some partitions while it works through a large batch
// of another (which would be STALL).
func (d *Demo) lagging(ctx context.Context, seeds []string, group, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ClientID(group+"-client"), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		d.log.Error("demo consumer", zap.String("group", group), zap.Error(err))
		return
	}
	defer cl.Close()
	step := max(1, int64(d.opts.Rate)/(2*int64(topics[topic])))
	fetched := map[int32]int64{} // next offset read, per partition
	processed := map[int32]int64{}
	next := time.Now().Add(time.Second)
	for ctx.Err() == nil {
		poll, cancel := context.WithDeadline(ctx, next)
		fs := cl.PollFetches(poll)
		cancel()
		if fs.IsClientClosed() {
			return
		}
		fs.EachRecord(func(r *kgo.Record) { fetched[r.Partition] = r.Offset + 1 })
		if time.Now().Before(next) {
			continue
		}
		next = next.Add(time.Second)
		commit := map[int32]kgo.EpochOffset{}
		for p, end := range fetched {
			if at := min(end, processed[p]+step); at > processed[p] {
				processed[p] = at
				commit[p] = kgo.EpochOffset{Epoch: -1, Offset: at}
			}
		}
		if len(commit) > 0 {
			cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{topic: commit}, nil)
		}
	}
}

// stuck joins the search group, commits once, and then stays a member without
// reading further, as a consumer wedged on one record does.
func (d *Demo) stuck(ctx context.Context, seeds []string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup("search"), kgo.ConsumeTopics("orders"),
		kgo.ClientID("search-client"), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		d.log.Error("demo consumer", zap.String("group", "search"), zap.Error(err))
		return
	}
	defer cl.Close()
	for ctx.Err() == nil {
		fs := cl.PollRecords(ctx, 50)
		if fs.NumRecords() > 0 {
			cl.CommitUncommittedOffsets(ctx)
			break
		}
	}
	<-ctx.Done()
}
