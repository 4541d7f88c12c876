package kafka

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/warrenlag/warren/protocol"
)

func commitKey(version int16, group, topic string, p int32) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = version, group, topic, p
	return k.AppendTo(nil)
}

func commitValue(version int16, offset, ts int64, metadata string) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version, v.Offset, v.CommitTimestamp, v.Metadata, v.LeaderEpoch = version, offset, ts, metadata, 7
	return v.AppendTo(nil)
}

func groupKey(group string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version, k.Group = 2, group
	return k.AppendTo(nil)
}

func assignment(topic string, partitions ...int32) []byte {
	a := kmsg.NewConsumerMemberAssignment()
	a.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: topic, Partitions: partitions}}
	return a.AppendTo(nil)
}

func groupValue(version int16, protocolType string, members ...kmsg.GroupMetadataValueMember) []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version, v.ProtocolType, v.Generation, v.Members = version, protocolType, 3, members
	p := "range"
	v.Protocol = &p
	return v.AppendTo(nil)
}

func member(id, client, host string, assigned []byte) kmsg.GroupMetadataValueMember {
	m := kmsg.NewGroupMetadataValueMember()
	m.MemberID, m.ClientID, m.ClientHost, m.Assignment = id, client, host, assigned
	return m
}

func commitReq(group, topic string, p int32, offset, order, ts int64) protocol.StorageRequest {
	return protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local", Group: group,
		Topic: topic, Partition: p, Offset: offset, Order: order, Timestamp: ts}
}

