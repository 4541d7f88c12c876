package kafka

import (
	"encoding/binary"
	"iter"
	"maps"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/warrenlag/warren/internal/state"
	"github.com/warrenlag/warren/protocol"
)

// KindPositions is the consumer modules' section of a state file: one record
// per consumer module, keyed by module name, with the position its readers had
// reached in each partition of the offsets topic and what its commits' Orders
// must stay above after a restart. It is written before storage's sections:
// a position counts only records whose requests storage already holds.
const KindPositions = "kafka.positions"

// positionsVersion opens every record of KindPositions.
const positionsVersion = 1

// maxSavedPartitions bounds the partitions of one record: Kafka allows far
// fewer per topic.
const maxSavedPartitions = 1 << 20

// restartGap is how far above the highest Order saved the Orders of a
// restarted module's admin API start. The positions are taken before storage's
// snapshot, and the module sends on meanwhile: storage may hold Orders above
// the one saved, by at most the requests sent in between.
const restartGap = 1 << 32

// barrierWait bounds the wait for storage to take the barrier of a snapshot
// of positions. Only a storage already stopped fails to take it at once, and
// its Stop forwarded everything sent before.
const barrierWait = time.Second

// positions are the next offsets to read of a topic source's readers, by
// partition of the offsets topic, for the state file. The map is fixed when
// the readers start; each value is written by one reader and read by anyone.
type positions struct {
	// base is the Orders base (offsets-source auto) in force when the
	// readers started: their commits' Orders are record offsets plus base.
	base  int64
	parts map[int32]*position
}

// position is a partition's: next is the offset after the last record the
// live reader handed to storage; backfill the backfill reader's, or -1 when
// the partition has no backfill or it is done.
type position struct {
	next, backfill atomic.Int64
}

func newPositions(base int64, live, backfill map[int32]int64) *positions {
	ps := &positions{base: base, parts: make(map[int32]*position, len(live))}
	for p, o := range live {
		at := &position{}
		at.next.Store(o)
		at.backfill.Store(-1)
		if b, ok := backfill[p]; ok {
			at.backfill.Store(b)
		}
		ps.parts[p] = at
	}
	return ps
}

// of returns the position of partition p; one of no partition when the table
// does not know p (never: a reader reads the partitions it was started with).
func (ps *positions) of(p int32) *position {
	if at := ps.parts[p]; at != nil {
		return at
	}
	return new(position)
}

// backfilled marks the partition's backfill done: the live reader, which
// started where the backfill ends, holds its position.
func (at *position) backfilled() { at.backfill.Store(-1) }

// get returns where reading must resume so that no record is missed: the
// backfill's position while it runs, as the records between it and the live
// reader's start have not been read.
func (at *position) get() int64 {
	if b := at.backfill.Load(); b >= 0 {
		return b
	}
	return at.next.Load()
}

// saved is what a consumer module keeps in the state file.
type saved struct {
	module, cluster, topic string
	// onAdmin: the module was reading the admin API (offsets-source admin, or
	// auto while the topic could not be read); it has no positions.
	onAdmin bool
	// base is the Orders base its topic readers used (offsets-source auto);
	// max the highest Order it knew of having sent, -1 for none.
	base, max int64
	parts     []partPosition // by partition
}

type partPosition struct {
	partition int32
	next      int64
}

// at returns the positions by partition; nil when there are none.
func (sv *saved) at() map[int32]int64 {
	if sv == nil || len(sv.parts) == 0 {
		return nil
	}
	m := make(map[int32]int64, len(sv.parts))
	for _, pp := range sv.parts {
		m[pp.partition] = pp.next
	}
	return m
}

// save returns sv (a module's names) with the positions of ps.
func (ps *positions) save(sv saved) saved {
	sv.base, sv.max = ps.base, -1
	sv.parts = make([]partPosition, 0, len(ps.parts))
	for _, p := range slices.Sorted(maps.Keys(ps.parts)) {
		next := ps.parts[p].get()
		sv.parts = append(sv.parts, partPosition{p, next})
		sv.max = max(sv.max, next-1+ps.base) // Orders are record offsets plus base
	}
	return sv
}

// resumer is a consumer module that saves and restores its reading state.
type resumer interface {
	// save returns the module's state; safe while the module runs.
	save() saved
	// restore gives the module its saved state, before Start.
	restore(sv *saved)
	config() (name, cluster, topic string)
	storage() chan *protocol.StorageRequest
}

