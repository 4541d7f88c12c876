package kafka

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/warrenlag/warren/protocol"
)

// Why a record of the offsets topic produced nothing, or only part of what it
// holds. Each is counted; none stops the reader.
type skip int

const (
	skipNone           skip = iota
	skipNoKeyVersion        // key null or shorter than its version
	skipBadKey              // key truncated or malformed
	skipOtherRecord         // key version 3 and up: records Warren does not use
	skipRejected            // group not accepted by the module's lists
	skipTombstone           // offset commit deleted (nothing to do)
	skipNegativeOffset      // commit of no valid offset (Kafka's -1)
	skipValueVersion        // value version Warren does not know
	skipBadValue            // value truncated or malformed
	skipNotConsumer         // group metadata of a non-consumer protocol
	skipBadMember           // group member or assignment malformed
	skipPanic               // a decoding bug: counted, never a crash
	numSkips
)

var skipNames = [numSkips]string{"", "no_key_version", "bad_key", "other_record", "group_rejected",
	"tombstone", "negative_offset", "value_version", "bad_value", "not_consumer_protocol", "bad_member", "decoder_panic"}

// skipWarns marks the skips that mean a malformed record, logged as throttled
// warnings; the others happen in normal operation and are logged at debug level.
var skipWarns = [numSkips]bool{skipNoKeyVersion: true, skipBadKey: true, skipValueVersion: true,
	skipBadValue: true, skipNotConsumer: true, skipBadMember: true, skipPanic: true}

// decoder turns records of the offsets topic into storage requests, as Burrow
// reads them (kafka.md section 3), but never crashes on their contents.
type decoder struct {
	cluster     string
	allow, deny *regexp.Regexp
	skips       [numSkips]atomic.Uint64
}

func (d *decoder) accept(group string) bool {
	return (d.allow == nil || d.allow.MatchString(group)) && (d.deny == nil || !d.deny.MatchString(group))
}

// decode reads one record (its key, value and offset in its partition) and
// passes each storage request it yields to emit. It reports why it skipped the
// record, or skipNone, and a detail for the log.
func (d *decoder) decode(key, value []byte, offset int64, emit func(*protocol.StorageRequest)) (why skip, detail string) {
	defer func() {
		if r := recover(); r != nil {
			why, detail = skipPanic, fmt.Sprint(r)
		}
	}()
	if len(key) < 2 {
		return skipNoKeyVersion, "no key version"
	}
	switch v := int16(binary.BigEndian.Uint16(key)); {
	case v == 0 || v == 1:
		return d.offsetCommit(key, value, offset, emit)
	case v == 2:
		return d.groupMetadata(key, value, emit)
	default:
		return skipOtherRecord, fmt.Sprintf("key version %d", v)
	}
}

func (d *decoder) offsetCommit(key, value []byte, order int64, emit func(*protocol.StorageRequest)) (skip, string) {
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		return skipBadKey, err.Error()
	}
	if !d.accept(k.Group) {
		return skipRejected, k.Group
	}
	if len(value) == 0 {
		return skipTombstone, ""
	}
	if why, detail := valueVersion(value, "offset commit"); why != skipNone {
		return why, detail
	}
	var v kmsg.OffsetCommitValue
	if err := v.UnsafeReadFrom(value); err != nil { // nothing of the value is kept but numbers
		return skipBadValue, err.Error()
	}
	if v.Offset < 0 {
		// Kafka's "no offset" (-1): stored, it would count the whole partition
		// as lag.
		return skipNegativeOffset, fmt.Sprintf("offset %d", v.Offset)
	}
	emit(&protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: d.cluster,
		Group: k.Group, Topic: k.Topic, Partition: k.Partition, Offset: v.Offset, Order: order,
		Timestamp: v.CommitTimestamp})
	return skipNone, ""
}

func (d *decoder) groupMetadata(key, value []byte, emit func(*protocol.StorageRequest)) (skip, string) {
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return skipBadKey, err.Error()
	}
	if len(value) == 0 {
		// The group was deleted or expired in Kafka; the lists do not apply.
		emit(&protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: d.cluster, Group: k.Group})
		return skipNone, ""
	}
	if why, detail := valueVersion(value, "group metadata"); why != skipNone {
		return why, detail
	}
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(value); err != nil {
		// Header or a member truncated: what came before the failure is not
		// recoverable with this decoder, so the record is skipped whole.
		return skipBadValue, err.Error()
	}
	if v.ProtocolType != "consumer" {
		return skipNotConsumer, v.ProtocolType
	}
	emit(&protocol.StorageRequest{RequestType: protocol.StorageClearConsumerOwners, Cluster: d.cluster, Group: k.Group})
	for _, m := range v.Members {
		if len(m.Assignment) == 0 {
			continue
		}
		var a kmsg.ConsumerMemberAssignment
		if err := a.ReadFrom(m.Assignment); err != nil || a.Version < 0 {
			return skipBadMember, fmt.Sprintf("assignment of member %s: %v", m.MemberID, err)
		}
		for _, t := range a.Topics {
			for _, p := range t.Partitions {
				emit(&protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: d.cluster,
					Group: k.Group, Topic: t.Topic, Partition: p, Owner: m.ClientHost, ClientID: m.ClientID})
			}
		}
	}
	return skipNone, ""
}

// valueVersion checks that a value starts with a version Warren decodes (0 to
// 4, for both kinds of value).
func valueVersion(value []byte, kind string) (skip, string) {
	if len(value) < 2 {
		return skipBadValue, "no value version"
	}
	if v := int16(binary.BigEndian.Uint16(value)); v < 0 || v > 4 {
		return skipValueVersion, fmt.Sprintf("%s value version %d", kind, v)
	}
	return skipNone, ""
}

// Skips returns how many records were skipped, by reason (for metrics).
func (d *decoder) Skips() map[string]uint64 {
	out := map[string]uint64{}
	for i := 1; i < int(numSkips); i++ {
		if n := d.skips[i].Load(); n > 0 {
			out[skipNames[i]] = n
		}
	}
	return out
}
