package evaluator

import (
	"sort"

	"github.com/warrenlag/warren/protocol"
)

// rules are the settings the rules read.
type rules struct {
	minimumComplete float32
	allowedLag      uint64
}

// evaluate gives the verdict on a group from what storage returned for it.
// nowMs is the evaluation time, already truncated to the whole second. The
// result lists every partition (ShowAll); filter it for a caller that asked
// for less.
func (ru rules) evaluate(cluster, group string, topics protocol.ConsumerTopics, nowMs int64) *protocol.ConsumerGroupStatus {
	st := &protocol.ConsumerGroupStatus{Cluster: cluster, Group: group, Status: protocol.StatusOK,
		Partitions: []*protocol.PartitionStatus{}}
	names := make([]string, 0, len(topics))
	for name := range topics {
		names = append(names, name)
	}
	sort.Strings(names)
	complete := 0
	for _, name := range names {
		for p, cp := range topics[name] {
			ps := ru.partition(name, int32(p), cp, nowMs)
			st.Partitions = append(st.Partitions, ps)
			st.TotalLag += ps.CurrentLag
			if ps.Complete == 1 {
				complete++
			}
			if st.Maxlag == nil || ps.CurrentLag > st.Maxlag.CurrentLag {
				st.Maxlag = ps
			}
			switch ps.Status {
			case protocol.StatusWarning:
				if st.Status == protocol.StatusOK {
					st.Status = protocol.StatusWarning
				}
			case protocol.StatusStop, protocol.StatusStall, protocol.StatusRewind:
				st.Status = protocol.StatusError
			}
		}
	}
	st.TotalPartitions = len(st.Partitions)
	if st.TotalPartitions > 0 {
		st.Complete = float32(complete) / float32(st.TotalPartitions)
	}
	return st
}

// notFound is the reply for an unknown cluster or group.
func notFound(cluster, group string) *protocol.ConsumerGroupStatus {
	return &protocol.ConsumerGroupStatus{Cluster: cluster, Group: group, Status: protocol.StatusNotFound,
		Complete: 1, Partitions: []*protocol.PartitionStatus{}}
}

// partition applies the rules to one partition.
func (ru rules) partition(topic string, id int32, cp *protocol.ConsumerPartition, nowMs int64) *protocol.PartitionStatus {
	ps := &protocol.PartitionStatus{Topic: topic, Partition: id, Status: protocol.StatusOK}
	if cp == nil {
		return ps
	}
	ps.Owner, ps.ClientID, ps.CurrentLag = cp.Owner, cp.ClientID, cp.CurrentLag
	var w []*protocol.ConsumerOffset
	for _, o := range cp.Offsets {
		if o != nil {
			w = append(w, o)
		}
	}
	if len(w) == 0 {
		return ps
	}
	ps.Start, ps.End = copyOffset(w[0]), copyOffset(w[len(w)-1])
	ps.Complete = float32(len(w)) / float32(len(cp.Offsets))
	if ps.Complete < ru.minimumComplete {
		return ps
	}
	ps.Status = ru.judge(w, cp, nowMs)
	return ps
}

// judge applies rules R1 to R7, in order, to a non-empty window w.
func (ru rules) judge(w []*protocol.ConsumerOffset, cp *protocol.ConsumerPartition, nowMs int64) protocol.StatusConstant {
	first, last := w[0], w[len(w)-1]
	// R1: caught up.
	if cp.CurrentLag <= ru.allowedLag {
		return protocol.StatusOK
	}
	// R2: stopped, unless the broker was at or below the last commit recently.
	if nowMs-last.Timestamp > last.Timestamp-first.Timestamp {
		caughtUp := false
		for _, h := range cp.BrokerOffsets {
			if h <= last.Offset {
				caughtUp = true
				break
			}
		}
		if !caughtUp {
			return protocol.StatusStop
		}
	}
	// R3: the first drop in offsets, not climbed back from.
	for k := 1; k < len(w); k++ {
		if w[k].Offset < w[k-1].Offset {
			recovered := false
			for j := k; j < len(w); j++ {
				if w[j].Offset >= w[k-1].Offset {
					recovered = true
					break
				}
			}
			if !recovered {
				return protocol.StatusRewind
			}
			break
		}
	}
	// R4: a known lag within the allowance anywhere in the window.
	for _, o := range w {
		if o.Lag != nil && o.Lag.Value <= ru.allowedLag {
			return protocol.StatusOK
		}
	}
	// R5: not moving.
	stalled := true
	for _, o := range w[1:] {
		if o.Offset != first.Offset {
			stalled = false
			break
		}
	}
	if stalled {
		return protocol.StatusStall
	}
	// R6: known lags never decreasing.
	var prev *protocol.Lag
	for _, o := range w {
		if o.Lag == nil {
			continue
		}
		if prev != nil && o.Lag.Value < prev.Value {
			return protocol.StatusOK // R7
		}
		prev = o.Lag
	}
	return protocol.StatusWarning
}

func copyOffset(o *protocol.ConsumerOffset) *protocol.ConsumerOffset {
	c := *o
	if o.Lag != nil {
		lag := *o.Lag
		c.Lag = &lag
	}
	return &c
}

// view returns a copy of st for one caller: every partition with showAll, only
// those worse than OK without. It shares nothing with st.
func view(st *protocol.ConsumerGroupStatus, showAll bool) *protocol.ConsumerGroupStatus {
	out := *st
	out.Partitions = make([]*protocol.PartitionStatus, 0, len(st.Partitions))
	for _, ps := range st.Partitions {
		c := copyPartition(ps)
		if ps == st.Maxlag {
			out.Maxlag = c
		}
		if showAll || ps.Status != protocol.StatusOK {
			out.Partitions = append(out.Partitions, c)
		}
	}
	return &out
}

func copyPartition(ps *protocol.PartitionStatus) *protocol.PartitionStatus {
	c := *ps
	if ps.Start != nil {
		c.Start = copyOffset(ps.Start)
	}
	if ps.End != nil {
		c.End = copyOffset(ps.End)
	}
	return &c
}
