package kafka

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
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

// AdminSource reads committed offsets and owners through the admin API
// (ListGroups, DescribeGroups, OffsetFetch), for clusters whose offsets topic
// cannot be read. Every poll, a changed offset is sent as a commit; an unchanged
// one is sent again only while the group has members, so that a live consumer
// that does not move looks stuck and one that left looks stopped. Commits are
// stamped with the time they were observed; their Order is the poll's time in
// Unix milliseconds, kept rising.
//
// A live group's offsets that did not change since the previous poll go to
// storage as runs of consecutive partitions, one StorageSetConsumerRepeat each,
// rather than one StorageSetConsumerOffset per partition: storage repeats the
// commits of the previous poll and answers with the partitions it could not,
// which are then sent one by one. A storage that does not know the request
// gets every partition one by one from then on.
type AdminSource struct {
	cfg      config.Consumer
	interval time.Duration
	log      *zap.Logger
	out      sender
	opts     []kgo.Opt

	allow, deny *regexp.Regexp
	client      *kgo.Client
	adm         *kadm.Client
	bg          background

	now      func() time.Time
	polls    int64
	order    int64 // the Order of the last poll's commits
	groups   map[string]*polledGroup
	warnings throttle.Log

	// prevOrder is the Order of the previous complete poll of this run, 0
	// before one; runs of unchanged offsets refer to it.
	prevOrder int64
	// noRepeat is set once storage has shown that it does not know
	// StorageSetConsumerRepeat.
	noRepeat bool
	same     []int32      // a topic's unchanged partitions, reused
	runs     []pendingRun // this poll's runs waiting for storage's answer

	// Errors counts failed Kafka requests; Polls counts completed polls.
	Errors    atomic.Uint64
	Polls     atomic.Uint64
	lastRound atomic.Int64 // ns
}

// Stats returns the source's counts.
func (a *AdminSource) Stats() Stats {
	return Stats{Errors: a.Errors.Load(), Rounds: a.Polls.Load(), LastRound: time.Duration(a.lastRound.Load()),
		Source: config.SourceAdmin}
}

type polledGroup struct {
	offsets map[string][]int64 // by topic, by partition; -1: none yet
	owners  string             // the assignment last sent, as a fingerprint
	seen    bool
}

// pendingRun is a StorageSetConsumerRepeat sent, whose answer lists the
// partitions to send one by one.
type pendingRun struct {
	group, topic string
	first        int32
	offsets      []int64 // the group's offsets of the topic, by partition
	reply        chan any
	n            int32
}

type topicPartition struct {
	topic     string
	partition int32
}

// NewAdminSource prepares an admin source polling every interval; it connects to
// nothing.
func NewAdminSource(cfg config.Consumer, interval time.Duration, storage chan *protocol.StorageRequest, log *zap.Logger) (*AdminSource, error) {
	opts, err := ClientOptions(cfg.Servers, cfg.Profile)
	if err != nil {
		return nil, fmt.Errorf("consumer.%s: %w", cfg.Name, err)
	}
	a := &AdminSource{cfg: cfg, interval: interval, log: log, out: sender{ch: storage, orders: &orders{}}, opts: opts, now: time.Now,
		groups: map[string]*polledGroup{}, warnings: throttle.Log{Every: 30 * time.Second}}
	if cfg.GroupAllowlist != "" {
		a.allow = regexp.MustCompile(cfg.GroupAllowlist) // checked by config
	}
	if cfg.GroupDenylist != "" {
		a.deny = regexp.MustCompile(cfg.GroupDenylist)
	}
	return a, nil
}

// Start connects and starts polling.
func (a *AdminSource) Start() error {
	if err := a.open(); err != nil {
		return err
	}
	a.run()
	return nil
}

// open connects.
func (a *AdminSource) open() error {
	var err error
	a.client, a.adm, err = connect("consumer."+a.cfg.Name, a.cfg.Servers, a.opts)
	return err
}

// run starts polling, from a fresh state: with offsets-source auto, what an
// earlier run saw may have changed while the offsets topic was read.
func (a *AdminSource) run() {
	a.groups = map[string]*polledGroup{}
	a.prevOrder = 0
	a.bg.start(a.loop)
	a.log.Info("started: reading committed offsets through the admin API", zap.Duration("interval", a.interval))
}

// Stop ends polling and closes the connections.
func (a *AdminSource) Stop() {
	if a.bg.stop() {
		a.client.Close()
	}
}

