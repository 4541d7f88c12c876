package ha

import (
	"encoding/binary"
	"errors"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/warrenlag/warren/internal/notifier"
	"github.com/warrenlag/warren/internal/state"
)

// A record of the state topic. Its key is one byte, kindLeader, for the
// leader's marker, or kindGroup followed by the group's cluster and name
// (length-prefixed strings), so that compaction keeps one record per group
// and the last marker. Its value, integers varints:
//
//	"WH" (magic), version (1), group ID (of [ha], a string), epoch, generation, kind,
//	kindLeader: the member ID (a string)
//	kindGroup: the notifier's record of the group (notifier.KindIncidents,
//	           one record with its 4-byte length)
//
// A group whose state is cleared (its incident closed with no open to hold
// back) keeps a record that says so rather than a Kafka tombstone, so that the
// clearing carries the writer's epoch and a deposed leader cannot undo it.
//
// Epoch and generation fence deposed leaders. The generation is the writer's
// group generation; the epoch is chosen by each leader at take-over, after
// reading the topic to its end: the larger of its generation and one more than
// the largest epoch read, so that it grows even when the group itself was
// forgotten by Kafka (and its generation started again from 1). A reader,
// reading in offset order, keeps the largest (epoch, generation) seen and
// skips any record below it: a deposed leader's late write is ignored. The
// leader writes its marker before it evaluates anything, so every record it
// writes after the marker is above every deposed leader's.
const recordVersion = 1

// magic opens every value, so that garbage is told from a future version.
const magic = "WH"

const (
	kindLeader byte = 0
	kindGroup  byte = 1
)

// What became of a record read: the label of warren_ha_state_records_total.
const (
	resultApplied = iota
	resultStale
	resultGarbage
	resultFutureVersion
	resultForeign
	resultTombstone
	numResults
)

var resultNames = [numResults]string{"applied", "stale", "garbage", "future_version", "foreign", "tombstone"}

var (
	errGarbage = errors.New("not a Warren HA record")
	errFuture  = errors.New("written by a newer Warren")
)

// fence orders writers: a record below the largest fence read is stale.
type fence struct {
	epoch uint64
	gen   int32
}

func (f fence) less(g fence) bool { return f.epoch < g.epoch || f.epoch == g.epoch && f.gen < g.gen }

// groupKey returns the key of a group's record.
func groupKey(cluster, group string) []byte {
	b := []byte{kindGroup}
	b = state.AppendString(b, cluster)
	return state.AppendString(b, group)
}

// appendValue appends a record's value.
func appendValue(b []byte, groupID string, f fence, kind byte, payload []byte) []byte {
	b = append(b, magic...)
	b = binary.AppendUvarint(b, recordVersion)
	b = state.AppendString(b, groupID)
	b = binary.AppendUvarint(b, f.epoch)
	b = binary.AppendVarint(b, int64(f.gen))
	b = binary.AppendUvarint(b, uint64(kind))
	if kind == kindLeader {
		return state.AppendString(b, string(payload))
	}
	return append(b, payload...)
}

// decoded is a record's value, decoded; payload aliases the value.
type decoded struct {
	groupID string
	fence   fence
	kind    byte
	payload []byte
}

// decodeValue decodes and checks a value; its error is errGarbage or
// errFuture.
func decodeValue(v []byte) (decoded, error) {
	if len(v) < len(magic) || string(v[:len(magic)]) != magic {
		return decoded{}, errGarbage
	}
	d := state.NewDecoder(v[len(magic):])
	version := d.Uvarint()
	if d.Err() != nil || version == 0 {
		return decoded{}, errGarbage
	}
	if version > recordVersion {
		return decoded{}, errFuture
	}
	var r decoded
	r.groupID = d.String()
	r.fence.epoch = d.Uvarint()
	gen := d.Varint()
	kind := d.Uvarint()
	if d.Err() != nil || gen < -1 || gen > 1<<31-1 || kind > uint64(kindGroup) {
		return decoded{}, errGarbage
	}
	r.fence.gen, r.kind = int32(gen), byte(kind)
	rest := v[len(v)-d.Len():] // the bytes left, at the end of v
	switch r.kind {
	case kindLeader:
		r.payload = d.Bytes()
		if d.Err() != nil {
			return decoded{}, errGarbage
		}
	case kindGroup:
		// Exactly one notifier record, whose own content the notifier
		// checks when it applies it.
		rec := d.Record()
		if d.Err() != nil || rec.Len() == 0 || d.Len() != 0 {
			return decoded{}, errGarbage
		}
		r.payload = rest
	}
	return r, nil
}

// table is what a reader of the state topic keeps: the latest record of each
// group, the largest fence read, and the offset after the last record read.
// It is safe for concurrent use.
type table struct {
	groupID string

	mu   sync.Mutex
	recs map[string][]byte // group key → notifier record
	max  fence
	next int64 // offset after the last record read

	counts [numResults]atomic.Uint64
}

func newTable(groupID string) *table { return &table{groupID: groupID, recs: map[string][]byte{}} }

// apply reads one record of the topic, at offset, and returns what became of
// it (counted). key and value may be reused by the caller afterwards.
func (t *table) apply(offset int64, key, value []byte) int {
	res := t.applyLocked(offset, key, value)
	t.counts[res].Add(1)
	return res
}

func (t *table) applyLocked(offset int64, key, value []byte) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next = max(t.next, offset+1)
	if len(key) == 0 || key[0] > kindGroup {
		return resultGarbage
	}
	if value == nil {
		// A Kafka tombstone (an operator's, Warren writes none): the group
		// has no state.
		if key[0] == kindGroup {
			delete(t.recs, string(key))
		}
		return resultTombstone
	}
	r, err := decodeValue(value)
	switch {
	case errors.Is(err, errFuture):
		return resultFutureVersion
	case err != nil || r.kind != key[0]:
		return resultGarbage
	case r.groupID != t.groupID:
		return resultForeign
	case r.fence.less(t.max):
		return resultStale
	}
	t.max = r.fence
	if r.kind == kindGroup {
		t.recs[string(key)] = append([]byte(nil), r.payload...)
	}
	return resultApplied
}

// position returns the offset after the last record read and the largest
// fence.
func (t *table) position() (int64, fence) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.next, t.max
}

// sections returns a copy of the groups' records as sections of
// notifier.KindIncidents, one record each.
func (t *table) sections() iter.Seq2[string, []byte] {
	t.mu.Lock()
	recs := make([][]byte, 0, len(t.recs))
	for _, r := range t.recs {
		recs = append(recs, r)
	}
	t.mu.Unlock()
	return func(yield func(string, []byte) bool) {
		for _, r := range recs {
			if !yield(notifier.KindIncidents, r) {
				return
			}
		}
	}
}
