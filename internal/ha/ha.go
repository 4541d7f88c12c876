// Package ha lets several Warren processes watch the same clusters while one
// of them, the leader, evaluates for the notifier and sends notifications. The
// instances elect the leader on Kafka's own group protocol: each joins one
// consumer group on a one-partition coordination topic, and the member
// assigned that partition leads. The leader writes every change of the
// notifier's incidents to a compacted state topic, which every instance reads
// continuously, so that the next leader goes on with the same incidents
// (docs/architecture.md, "Several instances").
//
// Safety: the leader stops leading (Follow) before it gives the partition up
// (the group's revoke callback), and also, on its own, when it has not heard
// from the group coordinator for its lease (the session timeout less one
// heartbeat interval, measured from when its last successful heartbeat was
// sent): the coordinator expels a member only a session timeout after it last
// heard from it, so a leader cut off from Kafka stops sending before another
// can be elected. Records carry the writer's epoch and generation, and
// readers skip those of deposed leaders (see record.go).
package ha

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/kafka"
	"github.com/warrenlag/warren/internal/throttle"
)

// Notifier is what the coordinator drives: notifier.Coordinator.
type Notifier interface {
	// Lead applies the records and makes the notifier evaluate and send.
	Lead(sections iter.Seq2[string, []byte]) int
	// Follow makes it passive.
	Follow()
}

// Why a leader stopped leading: the label of warren_ha_demotions_total.
const (
	demoteRevoked = iota // the group gave the partition to another member
	demoteLost           // the group session ended on an error
	demoteLease          // no word from the coordinator for the lease
	demoteStop           // Stop
	numDemotions
)

var demotionNames = [numDemotions]string{"revoked", "lost", "lease", "stop"}

// Option changes a default of New.
type Option func(*Coordinator)

// WithClientOptions adds franz-go options to both clients (tests).
func WithClientOptions(opts ...kgo.Opt) Option {
	return func(c *Coordinator) { c.extra = append(c.extra, opts...) }
}

// Coordinator is one instance's member of the election and reader of the
// state topic. New builds it, SetNotifier gives it the notifier, Start joins,
// Stop leaves; the four must not be called concurrently. Its other methods
// are safe from any goroutine.
type Coordinator struct {
	cfg   config.HA
	log   *zap.Logger
	nt    Notifier
	extra []kgo.Opt
	lease time.Duration

	group *kgo.Client // the member of the election
	state *kgo.Client // reads and writes the state topic
	adm   *kadm.Client
	table *table

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}

	// mu orders the callbacks of the group with take-overs: leading changes
	// only under it, and Lead and Follow are called under it.
	mu       sync.Mutex
	assigned bool   // the group assigned us the partition
	session  uint64 // counts assignments and revocations
	leading  atomic.Bool

	writer      atomic.Pointer[fence] // our fence while leading, nil otherwise
	lastContact atomic.Int64          // Unix ns when the last successful request to the group coordinator was sent
	generation  atomic.Int32          // the group generation when a member, else -1
	member      atomic.Pointer[string]
	takeover    atomic.Int64 // ns the last take-over took, from assignment to Lead

	elections     atomic.Uint64
	demotions     [numDemotions]atomic.Uint64
	contactErrors atomic.Uint64
	writes        [numWrites]atomic.Uint64
	contactLog    throttle.Log
	assignedAt    atomic.Int64
}

// Results of writes to the state topic: the label of
// warren_ha_state_writes_total.
const (
	writeOK = iota
	writeFailed
	writeDropped // not leading when the notifier published
	numWrites
)

var writeNames = [numWrites]string{"ok", "failed", "dropped"}

// New builds the coordinator of cfg (config.HA, Enabled); it contacts nothing.
func New(cfg config.HA, log *zap.Logger, opts ...Option) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled {
		return nil, errors.New("ha: not enabled")
	}
	if log == nil {
		log = zap.NewNop()
	}
	c := &Coordinator{cfg: cfg, log: log, table: newTable(cfg.GroupID), wake: make(chan struct{}, 1),
		contactLog: throttle.Log{Every: 30 * time.Second}}
	c.lease = max(cfg.SessionTimeout-cfg.HeartbeatInterval, cfg.SessionTimeout/2)
	c.generation.Store(-1)
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// SetNotifier sets the notifier the coordinator drives; before Start.
func (c *Coordinator) SetNotifier(n Notifier) { c.nt = n }

