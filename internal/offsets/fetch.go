package offsets

import (
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
)

// fetchConsumer answers a StorageFetchConsumer: a deep copy of the group that
// shares no memory with the store. A group whose newest commit is older than
// expire-group is deleted here and reported as unknown.
//
// The copy is built in a few large allocations (all partitions, all commits, all
// lags of the group at once) rather than one per value: that is most of its cost.
func (sh *shard) fetchConsumer(m *msg) (protocol.ConsumerTopics, bool) {
	s, r := sh.s, &m.r
	groups := sh.groups[m.cl]
	g := groups[r.Group]
	if g == nil {
		return nil, false
	}
	if g.lastCommit < m.now-sh.set.expireMs {
		sh.forget()
		delete(groups, r.Group)
		if ce := s.log.Check(zap.DebugLevel, "purged expired group"); ce != nil {
			ce.Write(requestFields(r)...)
		}
		return nil, false
	}

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
	var history, times []int64
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
			times = make([]int64, 0, cap(history))
			bounds = make([]int32, len(t.parts))
			for p := range t.parts {
				var ok bool
				history, times, ok = bt.history(history, times, p, size)
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
				if m.timed {
					cp.BrokerTimestamps = times[lo:end:end]
				}
				if pt.n > 0 && end > lo {
					newestBroker := history[end-1]
					newest := cp.Offsets[size-1].Offset
					if newestBroker > newest {
						cp.CurrentLag = uint64(newestBroker - newest)
					}
				}
			}
		}
	}
	return out, true
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
