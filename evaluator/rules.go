package evaluator

import (
	"math"
	"slices"

	"github.com/warrenlag/warren/internal/decimal"
	"github.com/warrenlag/warren/protocol"
)

// rules are the settings the rules read.
type rules struct {
	minimumComplete float32
	allowedLag      uint64
}

// input is what the rules read of one partition.
type input struct {
	window  []protocol.WindowCommit  // the commits, oldest first
	history []protocol.BrokerReading // the broker offsets, oldest first
	timed   bool                     // history has the times of its readings
	slots   int                      // the window's size: Complete is len(window)/slots
	lag     uint64                   // CurrentLag
	owner   protocol.PartitionOwner
}

// evaluate gives the verdict on a group from what storage returned for it in
// WindowsForm. nowMs is the evaluation time, already truncated to the whole
// second. The result lists every partition (ShowAll); filter it for a caller
// that asked for less. It shares no memory with w.
func (ru rules) evaluate(cluster, group string, w *protocol.ConsumerWindows, nowMs int64) *protocol.ConsumerGroupStatus {
	v := newVerdict(cluster, group, len(w.Partitions))
	i := 0
	for _, t := range w.Topics {
		for id := range t.Partitions {
			if i >= len(w.Partitions) { // not storage's shape: more partitions named than given
				break
			}
			wp := &w.Partitions[i]
			in := input{window: w.Window(wp), history: w.History(wp), timed: true, slots: w.Intervals,
				lag: wp.CurrentLag, owner: w.Owner(wp)}
			v.add(ru, t.Name, int32(id), &in, nowMs)
			i++
		}
	}
	return v.finish()
}

// evaluateTopics gives the verdict on a group from the ConsumerTopics of a
// storage that answers StorageFetchConsumer the way Burrow's does (its broker
// offsets have no times, so there is no lag in time). Topics are taken by name.
// It shares no memory with topics.
func (ru rules) evaluateTopics(cluster, group string, topics protocol.ConsumerTopics, nowMs int64) *protocol.ConsumerGroupStatus {
	names := make([]string, 0, len(topics))
	n := 0
	for name, cps := range topics {
		names = append(names, name)
		n += len(cps)
	}
	slices.Sort(names)
	v := newVerdict(cluster, group, n)
	var win []protocol.WindowCommit // one partition's, reused
	var history []protocol.BrokerReading
	for _, name := range names {
		for id, cp := range topics[name] {
			var in input
			if cp != nil {
				win, history = win[:0], history[:0]
				for _, o := range cp.Offsets { // nil slots are not commits, wherever they are
					if o == nil {
						continue
					}
					c := protocol.WindowCommit{Offset: o.Offset, Order: o.Order, Timestamp: o.Timestamp, ObservedTimestamp: o.ObservedTimestamp}
					if o.Lag != nil {
						c.Lag, c.LagKnown = o.Lag.Value, true
					}
					win = append(win, c)
				}
				for _, b := range cp.BrokerOffsets {
					history = append(history, protocol.BrokerReading{Offset: b})
				}
				in = input{window: win, history: history, slots: len(cp.Offsets), lag: cp.CurrentLag,
					owner: protocol.PartitionOwner{Host: cp.Owner, ClientID: cp.ClientID}}
			}
			v.add(ru, name, int32(id), &in, nowMs)
		}
	}
	return v.finish()
}

// verdict builds a group's status one partition at a time.
type verdict struct {
	st       *protocol.ConsumerGroupStatus
	slab     []protocol.PartitionStatus
	ends     []offsetAndLag
	seconds  []float64
	whys     whyText
	complete int
}

// newVerdict prepares the status of a group of n partitions: one allocation for
// every partition's status, one for their start and end commits, one for their
// lags in time, and (in finish) one string for all the reasons.
func newVerdict(cluster, group string, n int) *verdict {
	return &verdict{
		st: &protocol.ConsumerGroupStatus{Cluster: cluster, Group: group, Status: protocol.StatusOK,
			Partitions: make([]*protocol.PartitionStatus, 0, n)},
		slab:    make([]protocol.PartitionStatus, n),
		ends:    make([]offsetAndLag, 2*n),
		seconds: make([]float64, n),
		whys:    whyText{parts: make([]*protocol.PartitionStatus, 0, n), ends: make([]int, 0, n)},
	}
}