// Leader reports whether this instance leads.
func (c *Coordinator) Leader() bool { return c.leading.Load() }

// Start checks the topics (creating them when allowed), starts reading the
// state topic and joins the group. It returns an error when the cluster
// cannot be reached or a topic is missing or wrong.
func (c *Coordinator) Start() error {
	if c.nt == nil {
		return errors.New("ha: no notifier")
	}
	base, err := kafka.ClientOptions(c.cfg.Servers, c.cfg.Profile)
	if err != nil {
		return fmt.Errorf("ha.cluster: %w", err)
	}
	base = append(base, c.extra...)
	c.state, err = kgo.NewClient(append(base,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.cfg.StateTopic: {0: kgo.NewOffset().AtStart()}}),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))...)
	if err != nil {
		return fmt.Errorf("ha: %w", err)
	}
	c.adm = kadm.NewClient(c.state)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.ensureTopics(ctx); err != nil {
		c.state.Close()
		return err
	}
	c.group, err = kgo.NewClient(append(base,
		kgo.ConsumerGroup(c.cfg.GroupID), kgo.ConsumeTopics(c.cfg.CoordinationTopic), kgo.DisableAutoCommit(),
		kgo.SessionTimeout(c.cfg.SessionTimeout), kgo.HeartbeatInterval(c.cfg.HeartbeatInterval),
		kgo.RebalanceTimeout(c.cfg.RebalanceTimeout),
		kgo.OnPartitionsAssigned(c.onAssigned), kgo.OnPartitionsRevoked(c.onRevoked), kgo.OnPartitionsLost(c.onLost),
		kgo.WithHooks(contactHook{c}))...)
	if err != nil {
		c.state.Close()
		return fmt.Errorf("ha: %w", err)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Go(c.read)
	c.wg.Go(c.drain)
	c.wg.Go(c.control)
	c.log.Info("joining the election", zap.String("cluster", c.cfg.Cluster), zap.String("group", c.cfg.GroupID),
		zap.String("state_topic", c.cfg.StateTopic), zap.Duration("session_timeout", c.cfg.SessionTimeout),
		zap.Duration("lease", c.lease))
	return nil
}

// stopWait bounds each of Stop's last writes and its leaving the group.
const stopWait = 5 * time.Second

// Stop stops leading, writes what is pending to the state topic (for at most
// a session timeout or stopWait), leaves the group at once, so that another member takes
// over without waiting for the session to expire, and closes the clients.
func (c *Coordinator) Stop() error {
	if c.cancel == nil {
		return nil
	}
	c.mu.Lock()
	c.assigned = false
	c.session++
	c.demote(demoteStop)
	c.mu.Unlock()
	c.cancel()
	// Bounded, so that Warren's whole stop stays within its 30 s even with
	// the coordinating cluster gone: the flush and the leave get a few
	// seconds each, never more than a session timeout.
	wait := min(c.cfg.SessionTimeout, stopWait)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	err := c.state.Flush(ctx)
	cancel()
	ctx, cancel = context.WithTimeout(context.Background(), wait)
	defer cancel()
	if lerr := c.group.LeaveGroupContext(ctx); lerr != nil && err == nil {
		err = lerr
	}
	c.group.Close()
	c.state.Close()
	c.wg.Wait()
	c.cancel = nil
	if err != nil {
		return fmt.Errorf("ha: %w", err)
	}
	return nil
}

// Publish writes a group's record to the state topic, when leading; it is
// the notifier's WithPublish function and never blocks.
func (c *Coordinator) Publish(cluster, group string, record []byte) {
	f := c.writer.Load()
	if f == nil {
		c.writes[writeDropped].Add(1)
		return
	}
	r := &kgo.Record{Topic: c.cfg.StateTopic, Partition: 0, Key: groupKey(cluster, group),
		Value: appendValue(nil, c.cfg.GroupID, *f, kindGroup, record)}
	c.state.TryProduce(context.Background(), r, c.produced)
}

func (c *Coordinator) produced(_ *kgo.Record, err error) {
	if err != nil {
		c.writes[writeFailed].Add(1)
		c.contactLog.Warn(c.log, "cannot write to the state topic", zap.Error(err))
		return
	}
	c.writes[writeOK].Add(1)
}