// Positions returns the state.Source of the consumer modules of mods: a
// KindPositions section with one record per consumer module (modules of
// other kinds have none). It may be called at any time, while the modules run
// and after they stop, from any goroutine. Give it to state.File.Write before
// storage's source, so that no position is ahead of the commits storage holds:
// a reader counts a record only once storage's channel took its requests, and
// Positions, after reading the positions, sends a request of its own through
// each storage channel, which storage's forwarder takes only after it has
// handed on every request taken before.
func Positions(mods []Named) state.Source {
	return func(add func(kind string, data []byte) error) error {
		var buf []byte
		var chans []chan *protocol.StorageRequest
		for _, m := range mods {
			r, ok := m.Module.(resumer)
			if !ok {
				continue
			}
			sv := r.save()
			buf = appendSaved(buf, &sv)
			if ch := r.storage(); ch != nil && !slices.Contains(chans, ch) {
				chans = append(chans, ch)
			}
		}
		if len(buf) == 0 {
			return nil
		}
		for _, ch := range chans {
			barrier(ch)
		}
		return add(KindPositions, buf)
	}
}

// barrier returns once storage's forwarder has taken a request sent now, or
// after barrierWait: the forwarder takes requests one at a time and hands
// each to storage before it takes the next.
func barrier(ch chan *protocol.StorageRequest) {
	r := &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters, Reply: make(chan any, 1)}
	t := time.NewTimer(barrierWait)
	defer t.Stop()
	select {
	case ch <- r:
	case <-t.C:
	}
}

// appendSaved appends the record of sv.
func appendSaved(b []byte, sv *saved) []byte {
	b, rec := state.StartRecord(b)
	b = binary.AppendUvarint(b, positionsVersion)
	b = state.AppendString(b, sv.module)
	b = state.AppendString(b, sv.cluster)
	b = state.AppendString(b, sv.topic)
	var flags uint64
	if sv.onAdmin {
		flags |= 1
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendVarint(b, sv.base)
	b = binary.AppendVarint(b, sv.max)
	b = binary.AppendUvarint(b, uint64(len(sv.parts)))
	for _, pp := range sv.parts {
		b = binary.AppendUvarint(b, uint64(pp.partition))
		b = binary.AppendUvarint(b, uint64(pp.next))
	}
	return state.EndRecord(b, rec)
}

// decodeSaved reads what appendSaved wrote. It allocates at most in
// proportion to the bytes of the record.
func decodeSaved(d *state.Decoder) (saved, error) {
	var sv saved
	if v := d.Uvarint(); v != positionsVersion {
		return sv, state.ErrMalformed
	}
	sv.module, sv.cluster, sv.topic = d.String(), d.String(), d.String()
	sv.onAdmin = d.Uvarint()&1 == 1 // other bits: flags of later versions
	sv.base, sv.max = d.Varint(), d.Varint()
	n := d.Count(2, maxSavedPartitions)
	if d.Err() != nil {
		return sv, d.Err()
	}
	if n > 0 {
		sv.parts = make([]partPosition, n)
	}
	for i := range sv.parts {
		p, next := d.Uvarint(), d.Uvarint()
		if p > math.MaxInt32 || next > math.MaxInt64 {
			return sv, state.ErrMalformed
		}
		sv.parts[i] = partPosition{int32(p), int64(next)}
	}
	if d.Err() != nil || d.Len() > 0 {
		return sv, state.ErrMalformed
	}
	if sv.base < 0 || sv.max < -1 || sv.base > math.MaxInt64-restartGap || sv.max > math.MaxInt64-2*restartGap {
		return sv, state.ErrMalformed // Orders that restartGap would overflow
	}
	return sv, nil
}

// RestoreStats counts what Restore gave the consumer modules and what it left
// out.
type RestoreStats struct {
	// Modules given their saved state, and the positions among it.
	Modules, Positions int
	// Left out: records of modules not configured now (or no longer consumer
	// modules), records whose module now reads another cluster or offsets
	// topic, and records that do not decode.
	Unknown, Mismatched, Malformed int
	// Sections of other kinds.
	OtherSections int
}

// Restore gives each consumer module of mods the state saved for its name by
// Positions, from the sections of a snapshot; it must be called before the
// modules start. A record is left out and counted, never an error, when no
// consumer module has its name now, when the module now reads another cluster
// or offsets topic, or when it does not decode. A module restored twice keeps
// its last record.
//
// At Start, a topic reader resumes each partition at its saved position
// instead of the start rule (start-latest and backfill-earliest apply to the
// partitions without one); a position below the partition's log start (records
// deleted) or beyond its end (the topic recreated) falls back to the start
// rule, logged once. Saved partitions the topic no longer has are ignored. An
// admin API source, and offsets-source auto restarting on it, number their
// commits' Orders above the highest one saved, so that storage files them as
// new; auto saved while on the admin API restarts on it, and returns to the
// topic when its probe can read it, as at any time.
func Restore(mods []Named, sections iter.Seq2[string, []byte]) RestoreStats {
	var st RestoreStats
	byName := map[string]resumer{}
	for _, m := range mods {
		if r, ok := m.Module.(resumer); ok {
			name, _, _ := r.config()
			byName[name] = r
		}
	}
	restored := map[string]*saved{}
	for kind, data := range sections {
		if kind != KindPositions {
			st.OtherSections++
			continue
		}
		if !state.Records(data, func(rec *state.Decoder) {
			sv, err := decodeSaved(rec)
			if err != nil {
				st.Malformed++
				return
			}
			r, ok := byName[sv.module]
			if !ok {
				st.Unknown++
				return
			}
			if _, cluster, topic := r.config(); sv.cluster != cluster || sv.topic != topic {
				st.Mismatched++
				return
			}
			restored[sv.module] = &sv
		}) {
			st.Malformed++ // the rest of the section cannot be found
		}
	}
	for name, sv := range restored {
		byName[name].restore(sv)
		st.Modules++
		st.Positions += len(sv.parts)
	}
	return st
}

// The consumer modules' part.

func (s *TopicSource) config() (string, string, string) {
	return s.cfg.Name, s.cfg.Cluster, s.cfg.OffsetsTopic
}

func (s *TopicSource) storage() chan *protocol.StorageRequest { return s.out.ch }

// save returns the readers' positions: those of the running readers, or of
// the last ones run; before the first Start, what was restored.
func (s *TopicSource) save() saved {
	sv := saved{max: -1}
	sv.module, sv.cluster, sv.topic = s.config()
	s.pmu.Lock()
	pos, restored := s.pos, s.saved
	s.pmu.Unlock()
	switch {
	case pos != nil:
		return pos.save(sv)
	case restored != nil:
		return *restored
	}
	return sv
}

// restore keeps the saved positions for the next Start. A topic source alone
// numbers Orders by record offset, whatever the saved base.
func (s *TopicSource) restore(sv *saved) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if sv.onAdmin {
		sv = nil // positions of another source, if any, are stale
	}
	s.saved = sv
}

