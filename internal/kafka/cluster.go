package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/throttle"
	"github.com/warrenlag/warren/protocol"
)

// connectTimeout bounds the first contact with a cluster at start.
const connectTimeout = 15 * time.Second

// Cluster is the cluster module: it refreshes the topic list every topic-refresh
// and records the newest offset of every partition every offset-refresh.
type Cluster struct {
	cfg  config.Cluster
	log  *zap.Logger
	out  sender
	opts []kgo.Opt

	client *kgo.Client
	adm    *kadm.Client
	bg     background

	mu          sync.Mutex
	topics      map[string]topicInfo // from the last good metadata refresh
	refreshes   int
	needRefresh bool
	warnings    throttle.Log

	// Errors counts failed Kafka requests (for metrics).
	Errors atomic.Uint64
	// Rounds counts offset rounds completed.
	Rounds    atomic.Uint64
	lastRound atomic.Int64 // ns
}

// Stats returns the module's counts.
func (c *Cluster) Stats() Stats {
	return Stats{Errors: c.Errors.Load(), Rounds: c.Rounds.Load(), LastRound: time.Duration(c.lastRound.Load())}
}

type topicInfo struct {
	count   int32   // partitions in the metadata, leaderless ones included
	leaders []int32 // partitions that have a leader
}

// NewCluster prepares the cluster module; it connects to nothing.
func NewCluster(cfg config.Cluster, storage chan *protocol.StorageRequest, log *zap.Logger) (*Cluster, error) {
	opts, err := ClientOptions(cfg.Servers, cfg.Profile)
	if err != nil {
		return nil, fmt.Errorf("cluster.%s: %w", cfg.Name, err)
	}
	return &Cluster{cfg: cfg, log: log, out: sender{ch: storage}, opts: opts,
		warnings: throttle.Log{Every: 30 * time.Second}}, nil
}

// Start connects, refreshes the topics and records the newest offsets once, and
// then keeps doing so in the background. A cluster that cannot be reached is an
// error.
func (c *Cluster) Start() error {
	var err error
	c.client, c.adm, err = connect("cluster."+c.cfg.Name, c.cfg.Servers, c.opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	c.refresh(ctx)
	c.offsets(ctx)
	c.bg.start(c.loop)
	c.log.Info("started", zap.Int("topics", len(c.topics)))
	return nil
}

// Stop ends the loop and closes the connections.
func (c *Cluster) Stop() {
	if c.bg.stop() {
		c.client.Close()
	}
}

func (c *Cluster) loop(ctx context.Context) {
	offsets := time.NewTicker(c.cfg.OffsetRefresh)
	defer offsets.Stop()
	topics := time.NewTicker(c.cfg.TopicRefresh)
	defer topics.Stop()
	var reap <-chan time.Time
	if c.cfg.GroupsReaperRefresh > 0 {
		if reaperSupported(c.cfg.Profile) {
			t := time.NewTicker(c.cfg.GroupsReaperRefresh)
			defer t.Stop()
			reap = t.C
		} else {
			c.log.Warn("groups reaper disabled: it needs kafka-version 0.11.0 or later")
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-reap:
			c.Reap(ctx)
		case <-topics.C:
			c.mu.Lock()
			c.needRefresh = true
			c.mu.Unlock()
		case <-offsets.C:
			c.offsets(ctx)
		}
	}
}

// refresh reads the topics and their partitions. On failure the previous list
// is kept and nothing is deleted; from the second good refresh on, a topic that
// disappeared is deleted from storage.
func (c *Cluster) refresh(ctx context.Context) {
	// A request of our own: the admin client would answer from a metadata
	// cache up to seconds old, and miss a deletion.
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, c.client)
	if err != nil {
		c.Errors.Add(1)
		c.warnings.Warn(c.log, "cannot list topics; keeping the previous list", zap.Error(err))
		return
	}
	topics := make(map[string]topicInfo, len(resp.Topics))
	for _, d := range resp.Topics {
		if d.Topic == nil {
			continue
		}
		name := *d.Topic
		if err := kerr.ErrorForCode(d.ErrorCode); errors.Is(err, kerr.TopicAuthorizationFailed) {
			// One topic we may not see must not stop every refresh.
			c.Errors.Add(1)
			c.warnings.Warn(c.log, "not authorized to describe a topic; it is left out", zap.String("topic", name))
			continue
		} else if err != nil {
			c.Errors.Add(1)
			c.warnings.Warn(c.log, "cannot list the partitions of a topic; keeping the previous list",
				zap.String("topic", name), zap.Error(err))
			return
		}
		info := topicInfo{count: int32(len(d.Partitions))}
		parts := d.Partitions
		sort.Slice(parts, func(i, j int) bool { return parts[i].Partition < parts[j].Partition })
		for _, p := range parts {
			if p.Leader < 0 {
				c.warnings.Warn(c.log, "partition has no leader; skipped until it has one",
					zap.String("topic", name), zap.Int32("partition", p.Partition))
				continue
			}
			info.leaders = append(info.leaders, p.Partition)
		}
		topics[name] = info
	}
	c.mu.Lock()
	old := c.topics
	c.topics = topics
	c.refreshes++
	first := c.refreshes == 1
	c.needRefresh = false
	c.mu.Unlock()
	if first {
		return
	}
	var gone []string
	for name := range old {
		if _, ok := topics[name]; !ok {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		c.log.Info("topic deleted", zap.String("topic", name))
		c.out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetDeleteTopic, Cluster: c.cfg.Name, Topic: name})
	}
}