// onAssigned is the group's callback: holding the partition makes us the
// leader, once control has taken over.
func (c *Coordinator) onAssigned(_ context.Context, cl *kgo.Client, m map[string][]int32) {
	if len(m[c.cfg.CoordinationTopic]) == 0 {
		return
	}
	member, gen := cl.GroupMetadata()
	c.member.Store(&member)
	c.generation.Store(gen)
	c.mu.Lock()
	c.assigned = true
	c.session++
	c.mu.Unlock()
	c.assignedAt.Store(time.Now().UnixNano())
	c.log.Info("assigned the coordination partition: taking over", zap.String("member", member), zap.Int32("generation", gen))
	c.poke()
}

func (c *Coordinator) onRevoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	c.unassign(m, demoteRevoked)
}

func (c *Coordinator) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	c.generation.Store(-1)
	c.unassign(m, demoteLost)
}

// unassign stops leading before the group goes on: the callbacks block the
// rebalance until they return.
func (c *Coordinator) unassign(m map[string][]int32, why int) {
	if len(m[c.cfg.CoordinationTopic]) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.assigned = false
	c.session++
	c.demote(why)
}

// demote stops leading; the caller holds mu.
func (c *Coordinator) demote(why int) {
	if !c.leading.Load() {
		return
	}
	c.writer.Store(nil)
	c.nt.Follow()
	c.leading.Store(false)
	c.demotions[why].Add(1)
	if why == demoteLease {
		c.log.Warn("no word from the coordinating cluster for the lease: this instance stops sending notifications",
			zap.Duration("lease", c.lease))
	} else {
		c.log.Info("no longer the leader", zap.String("why", demotionNames[why]))
	}
}

// poke wakes control.
func (c *Coordinator) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// control takes over when assigned and in contact, steps down when the lease
// runs out, and, while not the leader, makes sure the topics exist (a
// cluster that came back empty).
func (c *Coordinator) control() {
	tick := time.NewTicker(min(c.lease/8, 250*time.Millisecond))
	defer tick.Stop()
	var lastEnsure time.Time
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		case <-c.wake:
		}
		fresh := time.Since(time.Unix(0, c.lastContact.Load())) < c.lease
		c.mu.Lock()
		assigned, sess := c.assigned, c.session
		want := assigned && fresh
		if c.leading.Load() && !want {
			c.demote(demoteLease)
		}
		c.mu.Unlock()
		switch {
		case want && !c.leading.Load():
			if err := c.takeOver(sess); err != nil {
				c.contactLog.Warn(c.log, "cannot take over yet; trying again", zap.Error(err))
			}
		case !assigned && c.cfg.CreateTopics && time.Since(lastEnsure) > c.cfg.SessionTimeout:
			lastEnsure = time.Now()
			ctx, cancel := context.WithTimeout(c.ctx, c.cfg.SessionTimeout)
			if err := c.ensureTopics(ctx); err != nil {
				c.contactLog.Warn(c.log, "cannot check the HA topics", zap.Error(err))
			}
			cancel()
		}
	}
}