// takeSaved returns the restored positions by partition, once.
func (s *TopicSource) takeSaved() map[int32]int64 {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	at := s.saved.at()
	s.saved = nil
	return at
}

// baseOrder returns the Orders base in force (offsets-source auto), else 0.
func (s *TopicSource) baseOrder() int64 {
	if s.out.orders == nil {
		return 0
	}
	return s.out.orders.base.Load()
}

func (a *AdminSource) config() (string, string, string) {
	return a.cfg.Name, a.cfg.Cluster, a.cfg.OffsetsTopic
}

func (a *AdminSource) storage() chan *protocol.StorageRequest { return a.out.ch }

// save returns the highest Order sent: the admin API has no positions.
func (a *AdminSource) save() saved {
	sv := saved{onAdmin: true, max: a.out.orders.max.Load()}
	sv.module, sv.cluster, sv.topic = a.config()
	return sv
}

// restore makes the source's Orders start above the saved ones.
func (a *AdminSource) restore(sv *saved) {
	a.out.orders.resume(sv)
	a.out.orders.next()
}

func (a *autoSource) config() (string, string, string) { return a.topic.config() }

func (a *autoSource) storage() chan *protocol.StorageRequest { return a.topic.out.ch }

// save returns the topic readers' positions while the topic is read, and only
// the highest Order while the admin API is: the positions the readers had
// before the switch are stale, and their base below the admin API's Orders.
func (a *autoSource) save() saved {
	a.mu.Lock()
	defer a.mu.Unlock()
	var sv saved
	if a.onAdmin.Load() || (a.resumeAdmin && !a.started) {
		sv = a.admin.save()
	} else {
		sv = a.topic.save()
	}
	sv.max = max(sv.max, a.orders.max.Load())
	return sv
}

// restore restores the Orders and, when the topic was read, the positions.
func (a *autoSource) restore(sv *saved) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.orders.resume(sv)
	a.resumeAdmin = sv.onAdmin
	a.topic.restore(sv)
}
