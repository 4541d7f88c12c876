package offsets

import (
	"regexp"
	"slices"
	"sort"

	"github.com/warrenlag/warren/protocol"
)

// model is a deliberately simple reference implementation of storage.md: plain
// maps and slices, one request at a time, no rings, no caches, no workers. The
// fuzz test holds the store to it.
type model struct {
	intervals   int
	expireMs    int64
	minDistMs   int64
	maxParts    int
	allow, deny *regexp.Regexp
	clusters    []string
	data        map[string]*mCluster
	now         func() int64
}

type mCluster struct {
	topics map[string][][]int64 // broker offsets per partition, oldest first
	times  map[string][][]int64 // when each was read
	groups map[string]*mGroup
}

type mGroup struct {
	topics     map[string][]*mPart
	lastCommit int64
}

type mPart struct {
	used          bool // committed to or owned
	commits       []protocol.ConsumerOffset
	owner, client string
}

func newModel(cfg Config, now func() int64) *model {
	cfg.SetDefaults()
	m := &model{intervals: cfg.Intervals, expireMs: cfg.ExpireGroup.Milliseconds(),
		minDistMs: cfg.MinDistance.Milliseconds(), maxParts: cfg.MaxPartitions,
		clusters: cfg.Clusters, data: map[string]*mCluster{}, now: now}
	if cfg.GroupAllowlist != "" {
		m.allow = regexp.MustCompile(cfg.GroupAllowlist)
	}
	if cfg.GroupDenylist != "" {
		m.deny = regexp.MustCompile(cfg.GroupDenylist)
	}
	for _, c := range cfg.Clusters {
		m.data[c] = &mCluster{topics: map[string][][]int64{}, times: map[string][][]int64{}, groups: map[string]*mGroup{}}
	}
	return m
}

func (m *model) accepts(group string) bool {
	return (m.allow == nil || m.allow.MatchString(group)) && (m.deny == nil || !m.deny.MatchString(group))
}

// brokerOffset returns the newest broker offset and the partition count, or
// ok false when a commit or owner for it must be dropped.
func (c *mCluster) brokerOffset(topic string, p int32) (int64, int, bool) {
	parts, ok := c.topics[topic]
	if !ok || p < 0 || int(p) >= len(parts) || len(parts[p]) == 0 {
		return 0, 0, false
	}
	return parts[p][len(parts[p])-1], len(parts), true
}

// part returns partition p of the group's topic, creating the topic with count
// partitions when new and growing it to count when p is beyond it (p < count).
func (g *mGroup) part(topic string, p int32, count int) *mPart {
	parts := g.topics[topic]
	if int(p) >= len(parts) {
		for len(parts) < count {
			parts = append(parts, &mPart{})
		}
	}
	g.topics[topic] = parts
	parts[p].used = true
	return parts[p]
}

// apply handles a request and returns the reply a fetch gets: the value and
// whether one was sent.
func (m *model) apply(r *protocol.StorageRequest) (any, bool) {
	c := m.data[r.Cluster]
	switch r.RequestType {
	case protocol.StorageSetBrokerOffset:
		if c == nil || r.Partition < 0 || int(r.TopicPartitionCount) > m.maxParts || int(r.Partition) >= m.maxParts {
			return nil, false
		}
		parts := c.topics[r.Topic]
		if int(r.Partition) >= max(len(parts), int(r.TopicPartitionCount)) {
			return nil, false
		}
		times := c.times[r.Topic]
		for len(parts) < int(r.TopicPartitionCount) {
			parts = append(parts, nil)
			times = append(times, nil)
		}
		h := append(parts[r.Partition], r.Offset)
		ts := append(times[r.Partition], r.Timestamp)
		if len(h) > m.intervals {
			h, ts = h[1:], ts[1:]
		}
		parts[r.Partition], times[r.Partition] = slices.Clip(h), slices.Clip(ts)
		c.topics[r.Topic], c.times[r.Topic] = parts, times

	case protocol.StorageSetConsumerOffset:
		if c == nil || r.Timestamp < m.now()-m.expireMs {
			return nil, false
		}
		g := c.groups[r.Group]
		if g == nil && !m.accepts(r.Group) {
			return nil, false
		}
		broker, count, ok := c.brokerOffset(r.Topic, r.Partition)
		if !ok {
			return nil, false
		}
		if g == nil {
			g = &mGroup{topics: map[string][]*mPart{}}
			c.groups[r.Group] = g
		}
		m.commit(g, g.part(r.Topic, r.Partition, count), r, broker)

	case protocol.StorageSetConsumerOwner:
		if c == nil {
			return nil, false
		}
		g := c.groups[r.Group]
		if g == nil && !m.accepts(r.Group) {
			return nil, false
		}
		_, count, ok := c.brokerOffset(r.Topic, r.Partition)
		if !ok {
			return nil, false
		}
		if g == nil {
			g = &mGroup{topics: map[string][]*mPart{}}
			c.groups[r.Group] = g
		}
		p := g.part(r.Topic, r.Partition, count)
		p.owner, p.client = r.Owner, r.ClientID

	case protocol.StorageClearConsumerOwners:
		if c == nil || c.groups[r.Group] == nil {
			return nil, false
		}
		for _, parts := range c.groups[r.Group].topics {
			for _, p := range parts {
				p.owner, p.client = "", ""
			}
		}

	case protocol.StorageSetDeleteTopic:
		if c == nil {
			return nil, false
		}
		delete(c.topics, r.Topic)
		delete(c.times, r.Topic)
		for _, g := range c.groups {
			delete(g.topics, r.Topic)
		}

	case protocol.StorageSetDeleteGroup:
		if c == nil || c.groups[r.Group] == nil {
			return nil, false
		}
		g := c.groups[r.Group]
		if r.Topic != "" {
			delete(g.topics, r.Topic)
			if len(g.topics) > 0 {
				return nil, false
			}
		}
		delete(c.groups, r.Group)

	case protocol.StorageFetchClusters:
		return slices.Clone(m.clusters), true

	case protocol.StorageFetchTopics, protocol.StorageFetchConsumers, protocol.StorageFetchConsumersForTopic:
		if c == nil {
			return nil, false
		}
		names := []string{}
		switch r.RequestType {
		case protocol.StorageFetchTopics:
			for name := range c.topics {
				names = append(names, name)
			}
		case protocol.StorageFetchConsumers:
			for name := range c.groups {
				names = append(names, name)
			}
		default:
			for name, g := range c.groups {
				if _, ok := g.topics[r.Topic]; ok {
					names = append(names, name)
				}
			}
		}
		sort.Strings(names)
		return names, true

	case protocol.StorageFetchTopic:
		if c == nil || c.topics[r.Topic] == nil {
			return nil, false
		}
		out := []int64{}
		for _, h := range c.topics[r.Topic] {
			if len(h) > 0 {
				out = append(out, h[len(h)-1])
			}
		}
		return out, true

	case protocol.StorageFetchConsumer:
		if c == nil || c.groups[r.Group] == nil {
			return nil, false
		}
		g := c.groups[r.Group]
		if g.lastCommit < m.now()-m.expireMs {
			delete(c.groups, r.Group)
			return nil, false
		}
		return m.consumer(c, g), true
	}
	return nil, false
}

