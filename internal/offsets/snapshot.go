package offsets

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/warrenlag/warren/internal/state"
	"github.com/warrenlag/warren/protocol"
)

// The store's sections of a state file (see internal/state). Each is a
// sequence of records, one per broker topic or per group, each decodable on its
// own: the unit a compacted Kafka topic would carry, keyed by (kind, cluster,
// topic or group).
const (
	// KindBroker holds broker offset histories: one record per topic.
	KindBroker = "offsets.broker"
	// KindGroups holds consumer groups: one record per group, with its owners
	// and the window of every partition.
	KindGroups = "offsets.groups"
)

// recordVersion opens every record, so that a record's layout can change
// without a new kind.
const recordVersion = 1

// A snapshot is cut into slices of at most snapshotSlice of one worker's time
// (plus the group it is encoding when the time is up) and at most
// maxSectionBytes of encoded groups, each a section of the state file; between
// slices the worker serves its requests.
const (
	snapshotSlice   = 500 * time.Microsecond
	maxSectionBytes = 1 << 20
	// clockEvery is how many partitions a worker encodes between looks at the
	// clock.
	clockEvery = 256
)

// SnapshotStats describes a snapshot taken.
type SnapshotStats struct {
	Groups, Partitions, Commits int
	BrokerTopics                int
	Sections                    int
	Bytes                       int64 // of section data
	// Slices is how many times workers stopped serving requests to encode
	// groups; LongestSlice the longest of those stops.
	Slices       int
	LongestSlice time.Duration
}

// snapshotRequest marks the message that asks a worker for a slice of a
// snapshot; it is never a caller's request type.
const snapshotRequest protocol.StorageRequestConstant = -2

var protoSnapshot = protocol.StorageRequest{RequestType: snapshotRequest}

// snapJob is one worker's part of a snapshot. The worker owns it while it
// encodes a slice, the snapshotting goroutine in between: ready hands it over.
type snapJob struct {
	w     int
	now   int64
	list  []groupRef // the groups of the worker when its first slice began
	next  int        // index in list of the next group to encode
	buf   []byte
	ready chan *snapJob

	listed, done                bool
	groups, partitions, commits int
	slices                      int
	longest                     time.Duration
}

type groupRef struct {
	cl   int32
	name string
}

// Snapshot adds the store's sections to a snapshot by calling add: the broker
// histories, copied topic by topic under their locks, then the groups, encoded
// by the worker that owns them between the batches of requests it serves, one
// worker after the other and a slice at a time, so that no worker stops
// serving for more than about half a millisecond (and the time to encode its
// largest group), and there is no global stop. Each group is
// encoded whole at one point of its request order; a group created after its
// worker's first slice is left for the next snapshot, and one deleted before
// its turn is left out. Groups older than expire-group are left out: a fetch
// would purge them.
//
// It may be called at any time, also before Start and after Stop, from any
// goroutine but the dispatcher's; add is called from the calling goroutine.
func (s *Store) Snapshot(add func(kind string, data []byte) error) (SnapshotStats, error) {
	var st SnapshotStats
	if err := s.snapshotBrokers(add, &st); err != nil {
		return st, err
	}
	s.mu.Lock()
	now := s.clock.ms()
	s.mu.Unlock()
	// One slice at a time, worker after worker: slices running side by side
	// would share the cores, and each would keep its worker from its requests
	// for longer.
	ready := make(chan *snapJob, 1)
	var buf []byte
	for w := range s.shards {
		j := &snapJob{w: w, now: now, ready: ready, buf: buf}
		for !j.done {
			s.sendSnap(j)
			<-ready
			if len(j.buf) > 0 {
				st.Sections++
				st.Bytes += int64(len(j.buf))
				if err := add(KindGroups, j.buf); err != nil {
					return st, err
				}
			}
			j.buf = j.buf[:0]
		}
		buf = j.buf
		st.Groups += j.groups
		st.Partitions += j.partitions
		st.Commits += j.commits
		st.Slices += j.slices
		st.LongestSlice = max(st.LongestSlice, j.longest)
	}
	return st, nil
}

// sendSnap hands a snapshot job to its worker, after the requests it has
// pending; before Start and after Stop the slice is encoded at once, on the
// caller's goroutine.
func (s *Store) sendSnap(j *snapJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.send(j.w, msg{r: protoSnapshot, snap: j}, true)
}

// snapshotSlice encodes groups of the shard into j.buf for up to
// snapshotSlice, then hands j back.
func (sh *shard) snapshotSlice(j *snapJob) {
	start := time.Now()
	if !j.listed {
		j.listed = true
		for cl, groups := range sh.groups {
			for name := range groups {
				j.list = append(j.list, groupRef{int32(cl), name})
			}
		}
	}
	sinceClock := 0
	for j.next < len(j.list) {
		ref := j.list[j.next]
		j.next++
		g := sh.groups[ref.cl][ref.name]
		if g == nil || g.lastCommit < j.now-sh.set.expireMs {
			continue
		}
		var parts, commits int
		j.buf, parts, commits = appendGroup(j.buf, sh.s.cfg.Clusters[ref.cl], ref.name, g, sh.set.intervals)
		j.groups++
		j.partitions += parts
		j.commits += commits
		if sinceClock += parts; sinceClock >= clockEvery {
			sinceClock = 0
			if time.Since(start) >= snapshotSlice {
				break
			}
		}
		if len(j.buf) >= maxSectionBytes {
			break
		}
	}
	j.done = j.next == len(j.list)
	if j.done {
		j.list = nil
	}
	j.slices++
	j.longest = max(j.longest, time.Since(start))
	j.ready <- j
}

