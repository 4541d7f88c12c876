package offsets

import (
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
)

// fetchGroup returns the group a fetch asks for, or nil when it is unknown. A
// group whose newest commit is older than expire-group is deleted here and
// reported as unknown.
func (sh *shard) fetchGroup(m *msg) *group {
	groups := sh.groups[m.cl]
	g := groups[m.r.Group]
	if g == nil {
		return nil
	}
	if g.lastCommit < m.now-sh.set.expireMs {
		sh.forget()
		delete(groups, m.r.Group)
		if ce := sh.s.log.Check(zap.DebugLevel, "purged expired group"); ce != nil {
			ce.Write(requestFields(&m.r)...)
		}
		return nil
	}
	return g
}

// fetchConsumer answers a StorageFetchConsumer: a deep copy of the group that
// shares no memory with the store.
//
// The copy is built in a few large allocations (all partitions, all commits, all
// lags of the group at once) rather than one per value: that is most of its cost.
func (sh *shard) fetchConsumer(m *msg, g *group) protocol.ConsumerTopics {
	s := sh.s
	size := sh.set.intervals
	var nparts, windows, commits int
	for _, t := range g.topics {
		nparts += len(t.parts)
		for i := range t.parts {
			if pt := &t.parts[i]; pt.head != noWindow {
				windows++
				commits += int(pt.n)
			}
		}
	}
	partsOut := make([]protocol.ConsumerPartition, nparts)
	ptrsOut := make([]*protocol.ConsumerPartition, nparts)
	slots := make([]*protocol.ConsumerOffset, windows*size)
	offsetsOut := make([]offsetAndLag, commits)

	out := make(protocol.ConsumerTopics, len(g.topics))
	bc := s.brokers[m.cl]
	var history []int64
	for name, t := range g.topics {
		cps := ptrsOut[:len(t.parts):len(t.parts)]
		ptrsOut = ptrsOut[len(t.parts):]
		out[name] = cps

		// Copy the broker histories of the topic while holding its lock.
		bc.mu.RLock()
		bt := bc.topics[name]
		bc.mu.RUnlock()
		var bounds []int32 // end of partition p's history in history; -1: none
		if bt != nil {
			bt.mu.RLock()
			history = make([]int64, 0, min(len(t.parts), len(bt.parts))*size)
			bounds = make([]int32, len(t.parts))
			for p := range t.parts {
				var ok bool
				history, ok = bt.history(history, p, size)
				bounds[p] = int32(len(history))
				if !ok {
					bounds[p] = -1
				}
			}
			bt.mu.RUnlock()
		}

		start := 0
		for p := range t.parts {
			pt := &t.parts[p]
			cp := &partsOut[0]
			partsOut = partsOut[1:]
			cps[p] = cp
			if pt.owner != 0 {
				o := g.owners[pt.owner-1]
				cp.Owner, cp.ClientID = o.host, o.clientID
			}
			if pt.head == noWindow {
				cp.Offsets = slots[:0:0]
			} else {
				cp.Offsets = slots[:size:size]
				slots = slots[size:]
				ring := t.hist[p*size : (p+1)*size]
				first := size - int(pt.n) // nil slots come first
				for k := 0; k < int(pt.n); k++ {
					e := at(ring, pt.span, k)
					ol := &offsetsOut[0]
					offsetsOut = offsetsOut[1:]
					ol.o = protocol.ConsumerOffset{
						Offset:            e.offset,
						Order:             e.order,
						Timestamp:         e.ts,
						ObservedTimestamp: e.observed(),
					}
					if e.lagKnown() {
						ol.lag.Value = e.lag
						ol.o.Lag = &ol.lag
					}
					cp.Offsets[first+k] = &ol.o
				}
			}
			if bounds != nil && bounds[p] >= 0 {
				lo, end := start, int(bounds[p])
				start = end
				cp.BrokerOffsets = history[lo:end:end]
				if pt.n > 0 && end > lo {
					cp.CurrentLag = currentLag(history[end-1], cp.Offsets[size-1].Offset)
				}
			}
		}
	}
	return out
}

// offsetAndLag holds a fetched commit and its lag in one allocation.
type offsetAndLag struct {
	o   protocol.ConsumerOffset
	lag protocol.Lag
}

// at returns the k-th oldest entry of a window.
func at(ring []entry, sp span, k int) *entry {
	i := int(sp.head) + k
	if i >= len(ring) {
		i -= len(ring)
	}
	return &ring[i]
}

