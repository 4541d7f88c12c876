package offsets

import (
	"errors"
	"iter"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/state"
)

// RestoreStats counts what Restore took from a snapshot and what it left out.
type RestoreStats struct {
	// Restored.
	Groups, Partitions, Commits    int
	BrokerTopics, BrokerPartitions int
	// Left out: groups whose newest commit is older than expire-group, records
	// of clusters no longer configured, groups the allow/deny lists reject,
	// broker topics with more partitions than max-partitions, and records that
	// do not decode.
	Expired, UnknownCluster, Rejected, OverLimit, Malformed int
	// Sections of kinds the store does not know: other packages' sections.
	OtherSections int
}

// Restore fills the store from the sections of a snapshot: broker histories
// and groups, as Snapshot wrote them. It must be called before Start. A record
// that cannot be used is left out and counted, never an error: a group whose
// newest commit is older than expire-group (by the store's clock), a cluster
// no longer configured, a group the lists now reject, a topic beyond
// max-partitions, a record that does not decode. Windows are cut to the
// configured intervals, keeping their newest commits. A group or broker topic
// restored twice keeps its last record. Restore allocates in proportion to
// the data it keeps, whatever the sections hold.
func (s *Store) Restore(sections iter.Seq2[string, []byte]) (RestoreStats, error) {
	var st RestoreStats
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running || s.stopped {
		return st, errors.New("offsets: Restore after Start")
	}
	now := s.clock.ms()
	for kind, data := range sections {
		var restore func(*state.Decoder, int64, *RestoreStats) error
		switch kind {
		case KindBroker:
			restore = s.restoreBrokerTopic
		case KindGroups:
			restore = s.restoreGroup
		default:
			st.OtherSections++
			continue
		}
		if !state.Records(data, func(rec *state.Decoder) {
			if err := restore(rec, now, &st); err != nil || rec.Err() != nil {
				st.Malformed++
			}
		}) {
			st.Malformed++ // the rest of the section cannot be found
		}
	}
	s.lastBC, s.lastGroupCl = nil, -1
	if ce := s.log.Check(zap.InfoLevel, "offsets restored"); ce != nil {
		ce.Write(zap.Any("stats", st))
	}
	return st, nil
}

// errSkip tells a record left out on purpose, already counted, from a
// malformed one.
var errSkip = errors.New("skipped")

// header reads the version and cluster of a record, and returns the cluster's
// index, or -1 when the record is to be left out.
func (s *Store) header(d *state.Decoder, st *RestoreStats) (int32, error) {
	if v := d.Uvarint(); v != recordVersion {
		return -1, state.ErrMalformed
	}
	cluster := d.Bytes()
	if d.Err() != nil {
		return -1, d.Err()
	}
	cl, ok := s.index[string(cluster)]
	if !ok {
		st.UnknownCluster++
		return -1, errSkip
	}
	return cl, nil
}