// appendGroup appends the record of group g, and returns it with the number
// of partitions and commits it holds.
//
// Window entries are delta-encoded against the entry before them; the first
// entry of a window against the first of the window before it in the record,
// since one commit request covers many partitions at once.
func appendGroup(b []byte, cluster, name string, g *group, size int) ([]byte, int, int) {
	b, rec := state.StartRecord(b)
	b = binary.AppendUvarint(b, recordVersion)
	b = state.AppendString(b, cluster)
	b = state.AppendString(b, name)
	b = binary.AppendVarint(b, g.lastCommit)
	b = binary.AppendUvarint(b, uint64(len(g.owners)))
	for _, o := range g.owners {
		b = state.AppendString(b, o.host)
		b = state.AppendString(b, o.clientID)
	}
	b = binary.AppendUvarint(b, uint64(len(g.topics)))
	var base, prev entry
	parts, commits := 0, 0
	for tname, t := range g.topics {
		b = state.AppendString(b, tname)
		b = binary.AppendUvarint(b, uint64(len(t.parts)))
		parts += len(t.parts)
		for p := range t.parts {
			pt := &t.parts[p]
			b = binary.AppendUvarint(b, uint64(pt.owner))
			if pt.head == noWindow {
				b = append(b, 0)
				continue
			}
			b = binary.AppendUvarint(b, uint64(pt.n)+1)
			ring := t.hist[p*size : (p+1)*size]
			for k := range int(pt.n) {
				e := at(ring, pt.span, k)
				if k == 0 {
					prev, base = base, *e
					if !e.lagKnown() {
						base.lag = 0
					}
				}
				b = appendEntry(b, e, &prev)
			}
			commits += int(pt.n)
		}
	}
	return state.EndRecord(b, rec), parts, commits
}

// appendEntry appends entry e as deltas from prev, and makes it prev. The
// observed time is encoded against the entry's own timestamp, which it
// follows closely, with the lag-known bit; a lag only when known, against the
// last lag known.
func appendEntry(b []byte, e, prev *entry) []byte {
	b = binary.AppendVarint(b, e.offset-prev.offset)
	b = binary.AppendVarint(b, e.order-prev.order)
	b = binary.AppendVarint(b, e.ts-prev.ts)
	obs := zigzag(e.observed()-e.ts) << 1
	if e.lagKnown() {
		obs |= 1
	}
	b = binary.AppendUvarint(b, obs)
	if e.lagKnown() {
		b = binary.AppendVarint(b, int64(e.lag)-int64(prev.lag))
		prev.lag = e.lag
	}
	prev.offset, prev.order, prev.ts = e.offset, e.order, e.ts
	return b
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// snapshotBrokers adds the broker histories, one section per cluster (more
// when a cluster's exceed maxSectionBytes). Each topic is copied under its
// lock and encoded after, so the dispatcher waits at most for one copy.
func (s *Store) snapshotBrokers(add func(string, []byte) error, st *SnapshotStats) error {
	size := s.cfg.Intervals
	var buf []byte
	var parts []span
	var hist []brokerEntry
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		st.Sections++
		st.Bytes += int64(len(buf))
		err := add(KindBroker, buf)
		buf = buf[:0]
		return err
	}
	for cl, bc := range s.brokers {
		bc.mu.RLock()
		names := make([]string, 0, len(bc.topics))
		topics := make([]*brokerTopic, 0, len(bc.topics))
		for name, t := range bc.topics {
			names = append(names, name)
			topics = append(topics, t)
		}
		bc.mu.RUnlock()
		for i, t := range topics {
			t.mu.RLock()
			parts = append(parts[:0], t.parts...)
			hist = append(hist[:0], t.hist...)
			t.mu.RUnlock()
			buf = appendBrokerTopic(buf, s.cfg.Clusters[cl], names[i], parts, hist, size)
			st.BrokerTopics++
			if len(buf) >= maxSectionBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return fmt.Errorf("broker offsets: %w", err)
		}
	}
	return nil
}

// appendBrokerTopic appends the record of a broker topic, its readings
// delta-encoded as windows are.
func appendBrokerTopic(b []byte, cluster, name string, parts []span, hist []brokerEntry, size int) []byte {
	b, rec := state.StartRecord(b)
	b = binary.AppendUvarint(b, recordVersion)
	b = state.AppendString(b, cluster)
	b = state.AppendString(b, name)
	b = binary.AppendUvarint(b, uint64(len(parts)))
	var base, prev brokerEntry
	for p, sp := range parts {
		b = binary.AppendUvarint(b, uint64(sp.n))
		older, newer := split(hist[p*size:(p+1)*size], int(sp.head), int(sp.n))
		for k := range int(sp.n) {
			var e *brokerEntry
			if k < len(older) {
				e = &older[k]
			} else {
				e = &newer[k-len(older)]
			}
			if k == 0 {
				prev, base = base, *e
			}
			b = binary.AppendVarint(b, e.Offset-prev.Offset)
			b = binary.AppendVarint(b, e.Timestamp-prev.Timestamp)
			prev = *e
		}
	}
	return state.EndRecord(b, rec)
}