// add judges one partition and adds it to the group. At most the n partitions
// newVerdict was told of are added.
func (v *verdict) add(ru rules, topic string, id int32, in *input, nowMs int64) {
	i := len(v.st.Partitions)
	if i >= len(v.slab) {
		return
	}
	st, ps := v.st, &v.slab[i]
	if f := ru.partition(ps, topic, id, in, nowMs, v.ends[2*i:2*i+2], &v.seconds[i]); f.kind != whyNone {
		v.whys.add(ps, f)
	}
	st.Partitions = append(st.Partitions, ps)
	st.TotalLag += ps.CurrentLag
	if ps.Complete == 1 {
		v.complete++
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

// finish returns the group's status.
func (v *verdict) finish() *protocol.ConsumerGroupStatus {
	v.whys.set()
	st := v.st
	st.TotalPartitions = len(st.Partitions)
	if st.TotalPartitions > 0 {
		st.Complete = float32(v.complete) / float32(st.TotalPartitions)
	}
	return st
}

// notFound is the reply for an unknown cluster or group.
func notFound(cluster, group string) *protocol.ConsumerGroupStatus {
	return &protocol.ConsumerGroupStatus{Cluster: cluster, Group: group, Status: protocol.StatusNotFound,
		Complete: 1, Partitions: []*protocol.PartitionStatus{}}
}

// partition applies the rules to one partition, writing into ps, which must be
// zero, and returns the facts of why it is not OK. Its Start and End are
// written into ends, its lag in time into secs.
func (ru rules) partition(ps *protocol.PartitionStatus, topic string, id int32, in *input, nowMs int64,
	ends []offsetAndLag, secs *float64) (f facts) {
	// ps is fresh, zeroed memory: set the fields one by one (a composite
	// literal would be built on the stack and copied).
	ps.Topic, ps.Partition, ps.Owner, ps.ClientID = topic, id, in.owner.Host, in.owner.ClientID
	ps.Status, ps.CurrentLag = protocol.StatusOK, in.lag
	win := in.window
	if len(win) == 0 {
		return f
	}
	ps.Start, ps.End = ends[0].set(&win[0]), ends[1].set(&win[len(win)-1])
	ps.Complete = 1
	if len(win) < in.slots {
		ps.Complete = float32(len(win)) / float32(in.slots)
	}
	if in.timed {
		if s, estimated, ok := lagTime(win[len(win)-1].Offset, in.history, nowMs); ok {
			*secs = s
			ps.LagSeconds, ps.LagEstimated = secs, estimated
		}
	}
	if ps.Complete < ru.minimumComplete {
		return f
	}
	ps.Status, f = ru.judge(win, in.history, in.lag, nowMs)
	return f
}

// lagTime estimates how far behind a consumer at offset commit is in time: how
// long before now the log end was at that offset, interpolated between the two
// broker readings around it. When the commit is older than every reading, the
// time is extrapolated from the write rate over the readings (estimated). ok is
// false when it cannot be told (no readings, or no writes to measure a rate by).
func lagTime(commit int64, h []protocol.BrokerReading, nowMs int64) (seconds float64, estimated, ok bool) {
	n := len(h)
	if n == 0 {
		return 0, false, false
	}
	if commit >= h[n-1].Offset {
		return 0, false, true
	}
	at := func(t float64) float64 { return max(0, math.Round(float64(nowMs)-t)/1000) } // to the millisecond
	for k := n - 1; k > 0; k-- {
		if h[k-1].Offset <= commit && commit < h[k].Offset {
			dt, do := float64(h[k].Timestamp-h[k-1].Timestamp), float64(h[k].Offset-h[k-1].Offset)
			return at(float64(h[k-1].Timestamp) + float64(commit-h[k-1].Offset)*dt/do), false, true
		}
	}
	first, last := h[0], h[n-1]
	if commit >= first.Offset || n < 2 || last.Timestamp <= first.Timestamp || last.Offset <= first.Offset {
		return 0, false, false // out-of-order readings, or nothing to measure a rate by
	}
	rate := float64(last.Offset-first.Offset) / float64(last.Timestamp-first.Timestamp) // messages per ms
	return at(float64(first.Timestamp) - float64(first.Offset-commit)/rate), true, true
}

// judge applies rules R1 to R7, in order, to a non-empty window w with broker
// history h and current lag lag, and gives the facts of why for a status worse
// than OK.
func (ru rules) judge(w []protocol.WindowCommit, h []protocol.BrokerReading, currentLag uint64, nowMs int64) (protocol.StatusConstant, facts) {
	first, last := &w[0], &w[len(w)-1]
	span := (last.Timestamp - first.Timestamp) / 1000
	lag := int64(currentLag)
	// R1: caught up.
	if currentLag <= ru.allowedLag {
		return protocol.StatusOK, facts{}
	}
	// R2: stopped, unless the broker was at or below the last commit recently.
	if nowMs-last.Timestamp > last.Timestamp-first.Timestamp {
		caughtUp := false
		for i := range h {
			if h[i].Offset <= last.Offset {
				caughtUp = true
				break
			}
		}
		if !caughtUp {
			return protocol.StatusStop, facts{whyStop, [4]int64{(nowMs - last.Timestamp) / 1000, span, lag, int64(len(h))}, last.Offset}
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
				return protocol.StatusRewind, facts{whyRewind, [4]int64{w[k-1].Offset, w[k].Offset, last.Offset}, 0}
			}
			break
		}
	}
	// R4: a known lag within the allowance anywhere in the window.
	for i := range w {
		if w[i].LagKnown && w[i].Lag <= ru.allowedLag {
			return protocol.StatusOK, facts{}
		}
	}
	// R5: not moving.
	stalled := true
	for i := 1; i < len(w); i++ {
		if w[i].Offset != first.Offset {
			stalled = false
			break
		}
	}
	if stalled {
		return protocol.StatusStall, facts{whyStall, [4]int64{first.Offset, int64(len(w)), span, lag}, 0}
	}
	// R6: known lags never decreasing.
	var prev, firstLag uint64
	known := int64(0)
	for i := range w {
		if !w[i].LagKnown {
			continue
		}
		if known > 0 && w[i].Lag < prev {
			return protocol.StatusOK, facts{} // R7
		}
		if known == 0 {
			firstLag = w[i].Lag
		}
		prev = w[i].Lag
		known++
	}
	if known == 0 {
		return protocol.StatusWarning, facts{whyWarnUnknown, [4]int64{lag}, 0}
	}
	return protocol.StatusWarning, facts{whyWarn, [4]int64{known, span, int64(firstLag), int64(prev)}, 0}
}

// Why a partition is not OK: the rule that decided and the window's numbers.
const (
	whyNone = iota
	whyStop
	whyRewind
	whyStall
	whyWarn
	whyWarnUnknown
)

type facts struct {
	kind int
	n    [4]int64
	m    int64
}

// whyText writes the reasons of every partition of an evaluation into one
// buffer, which becomes one string that each partition's Why is a slice of.
type whyText struct {
	buf   []byte
	parts []*protocol.PartitionStatus
	ends  []int
}

func (t *whyText) add(ps *protocol.PartitionStatus, f facts) {
	if t.buf == nil {
		t.buf = make([]byte, 0, 96*cap(t.parts)) // about one reason's length each
	}
	b := t.buf
	switch f.kind {
	case whyStop:
		b = append(b, "STOP: last commit "...)
		b = decimal.AppendInt(b, f.n[0])
		b = append(b, " s ago, window spans "...)
		b = decimal.AppendInt(b, f.n[1])
		b = append(b, " s; lag "...)
		b = decimal.AppendInt(b, f.n[2])
		b = append(b, ", and no broker reading ("...)
		b = decimal.AppendInt(b, f.n[3])
		b = append(b, " kept) was at or below offset "...)
		b = decimal.AppendInt(b, f.m)
	case whyRewind:
		b = append(b, "REWIND: committed offset fell from "...)
		b = decimal.AppendInt(b, f.n[0])
		b = append(b, " to "...)
		b = decimal.AppendInt(b, f.n[1])
		b = append(b, " and has not climbed back (newest "...)
		b = decimal.AppendInt(b, f.n[2])
		b = append(b, ")"...)
	case whyStall:
		b = append(b, "STALL: offset "...)
		b = decimal.AppendInt(b, f.n[0])
		b = append(b, " unchanged over "...)
		b = decimal.AppendInt(b, f.n[1])
		b = append(b, " commits spanning "...)
		b = decimal.AppendInt(b, f.n[2])
		b = append(b, " s while the lag is "...)
		b = decimal.AppendInt(b, f.n[3])
	case whyWarn:
		b = append(b, "WARN: lag did not decrease over "...)
		b = decimal.AppendInt(b, f.n[0])
		b = append(b, " commits spanning "...)
		b = decimal.AppendInt(b, f.n[1])
		b = append(b, " s ("...)
		b = decimal.AppendInt(b, f.n[2])
		b = append(b, " to "...)
		b = decimal.AppendInt(b, f.n[3])
		b = append(b, ")"...)
	case whyWarnUnknown:
		b = append(b, "WARN: lag "...)
		b = decimal.AppendInt(b, f.n[0])
		b = append(b, " and no commit in the window has a known lag to show it falling"...)
	}
	t.buf = b
	t.parts = append(t.parts, ps)
	t.ends = append(t.ends, len(b))
}

// set gives each partition its reason.
func (t *whyText) set() {
	all := string(t.buf) // one copy; the reasons share it
	start := 0
	for i, ps := range t.parts {
		ps.Why = all[start:t.ends[i]]
		start = t.ends[i]
	}
}

// view returns a copy of st for one caller: every partition with showAll, only
// those worse than OK without; maxlag always. It shares nothing with st, and is
// built in a few allocations however many partitions it holds.
func view(st *protocol.ConsumerGroupStatus, showAll bool) *protocol.ConsumerGroupStatus {
	out := *st
	out.Maxlag = nil
	var picked []*protocol.PartitionStatus
	for _, ps := range st.Partitions {
		if showAll || ps.Status != protocol.StatusOK || ps == st.Maxlag {
			picked = append(picked, ps)
		}
	}
	parts := make([]protocol.PartitionStatus, len(picked))
	offsets := make([]offsetAndLag, 2*len(picked))
	seconds := make([]float64, len(picked))
	out.Partitions = make([]*protocol.PartitionStatus, 0, len(picked))
	for i, ps := range picked {
		c := &parts[i]
		*c = *ps
		c.Start = offsets[2*i].copy(ps.Start)
		c.End = offsets[2*i+1].copy(ps.End)
		if ps.LagSeconds != nil {
			seconds[i] = *ps.LagSeconds
			c.LagSeconds = &seconds[i]
		}
		if ps == st.Maxlag {
			out.Maxlag = c
		}
		if showAll || ps.Status != protocol.StatusOK {
			out.Partitions = append(out.Partitions, c)
		}
	}
	return &out
}

// filter narrows st, which the caller owns, to what it asked for: without
// showAll only the partitions worse than OK are listed.
func filter(st *protocol.ConsumerGroupStatus, showAll bool) *protocol.ConsumerGroupStatus {
	if showAll {
		return st
	}
	listed := make([]*protocol.PartitionStatus, 0)
	for _, ps := range st.Partitions {
		if ps.Status != protocol.StatusOK {
			listed = append(listed, ps)
		}
	}
	st.Partitions = listed
	return st
}

// offsetAndLag holds a commit and its lag in one allocation.
type offsetAndLag struct {
	o   protocol.ConsumerOffset
	lag protocol.Lag
}

// set fills s with the commit c and returns it.
func (s *offsetAndLag) set(c *protocol.WindowCommit) *protocol.ConsumerOffset {
	s.o.Offset, s.o.Order, s.o.Timestamp, s.o.ObservedTimestamp = c.Offset, c.Order, c.Timestamp, c.ObservedTimestamp
	s.o.Lag = nil
	if c.LagKnown {
		s.lag.Value = c.Lag
		s.o.Lag = &s.lag
	}
	return &s.o
}

// copy fills s with a copy of o and returns it; nil for nil.
func (s *offsetAndLag) copy(o *protocol.ConsumerOffset) *protocol.ConsumerOffset {
	if o == nil {
		return nil
	}
	s.o = *o
	if o.Lag != nil {
		s.lag = *o.Lag
		s.o.Lag = &s.lag
	}
	return &s.o
}