func TestDecode(t *testing.T) {
	long := strings.Repeat("m", 200) // a compact length that needs two varint bytes
	owner := func(topic string, p int32, host, id string) protocol.StorageRequest {
		return protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "local", Group: "g",
			Topic: topic, Partition: p, Owner: host, ClientID: id}
	}
	clear := protocol.StorageRequest{RequestType: protocol.StorageClearConsumerOwners, Cluster: "local", Group: "g"}
	tests := []struct {
		name       string
		key, value []byte
		want       []protocol.StorageRequest
		why        skip
	}{
		{"commit key v0 value v0", commitKey(0, "g", "t", 2), commitValue(0, 100, 5000, ""), []protocol.StorageRequest{commitReq("g", "t", 2, 100, 42, 5000)}, skipNone},
		{"commit key v1 value v1", commitKey(1, "g", "t", 2), commitValue(1, 101, 5001, "x"), []protocol.StorageRequest{commitReq("g", "t", 2, 101, 42, 5001)}, skipNone},
		{"value v2", commitKey(1, "g", "t", 0), commitValue(2, 102, 5002, ""), []protocol.StorageRequest{commitReq("g", "t", 0, 102, 42, 5002)}, skipNone},
		{"value v3", commitKey(1, "g", "t", 0), commitValue(3, 103, 5003, "meta"), []protocol.StorageRequest{commitReq("g", "t", 0, 103, 42, 5003)}, skipNone},
		{"value v4, long metadata", commitKey(1, "g", "t", 0), commitValue(4, 104, 5004, long), []protocol.StorageRequest{commitReq("g", "t", 0, 104, 42, 5004)}, skipNone},
		{"value v5", commitKey(1, "g", "t", 0), append([]byte{0, 5}, make([]byte, 30)...), nil, skipValueVersion},
		{"commit tombstone", commitKey(1, "g", "t", 0), nil, nil, skipTombstone},
		{"negative offset (Kafka's none)", commitKey(1, "g", "t", 0), commitValue(3, -1, 5000, ""), nil, skipNegativeOffset},
		{"negative offset, value v0", commitKey(0, "g", "t", 0), commitValue(0, -7, 5000, ""), nil, skipNegativeOffset},
		{"denied group", commitKey(1, "console-consumer-1", "t", 0), commitValue(3, 1, 1, ""), nil, skipRejected},
		{"truncated value", commitKey(1, "g", "t", 0), commitValue(3, 1, 1, "")[:9], nil, skipBadValue},
		{"truncated key", commitKey(1, "g", "t", 0)[:5], commitValue(3, 1, 1, ""), nil, skipBadKey},
		{"no key", nil, []byte{1}, nil, skipNoKeyVersion},
		{"key version 3+", []byte{0, 3, 0, 1, 'g'}, []byte{0, 0}, nil, skipOtherRecord},
		{"negative string length", []byte{0, 1, 0xff, 0xf0, 'g'}, commitValue(3, 1, 1, ""), nil, skipBadKey},
		{"group metadata v0..v3 with members", groupKey("g"), groupValue(3, "consumer",
			member("m1", "c1", "/10.0.0.1", assignment("t", 0, 1)), member("m2", "c2", "/10.0.0.2", assignment("u", 3)),
			member("m3", "c3", "/10.0.0.3", nil)),
			[]protocol.StorageRequest{clear, owner("t", 0, "/10.0.0.1", "c1"), owner("t", 1, "/10.0.0.1", "c1"), owner("u", 3, "/10.0.0.2", "c2")}, skipNone},
		{"group metadata v4 (flexible)", groupKey("g"), groupValue(4, "consumer", member("m1", "c1", "/h", assignment("t", 5))),
			[]protocol.StorageRequest{clear, owner("t", 5, "/h", "c1")}, skipNone},
		{"group metadata v0", groupKey("g"), groupValue(0, "consumer", member("m1", "c1", "/h", assignment("t", 5))),
			[]protocol.StorageRequest{clear, owner("t", 5, "/h", "c1")}, skipNone},
		{"empty group", groupKey("g"), groupValue(2, "consumer"), []protocol.StorageRequest{clear}, skipNone},
		{"connect group", groupKey("g"), groupValue(2, "connect", member("m1", "c1", "/h", []byte{1, 2, 3})), nil, skipNotConsumer},
		{"group tombstone (lists do not apply)", groupKey("console-consumer-1"), nil,
			[]protocol.StorageRequest{{RequestType: protocol.StorageSetDeleteGroup, Cluster: "local", Group: "console-consumer-1"}}, skipNone},
		{"group value v9", groupKey("g"), []byte{0, 9, 0, 0}, nil, skipValueVersion},
		{"garbage assignment", groupKey("g"), groupValue(2, "consumer", member("m1", "c1", "/h", []byte{0, 0, 0x7f, 0xff, 0xff, 0xff})),
			[]protocol.StorageRequest{clear}, skipBadMember},
		{"truncated group value", groupKey("g"), groupValue(2, "consumer", member("m1", "c1", "/h", assignment("t", 1)))[:20], nil, skipBadValue},
	}
	d := &decoder{cluster: "local", deny: regexp.MustCompile("^console-consumer-")}
	for _, tt := range tests {
		var got []protocol.StorageRequest
		why, detail := d.decode(tt.key, tt.value, 42, func(r *protocol.StorageRequest) { got = append(got, *r) })
		if why != tt.why || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: skip %q (%s), got\n %+v\nwant\n %+v", tt.name, skipNames[why], detail, got, tt.want)
		}
	}
}

// FuzzDecode: no record, however malformed, panics the decoder.
func FuzzDecode(f *testing.F) {
	f.Add(commitKey(1, "g", "t", 0), commitValue(4, 1, 2, "m"))
	f.Add(groupKey("g"), groupValue(3, "consumer", member("m", "c", "h", assignment("t", 1, 2))))
	f.Add([]byte{0, 2, 0xff, 0xfe}, []byte{0, 4, 0xff})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		d := &decoder{cluster: "c"}
		n := 0
		why, detail := d.decode(key, value, 1, func(*protocol.StorageRequest) { n++ })
		if why == skipPanic {
			t.Fatalf("decoder panicked: %s", detail)
		}
		if n > len(value)+1 {
			t.Fatalf("%d requests from %d bytes", n, len(value))
		}
	})
}