// commit places a commit by its Order, as storage.md section 2 says.
func (m *model) commit(g *mGroup, p *mPart, r *protocol.StorageRequest, broker int64) {
	cs := p.commits
	n := len(cs)
	full := n == m.intervals
	c := protocol.ConsumerOffset{Offset: r.Offset, Order: r.Order, Timestamp: r.Timestamp, ObservedTimestamp: m.now() / 1000 * 1000}
	var prev int
	var insertAt int // index in cs the commit takes; -1: replace the oldest
	isAppend := false
	switch {
	case n == 0 || r.Order > cs[n-1].Order:
		isAppend, prev, insertAt = true, n-1, n
	case full && r.Order <= cs[0].Order:
		return
	default:
		j := n - 1
		for j >= 0 && cs[j].Order > r.Order {
			j--
		}
		if j >= 0 && cs[j].Order == r.Order {
			return
		}
		switch {
		case j < 0:
			prev, insertAt = -1, 0
		case full && j == 0:
			prev, insertAt = -1, -1
		default:
			prev, insertAt = j, j+1
		}
	}
	if isAppend {
		lag := uint64(0)
		if broker > r.Offset {
			lag = uint64(broker - r.Offset)
		}
		c.Lag = &protocol.Lag{Value: lag}
		g.lastCommit = r.Timestamp
	}
	if prev >= 0 && r.Timestamp-cs[prev].Timestamp < m.minDistMs {
		c.Timestamp = cs[prev].Timestamp
		cs[prev] = c
		return
	}
	if insertAt < 0 {
		cs[0] = c
		return
	}
	cs = slices.Insert(cs, insertAt, c)
	if len(cs) > m.intervals {
		cs = cs[1:]
	}
	p.commits = slices.Clone(cs)
}

func (m *model) consumer(c *mCluster, g *mGroup) protocol.ConsumerTopics {
	out := protocol.ConsumerTopics{}
	for name, parts := range g.topics {
		brokers := c.topics[name]
		cps := make(protocol.ConsumerPartitions, len(parts))
		for i, p := range parts {
			cp := &protocol.ConsumerPartition{Owner: p.owner, ClientID: p.client, Offsets: []*protocol.ConsumerOffset{}}
			if p.used {
				cp.Offsets = make([]*protocol.ConsumerOffset, m.intervals)
				for k, co := range p.commits {
					co := co
					if co.Lag != nil {
						co.Lag = &protocol.Lag{Value: co.Lag.Value}
					}
					cp.Offsets[m.intervals-len(p.commits)+k] = &co
				}
			}
			if brokers != nil && i < len(brokers) {
				cp.BrokerOffsets = append([]int64{}, brokers[i]...)
				if len(p.commits) > 0 && len(brokers[i]) > 0 {
					b, o := brokers[i][len(brokers[i])-1], p.commits[len(p.commits)-1].Offset
					if b > o {
						cp.CurrentLag = uint64(b - o)
					}
				}
			}
			cps[i] = cp
		}
		out[name] = cps
	}
	return out
}