// restoreGroup restores one group record. The group is built aside and stored
// only when the whole record decoded.
func (s *Store) restoreGroup(d *state.Decoder, now int64, st *RestoreStats) error {
	cl, err := s.header(d, st)
	if err != nil {
		return skipped(err)
	}
	name := d.String()
	g := &group{lastCommit: d.Varint()}
	if d.Err() != nil {
		return d.Err()
	}
	if g.lastCommit < now-s.set.expireMs {
		st.Expired++
		return nil
	}
	sh := s.shards[s.worker(cl, name)]
	if !sh.accept(name) {
		st.Rejected++
		return nil
	}
	if n := d.Count(2, 1<<31); n > 0 {
		g.owners = make([]owner, n)
		g.ownerIdx = make(map[owner]uint32, n)
		for i := range g.owners {
			o := owner{host: d.String(), clientID: d.String()}
			g.owners[i] = o
			g.ownerIdx[o] = uint32(i + 1)
		}
	}
	ntopics := d.Count(2, 1<<31)
	g.topics = make(map[string]*topic, ntopics)
	size := s.set.intervals
	var parts, commits int
	var base, prev entry
	for range ntopics {
		tname := d.String()
		n := d.Count(2, 1<<31)
		if d.Err() != nil {
			return d.Err()
		}
		if n > s.cfg.MaxPartitions {
			st.OverLimit++
			return nil
		}
		t := &topic{parts: make([]part, n), hist: make([]entry, n*size)}
		for p := range t.parts {
			pt := &t.parts[p]
			o := d.Uvarint()
			if o > uint64(len(g.owners)) {
				return state.ErrMalformed
			}
			pt.owner = uint32(o)
			// The window's state: 0 for never used, else 1 + its length; an
			// entry takes at least 4 bytes.
			v := d.Uvarint()
			if v == 0 {
				pt.head = noWindow
				continue
			}
			if v-1 > MaxIntervals || v-1 > uint64(d.Len()/4) {
				return state.ErrMalformed
			}
			k := int(v - 1)
			ring := t.hist[p*size : (p+1)*size]
			for i := range k {
				var e entry
				if i == 0 {
					prev = base
				}
				decodeEntry(d, &e, &prev)
				if i == 0 {
					base = e
				}
				ring[i%size] = e
			}
			if k > size {
				pt.head, pt.n = uint16(k%size), uint16(size)
			} else {
				pt.n = uint16(k)
			}
			commits += int(pt.n)
		}
		g.topics[tname] = t
		parts += n
	}
	if d.Err() != nil {
		return d.Err()
	}
	sh.forget()
	sh.groups[cl][name] = g
	st.Groups++
	st.Partitions += parts
	st.Commits += commits
	return nil
}

// decodeEntry reads what appendEntry wrote.
func decodeEntry(d *state.Decoder, e, prev *entry) {
	e.offset = prev.offset + d.Varint()
	e.order = prev.order + d.Varint()
	e.ts = prev.ts + d.Varint()
	obs := d.Uvarint()
	e.obs = (e.ts + unzigzag(obs>>1)) << 1
	if obs&1 == 1 {
		e.obs |= 1
		e.lag = uint64(int64(prev.lag) + d.Varint())
		prev.lag = e.lag
	}
	prev.offset, prev.order, prev.ts = e.offset, e.order, e.ts
}

// restoreBrokerTopic restores one broker topic record.
func (s *Store) restoreBrokerTopic(d *state.Decoder, _ int64, st *RestoreStats) error {
	cl, err := s.header(d, st)
	if err != nil {
		return skipped(err)
	}
	name := d.String()
	n := d.Count(1, 1<<31)
	if d.Err() != nil {
		return d.Err()
	}
	if n > s.cfg.MaxPartitions {
		st.OverLimit++
		return nil
	}
	size := s.cfg.Intervals
	t := &brokerTopic{parts: make([]span, n), hist: make([]brokerEntry, n*size)}
	var base, prev brokerEntry
	for p := range t.parts {
		k := d.Count(2, MaxIntervals)
		ring := t.hist[p*size : (p+1)*size]
		for i := range k {
			if i == 0 {
				prev = base
			}
			e := brokerEntry{Offset: prev.Offset + d.Varint(), Timestamp: prev.Timestamp + d.Varint()}
			if i == 0 {
				base = e
			}
			ring[i%size] = e
			prev = e
		}
		sp := &t.parts[p]
		if k > size {
			sp.head, sp.n = uint16(k%size), uint16(size)
		} else {
			sp.n = uint16(k)
		}
	}
	if d.Err() != nil {
		return d.Err()
	}
	s.brokers[cl].topics[name] = t
	s.brokers[cl].last = nil
	st.BrokerTopics++
	st.BrokerPartitions += n
	return nil
}

// skipped turns errSkip (a record left out and counted) into no error.
func skipped(err error) error {
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}