// takeOver reads the state topic to its end, writes our marker, and makes
// the notifier lead with what it read, unless the assignment changed
// meanwhile (sess).
func (c *Coordinator) takeOver(sess uint64) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.lease)
	defer cancel()
	ends, err := c.adm.ListEndOffsets(ctx, c.cfg.StateTopic)
	if err != nil {
		return fmt.Errorf("state topic end: %w", err)
	}
	end, ok := ends.Lookup(c.cfg.StateTopic, 0)
	if !ok || end.Err != nil {
		return fmt.Errorf("state topic end: %v", end.Err)
	}
	for {
		next, _ := c.table.position()
		if next >= end.Offset {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("reading the state topic to offset %d: at %d: %w", end.Offset, next, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	member, gen := c.group.GroupMetadata()
	_, top := c.table.position()
	f := fence{epoch: max(top.epoch+1, uint64(max(gen, 0))), gen: gen}
	marker := &kgo.Record{Topic: c.cfg.StateTopic, Partition: 0, Key: []byte{kindLeader},
		Value: appendValue(nil, c.cfg.GroupID, f, kindLeader, []byte(member))}
	if err := c.state.ProduceSync(ctx, marker).FirstErr(); err != nil {
		return fmt.Errorf("writing the leader's marker: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != sess || !c.assigned {
		return nil // revoked meanwhile: the next assignment takes over
	}
	c.writer.Store(&f)
	n := c.nt.Lead(c.table.sections())
	c.leading.Store(true)
	c.elections.Add(1)
	took := time.Since(time.Unix(0, c.assignedAt.Load()))
	c.takeover.Store(int64(took))
	c.log.Info("leading: this instance evaluates and sends notifications", zap.String("member", member),
		zap.Int32("generation", gen), zap.Uint64("epoch", f.epoch), zap.Int("groups_with_incidents", n),
		zap.Duration("took", took))
	return nil
}

// read applies the state topic's records to the table until Stop.
func (c *Coordinator) read() {
	for {
		fs := c.state.PollFetches(c.ctx)
		if c.ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachError(func(topic string, p int32, err error) {
			c.contactLog.Warn(c.log, "cannot read the state topic", zap.Error(err))
		})
		fs.EachRecord(func(r *kgo.Record) {
			if res := c.table.apply(r.Offset, r.Key, r.Value); res != resultApplied && res != resultTombstone {
				c.log.Debug("state record skipped", zap.Int64("offset", r.Offset), zap.String("why", resultNames[res]))
			}
		})
	}
}

// drain polls the group's client, whose topic nobody writes to, so that
// nothing accumulates.
func (c *Coordinator) drain() {
	for {
		fs := c.group.PollFetches(c.ctx)
		if c.ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
	}
}

// ensureTopics creates the topics when missing and allowed, and checks the
// coordination topic's single partition.
func (c *Coordinator) ensureTopics(ctx context.Context) error {
	details, err := c.adm.ListTopics(ctx, c.cfg.CoordinationTopic, c.cfg.StateTopic)
	if err != nil {
		return fmt.Errorf("ha: cannot reach the coordinating cluster %s at %v: %w", c.cfg.Cluster, c.cfg.Servers, err)
	}
	compact := "compact"
	for _, topic := range []string{c.cfg.CoordinationTopic, c.cfg.StateTopic} {
		d, ok := details[topic]
		if ok && d.Err == nil {
			if topic == c.cfg.CoordinationTopic && len(d.Partitions) != 1 {
				return fmt.Errorf("ha.coordination-topic: %s has %d partitions; it must have exactly one, or several instances would lead",
					topic, len(d.Partitions))
			}
			continue
		}
		key := "ha.coordination-topic"
		if topic == c.cfg.StateTopic {
			key = "ha.state-topic"
		}
		if !c.cfg.CreateTopics {
			return fmt.Errorf("%s: topic %s does not exist on cluster %s, and ha.create-topics is false: create it (one partition%s)",
				key, topic, c.cfg.Cluster, map[bool]string{true: ", cleanup.policy=compact"}[topic == c.cfg.StateTopic])
		}
		var configs map[string]*string
		if topic == c.cfg.StateTopic {
			configs = map[string]*string{"cleanup.policy": &compact}
		}
		res, err := c.adm.CreateTopic(ctx, 1, int16(c.cfg.ReplicationFactor), configs, topic)
		if err == nil {
			err = res.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("%s: cannot create topic %s on cluster %s: %w", key, topic, c.cfg.Cluster, err)
		}
		c.log.Info("created topic", zap.String("topic", topic))
	}
	return nil
}

// contactHook records when the last successful request to the group
// coordinator was sent, and counts the failed ones.
type contactHook struct{ c *Coordinator }

// The group requests: JoinGroup, Heartbeat, SyncGroup.
const keyJoin, keyHeartbeat, keySync = 11, 12, 14

func (h contactHook) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if key != keyJoin && key != keyHeartbeat && key != keySync {
		return
	}
	c := h.c
	if err := e2e.Err(); err != nil {
		c.contactErrors.Add(1)
		c.contactLog.Warn(c.log, "cannot reach the coordinating cluster's group coordinator: while this lasts no instance that cannot reach it sends notifications",
			zap.Error(err), zap.Bool("leader", c.leading.Load()))
		return
	}
	sent := time.Now().Add(-e2e.DurationE2E()).UnixNano()
	for {
		old := c.lastContact.Load()
		if sent <= old || c.lastContact.CompareAndSwap(old, sent) {
			break
		}
	}
}