// finish is Stop after one last poll, for offsets-source auto going back to the
// topic: the readers start at the end offsets its probe listed just before, so
// the commits before those are read here.
func (a *AdminSource) finish(ctx context.Context) {
	if a.bg.stop() {
		a.Poll(ctx)
		a.client.Close()
	}
}

// loop polls at once, and then every interval, half an interval out of step
// with the cluster module, which reads the broker offsets at the same interval
// and started just before. Storage gives each commit its lag against the newest
// broker offset; polled in step, a round that runs a little late (its topic
// refresh, a slow broker) would let two polls in a row meet the same broker
// offset, and the second commit's smaller lag would make a consumer that falls
// behind look as if it were catching up (OK instead of WARN).
func (a *AdminSource) loop(ctx context.Context) {
	a.Poll(ctx)
	half := time.NewTimer(a.interval / 2)
	select {
	case <-ctx.Done():
		half.Stop()
		return
	case <-half.C:
	}
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		a.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *AdminSource) accept(group string) bool {
	return (a.allow == nil || a.allow.MatchString(group)) && (a.deny == nil || !a.deny.MatchString(group))
}

// Poll reads every group's offsets and owners once and sends what changed.
func (a *AdminSource) Poll(ctx context.Context) {
	start := time.Now()
	defer func() { a.lastRound.Store(int64(time.Since(start))) }()
	listed, err := a.adm.ListGroups(ctx)
	if err != nil && ctx.Err() == nil {
		a.Errors.Add(1)
		a.warnings.Warn(a.log, "cannot list groups", zap.Error(err))
	}
	if err != nil && len(listed) == 0 {
		return
	}
	// A broker that failed or answered an error hides its groups: only a
	// complete list tells which groups are gone.
	if err == nil && !a.forget(ctx, listed) {
		return
	}
	var names []string
	for name := range listed {
		if a.accept(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		a.Polls.Add(1)
		return
	}
	described, err := a.adm.DescribeGroups(ctx, names...)
	if err != nil && ctx.Err() == nil {
		a.Errors.Add(1)
		a.warnings.Warn(a.log, "cannot describe groups", zap.Error(err))
	}
	fetched := a.fetchOffsets(ctx, names)
	if a.send(ctx, names, described, fetched) {
		a.Polls.Add(1)
	}
}

// send sends what one poll read: the groups' commits and owners. It reports
// false when shutting down.
func (a *AdminSource) send(ctx context.Context, names []string, described kadm.DescribedGroups,
	fetched map[string][]kmsg.OffsetFetchResponseGroupTopic) bool {
	a.polls++
	now := a.now().UnixMilli()
	// The poll's Order is its time, kept rising: unlike a poll number it
	// stays above the Orders of commits restored from the state file after a
	// restart, so storage files new commits as newer.
	a.order = max(a.order+1, now)
	a.runs = a.runs[:0]
	for _, name := range names {
		d, described := described[name]
		members := -1 // unknown
		if described && d.Err == nil {
			members = len(d.Members)
		}
		g := a.groups[name]
		if g == nil {
			g = &polledGroup{}
			a.groups[name] = g
		}
		if topics, ok := fetched[name]; ok {
			if !a.commits(ctx, name, g, topics, members != 0, now) {
				return false
			}
		}
		if described && d.Err == nil {
			if !a.owners(ctx, name, g, d) {
				return false
			}
		}
	}
	if !a.settle(ctx, now) {
		return false
	}
	a.prevOrder = a.order
	return true
}

// forget deletes from storage the groups this source has seen listed that
// Kafka no longer lists: a group deleted in Kafka would otherwise stay in
// storage, ERR, until it expires (Burrow's issues 818 and 854), unless the
// cluster's groups reaper runs. Only groups in this source's state are
// candidates, so a group its lists reject, or one that only another module
// sends, is never deleted here. It reports false when shutting down.
func (a *AdminSource) forget(ctx context.Context, listed kadm.ListedGroups) bool {
	for name := range a.groups {
		if _, ok := listed[name]; ok {
			continue
		}
		if !a.out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup,
			Cluster: a.cfg.Cluster, Group: name}) {
			return false
		}
		delete(a.groups, name)
		a.log.Info("group deleted in Kafka: removed from storage", zap.String("group", name))
	}
	return true
}