// offsets records the newest offset of every partition that has a leader. The
// client sends one ListOffsets request per leader broker.
func (c *Cluster) offsets(ctx context.Context) {
	start := time.Now()
	c.mu.Lock()
	need := c.needRefresh || c.topics == nil
	c.mu.Unlock()
	if need {
		c.refresh(ctx)
	}
	c.mu.Lock()
	topics := c.topics
	c.mu.Unlock()
	if len(topics) == 0 {
		return
	}
	names := make([]string, 0, len(topics))
	for name := range topics {
		names = append(names, name)
	}
	listed, err := c.adm.ListEndOffsets(ctx, names...)
	if err != nil && ctx.Err() == nil {
		c.Errors.Add(1)
		c.warnings.Warn(c.log, "cannot list offsets", zap.Error(err))
	}
	now := time.Now().UnixMilli()
	for name, info := range topics {
		parts := listed[name]
		for _, p := range info.leaders {
			o, ok := parts[p]
			switch {
			case !ok:
				continue // its broker failed; logged above
			case o.Err != nil:
				c.Errors.Add(1)
				c.warnings.Warn(c.log, "cannot list the offset of a partition; refreshing metadata",
					zap.String("topic", name), zap.Int32("partition", p), zap.Error(o.Err))
				c.mu.Lock()
				c.needRefresh = true
				c.mu.Unlock()
				continue
			case o.Offset < 0:
				c.warnings.Warn(c.log, "broker gave no offset for a partition", zap.String("topic", name), zap.Int32("partition", p))
				continue
			}
			if !c.out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset,
				Cluster: c.cfg.Name, Topic: name, Partition: p, TopicPartitionCount: info.count,
				Offset: o.Offset, Timestamp: now}) {
				return
			}
		}
	}
	c.Rounds.Add(1)
	c.lastRound.Store(int64(time.Since(start)))
}

// Reap deletes from storage every group of this cluster that Kafka no longer
// knows, except Warren's own progress groups. A run is skipped when any broker
// fails to list its groups or storage does not answer in time: a partial list
// must never delete groups.
func (c *Cluster) Reap(ctx context.Context) {
	listed, err := c.adm.ListGroups(ctx)
	if err != nil {
		c.Errors.Add(1)
		c.warnings.Warn(c.log, "groups reaper: cannot list the groups of every broker; run skipped", zap.Error(err))
		return
	}
	known := make(map[string]bool, len(listed))
	for name := range listed {
		known[name] = true
	}
	v, ok, err := c.out.ask(ctx, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers, Cluster: c.cfg.Name}, 20*time.Second)
	if err != nil || !ok {
		c.warnings.Warn(c.log, "groups reaper: storage did not list the groups; run skipped", zap.Error(err))
		return
	}
	stored, _ := v.([]string)
	sort.Strings(stored)
	for _, name := range stored {
		if known[name] || c.exempt(name) {
			continue
		}
		c.log.Info("groups reaper: removing a group Kafka no longer knows", zap.String("group", name))
		if !c.out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: c.cfg.Name, Group: name}) {
			return
		}
	}
}

// exempt says whether group is one of Warren's own progress groups
// (burrow-<consumer module name>) of this cluster.
func (c *Cluster) exempt(group string) bool {
	if group == "burrow-"+c.cfg.Name {
		return true
	}
	for _, name := range c.cfg.ProgressGroups {
		if group == name {
			return true
		}
	}
	return false
}

// reaperSupported says whether the profile's Kafka version has ListGroups as
// the reaper needs it (0.11.0 and later).
func reaperSupported(p *config.ClientProfile) bool {
	if p == nil || p.KafkaVersion == "" {
		return false
	}
	v := p.KafkaVersion
	if strings.HasPrefix(v, "0.") {
		parts := strings.Split(v, ".")
		return len(parts) >= 2 && len(parts[1]) >= 2 && parts[1] >= "11"
	}
	return true
}