// fetchWindows answers a StorageFetchConsumer in WindowsForm: the facts of
// fetchConsumer, plus when each broker offset was read, in flat arrays without
// pointers, reused from a released reply when there is one.
func (sh *shard) fetchWindows(m *msg, g *group) *protocol.ConsumerWindows {
	size := sh.set.intervals
	w := protocol.NewConsumerWindows()
	w.Intervals = size
	var nparts, commits int
	for name, t := range g.topics {
		w.Topics = append(w.Topics, protocol.WindowTopic{Name: name, Partitions: len(t.parts)})
		nparts += len(t.parts)
		for i := range t.parts {
			if pt := &t.parts[i]; pt.head != noWindow {
				commits += int(pt.n)
			}
		}
	}
	slices.SortFunc(w.Topics, func(a, b protocol.WindowTopic) int { return strings.Compare(a.Name, b.Name) })
	w.Partitions = resize(w.Partitions, nparts)
	w.Commits = resize(w.Commits, commits)
	w.Broker = slices.Grow(w.Broker, nparts*size)
	for _, o := range g.owners {
		w.Owners = append(w.Owners, protocol.PartitionOwner{Host: o.host, ClientID: o.clientID})
	}

	bc := sh.s.brokers[m.cl]
	parts, out := w.Partitions, w.Commits
	for _, wt := range w.Topics {
		t := g.topics[wt.Name]
		// The broker histories first, to hold the topic's lock briefly.
		bc.mu.RLock()
		bt := bc.topics[wt.Name]
		bc.mu.RUnlock()
		if bt != nil {
			bt.mu.RLock()
			for p := range t.parts {
				parts[p].BrokerFrom = int32(len(w.Broker))
				w.Broker, _ = bt.readings(w.Broker, p, size)
				parts[p].BrokerTo = int32(len(w.Broker))
			}
			bt.mu.RUnlock()
		}
		for p := range t.parts {
			pt, wp := &t.parts[p], &parts[p]
			if bt == nil { // an empty range where the next would start
				wp.BrokerFrom, wp.BrokerTo = int32(len(w.Broker)), int32(len(w.Broker))
			}
			wp.Owner = int32(pt.owner)
			wp.CommitsFrom = int32(len(w.Commits) - len(out))
			if pt.head != noWindow {
				ring := t.hist[p*size : (p+1)*size]
				older, newer := split(ring, int(pt.head), int(pt.n))
				out = copyCommits(out, older)
				out = copyCommits(out, newer)
			}
			wp.CommitsTo = int32(len(w.Commits) - len(out))
			wp.CurrentLag = 0
			if wp.CommitsTo > wp.CommitsFrom && wp.BrokerTo > wp.BrokerFrom {
				wp.CurrentLag = currentLag(w.Broker[wp.BrokerTo-1].Offset, w.Commits[wp.CommitsTo-1].Offset)
			}
		}
		parts = parts[len(t.parts):]
	}
	return w
}

// copyCommits writes the entries es into the front of out as commits, and
// returns the rest of out.
func copyCommits(out []protocol.WindowCommit, es []entry) []protocol.WindowCommit {
	dst := out[:len(es)]
	for i := range dst {
		// Field by field: a composite literal here is built on the stack
		// and copied, at twice the cost.
		e, d := &es[i], &dst[i]
		d.Offset = e.offset
		d.Order = e.order
		d.Timestamp = e.ts
		d.ObservedTimestamp = e.observed()
		d.Lag = e.lag
		d.LagKnown = e.lagKnown()
	}
	return out[len(es):]
}

// split returns the n entries of a ring that start at head, oldest first, in
// two runs: from head to the end of the ring, then those that wrapped around to
// its start. Windows and broker histories are both such rings.
func split[T any](ring []T, head, n int) (older, newer []T) {
	if head+n <= len(ring) {
		return ring[head : head+n], nil
	}
	return ring[head:], ring[:head+n-len(ring)]
}

// currentLag is a partition's CurrentLag: its newest broker offset minus its
// newest commit, floored at 0.
func currentLag(broker, commit int64) uint64 {
	if broker > commit {
		return uint64(broker - commit)
	}
	return 0
}

// resize returns s with length n, reusing its array when it is large enough.
// The elements are not cleared: the caller sets every one.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