// commits sends the group's offsets that changed, and all of them again while the
// group is live: the unchanged ones as runs (see repeat). It reports false when
// shutting down.
func (a *AdminSource) commits(ctx context.Context, group string, g *polledGroup, topics []kmsg.OffsetFetchResponseGroupTopic, live bool, now int64) bool {
	if g.offsets == nil {
		g.offsets = a.stored(ctx, group, len(topics))
	}
	runs := live && a.prevOrder != 0 && !a.noRepeat
	for _, t := range topics {
		last := g.offsets[t.Topic]
		same := a.same[:0]
		// One allocation for the topic's requests rather than one each,
		// made at its first changed offset.
		var slab []protocol.StorageRequest
		for i, p := range t.Partitions {
			// An Offset of -1 is Kafka's "no offset": stored, it would count
			// the whole partition as lag.
			if p.ErrorCode != 0 || p.Offset < 0 || p.Partition < 0 || p.Partition >= maxPartition {
				continue
			}
			for int(p.Partition) >= len(last) {
				last = append(last, -1)
			}
			if last[p.Partition] == p.Offset {
				if !live {
					continue
				}
				if runs {
					same = append(same, p.Partition)
					continue
				}
			}
			last[p.Partition] = p.Offset
			if len(slab) == 0 {
				slab = make([]protocol.StorageRequest, len(t.Partitions)-i)
			}
			r := &slab[0]
			slab = slab[1:]
			*r = protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset,
				Cluster: a.cfg.Cluster, Group: group, Topic: t.Topic, Partition: p.Partition,
				Offset: p.Offset, Order: a.order, Timestamp: now}
			if !a.out.send(ctx, r) {
				g.offsets[t.Topic] = last
				return false
			}
		}
		g.offsets[t.Topic] = last
		a.same = same
		if !a.repeat(ctx, group, t.Topic, last, same, now) {
			return false
		}
	}
	return true
}

// repeat sends a topic's unchanged partitions, each run of consecutive ids as
// one StorageSetConsumerRepeat of the previous poll's commits, whose answer
// settle waits for; a partition alone as a StorageSetConsumerOffset. It
// reports false when shutting down.
func (a *AdminSource) repeat(ctx context.Context, group, topic string, offsets []int64, same []int32, now int64) bool {
	slices.Sort(same)
	for i := 0; i < len(same); {
		j := i + 1
		for j < len(same) && same[j] == same[j-1]+1 {
			j++
		}
		first, n := same[i], int32(j-i)
		i = j
		if n == 1 {
			if !a.commit(ctx, group, topic, first, offsets[first], now) {
				return false
			}
			continue
		}
		run := pendingRun{group: group, topic: topic, first: first, n: n, offsets: offsets, reply: make(chan any, 1)}
		if !a.out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerRepeat, Reply: run.reply,
			Cluster: a.cfg.Cluster, Group: group, Topic: topic, Partition: first, TopicPartitionCount: n,
			Offset: a.prevOrder, Order: a.order, Timestamp: now}) {
			return false
		}
		a.runs = append(a.runs, run)
	}
	return true
}

// commit sends one offset of this poll.
func (a *AdminSource) commit(ctx context.Context, group, topic string, p int32, offset, now int64) bool {
	return a.out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset,
		Cluster: a.cfg.Cluster, Group: group, Topic: topic, Partition: p, Offset: offset, Order: a.order,
		Timestamp: now})
}

// settle reads storage's answers to this poll's runs and sends alone each
// partition a run left over, or the whole run when storage does not know the
// request (its Reply closed without a value) or does not answer in time. It
// reports false when shutting down.
func (a *AdminSource) settle(ctx context.Context, now int64) bool {
	if len(a.runs) == 0 {
		return true
	}
	wait, cancel := context.WithTimeout(ctx, storedWait)
	defer cancel()
	for _, run := range a.runs {
		v, ok, answered := answer(wait, run.reply)
		left, _ := v.([]int32)
		all := !ok // send the whole run alone
		switch {
		case answered && !ok && !a.noRepeat:
			a.noRepeat = true
			a.log.Info("storage does not know StorageSetConsumerRepeat: unchanged offsets are sent one by one")
		case !answered:
			if ctx.Err() != nil {
				return false
			}
			a.Errors.Add(1)
			a.warnings.Warn(a.log, "storage did not answer for a run of unchanged offsets in time: sending them one by one",
				zap.String("group", run.group), zap.String("topic", run.topic))
		}
		if all {
			for p := run.first; p < run.first+run.n; p++ {
				left = append(left, p)
			}
		}
		for _, p := range left {
			if p < run.first || p >= run.first+run.n {
				continue // not of this run
			}
			if !a.commit(ctx, run.group, run.topic, p, run.offsets[p], now) {
				return false
			}
		}
	}
	a.runs = a.runs[:0]
	return true
}

// answer reads a reply, or reports that none came before ctx ended; a reply
// that has come is read even then.
func answer(ctx context.Context, reply chan any) (v any, ok, answered bool) {
	select {
	case v, ok = <-reply:
		return v, ok, true
	default:
	}
	select {
	case v, ok = <-reply:
		return v, ok, true
	case <-ctx.Done():
		return nil, false, false
	}
}

// stored returns the newest commit storage holds for each partition of a
// group this source sees for the first time: after a restart that restored
// storage from the state file, an unchanged offset of a group without members
// is then not sent again, which would make a stopped group look stalled.
func (a *AdminSource) stored(ctx context.Context, group string, n int) map[string][]int64 {
	out := make(map[string][]int64, n)
	v, ok, err := a.out.ask(ctx, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer,
		Cluster: a.cfg.Cluster, Group: group}, storedWait)
	topics, _ := v.(protocol.ConsumerTopics)
	if err != nil || !ok {
		return out
	}
	for name, parts := range topics {
		last := make([]int64, len(parts))
		for i, p := range parts {
			last[i] = -1
			if p == nil { // another storage module may leave a partition out
				continue
			}
			for j := len(p.Offsets) - 1; j >= 0; j-- {
				if o := p.Offsets[j]; o != nil {
					last[i] = o.Offset
					break
				}
			}
		}
		out[name] = last
	}
	return out
}

// storedWait bounds the wait for storage's answer to stored.
const storedWait = 10 * time.Second

// maxPartition bounds the partition ids the admin source keeps state for.
const maxPartition = 1 << 20

// fetchOffsets sends one batched OffsetFetch for all groups, split by the
// client among their coordinators, and returns each group's topics.
func (a *AdminSource) fetchOffsets(ctx context.Context, groups []string) map[string][]kmsg.OffsetFetchResponseGroupTopic {
	req := kmsg.NewPtrOffsetFetchRequest()
	for _, g := range groups {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = g
		req.Groups = append(req.Groups, rg)
	}
	out := make(map[string][]kmsg.OffsetFetchResponseGroupTopic, len(groups))
	for _, shard := range a.client.RequestSharded(ctx, req) {
		if shard.Err != nil {
			if ctx.Err() == nil {
				a.Errors.Add(1)
				a.warnings.Warn(a.log, "cannot fetch offsets", zap.Error(shard.Err))
			}
			continue
		}
		resp := shard.Resp.(*kmsg.OffsetFetchResponse)
		for _, g := range resp.Groups {
			if err := kerr.ErrorForCode(g.ErrorCode); err != nil {
				a.Errors.Add(1)
				a.warnings.Warn(a.log, "cannot fetch the offsets of a group", zap.String("group", g.Group), zap.Error(err))
				continue
			}
			out[g.Group] = g.Topics
		}
	}
	return out
}

// owners sends the group's assignment when it changed: a clear, then one owner
// per assigned partition, so that storage holds exactly the latest assignment.
func (a *AdminSource) owners(ctx context.Context, group string, g *polledGroup, d kadm.DescribedGroup) bool {
	type owned struct {
		tp        topicPartition
		host, cid string
	}
	var all []owned
	if d.ProtocolType == "consumer" || d.ProtocolType == "" {
		for _, m := range d.Members {
			assigned, ok := m.Assigned.AsConsumer()
			if !ok || assigned == nil {
				continue
			}
			for _, t := range assigned.Topics {
				for _, p := range t.Partitions {
					all = append(all, owned{topicPartition{t.Topic, p}, m.ClientHost, m.ClientID})
				}
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].tp.topic != all[j].tp.topic {
			return all[i].tp.topic < all[j].tp.topic
		}
		return all[i].tp.partition < all[j].tp.partition
	})
	var b strings.Builder
	for _, o := range all {
		fmt.Fprintf(&b, "%s/%d/%s/%s;", o.tp.topic, o.tp.partition, o.host, o.cid)
	}
	fp := b.String()
	if g.seen && fp == g.owners {
		return true
	}
	g.seen, g.owners = true, fp
	if !a.out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageClearConsumerOwners,
		Cluster: a.cfg.Cluster, Group: group}) {
		return false
	}
	for _, o := range all {
		if !a.out.send(ctx, &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner,
			Cluster: a.cfg.Cluster, Group: group, Topic: o.tp.topic, Partition: o.tp.partition,
			Owner: o.host, ClientID: o.cid}) {
			return false
		}
	}
	return true
}
