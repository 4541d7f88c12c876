package protocol

import (
	"encoding/json"
	"strconv"
)

// StorageRequestConstant names the type of a StorageRequest. Its numeric values are
// part of the protocol: clients may send them as bare numbers.
type StorageRequestConstant int

// The storage request types. Set and clear requests get no reply; every fetch sends
// at most one value on its Reply and then closes it.
const (
	// StorageSetBrokerOffset records the newest (log-end) offset of a partition.
	// Fields: Cluster, Topic, Partition, TopicPartitionCount, Offset, Timestamp.
	StorageSetBrokerOffset StorageRequestConstant = 0

	// StorageSetConsumerOffset records a commit of a consumer group.
	// Fields: Cluster, Group, Topic, Partition, Offset, Order, Timestamp.
	StorageSetConsumerOffset StorageRequestConstant = 1

	// StorageSetConsumerOwner records which client owns a partition of a group.
	// Fields: Cluster, Group, Topic, Partition, Owner, ClientID.
	StorageSetConsumerOwner StorageRequestConstant = 2

	// StorageSetDeleteTopic removes a topic from the broker offsets and every group.
	// Fields: Cluster, Topic.
	StorageSetDeleteTopic StorageRequestConstant = 3

	// StorageSetDeleteGroup removes a group, or only one of its topics when Topic is
	// set. Fields: Cluster, Group, optional Topic.
	StorageSetDeleteGroup StorageRequestConstant = 4

	// StorageFetchClusters replies with the known cluster names ([]string).
	StorageFetchClusters StorageRequestConstant = 5

	// StorageFetchConsumers replies with the group names of Cluster ([]string).
	StorageFetchConsumers StorageRequestConstant = 6

	// StorageFetchTopics replies with the topic names of Cluster ([]string).
	StorageFetchTopics StorageRequestConstant = 7

	// StorageFetchConsumer replies with the offsets of Group in Cluster
	// (ConsumerTopics).
	StorageFetchConsumer StorageRequestConstant = 8

	// StorageFetchTopic replies with the newest broker offset of each partition of
	// Topic that has one ([]int64).
	StorageFetchTopic StorageRequestConstant = 9

	// StorageClearConsumerOwners empties the owner of every partition of Group.
	StorageClearConsumerOwners StorageRequestConstant = 10

	// StorageFetchConsumersForTopic replies with the groups of Cluster that consume
	// Topic ([]string).
	StorageFetchConsumersForTopic StorageRequestConstant = 11

	// StorageSetConsumerRepeat is a Warren addition: one request standing for
	// the StorageSetConsumerOffset a poller would send for each partition of a
	// run whose committed offset has not changed since its previous poll (the
	// admin source re-sends the offsets of live groups every poll). Each
	// partition p of Topic in Group with Partition <= p <
	// Partition+TopicPartitionCount whose newest stored commit has the Order
	// given in Offset (the poller's previous Order) gets exactly what a
	// StorageSetConsumerOffset of that commit's offset at this Order and
	// Timestamp would give it. A partition whose newest commit already has
	// Order is left alone. Every other partition of the run (no such commit,
	// a newer one, anything that request would drop) is left alone too, and
	// listed in the reply: Reply, when set, receives one []int32 of those
	// partition ids, so that the sender can send each as a
	// StorageSetConsumerOffset. A storage that does not know the type closes
	// Reply without a value; the sender then sends the whole run that way.
	// Fields: Cluster, Group, Topic, Partition, TopicPartitionCount (the
	// run's length), Offset (the previous Order), Order, Timestamp, Reply.
	StorageSetConsumerRepeat StorageRequestConstant = 12
)

var storageRequestNames = [...]string{
	"StorageSetBrokerOffset",
	"StorageSetConsumerOffset",
	"StorageSetConsumerOwner",
	"StorageSetDeleteTopic",
	"StorageSetDeleteGroup",
	"StorageFetchClusters",
	"StorageFetchConsumers",
	"StorageFetchTopics",
	"StorageFetchConsumer",
	"StorageFetchTopic",
	"StorageClearConsumerOwners",
	"StorageFetchConsumersForTopic",
	"StorageSetConsumerRepeat",
}

// String returns the name of the request type, or "UNKNOWN".
func (c StorageRequestConstant) String() string {
	if c >= 0 && int(c) < len(storageRequestNames) {
		return storageRequestNames[c]
	}
	return "UNKNOWN"
}

// MarshalText writes the name of the request type.
func (c StorageRequestConstant) MarshalText() ([]byte, error) {
	return []byte(c.String()), nil
}

// MarshalJSON writes the name of the request type as a JSON string.
func (c StorageRequestConstant) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.String())
}

// StorageRequest is sent on the storage channel by every subsystem that records or
// reads offsets. Which fields are used depends on RequestType.
type StorageRequest struct {
	// RequestType says what the request does.
	RequestType StorageRequestConstant

	// Reply receives the answer of a fetch: at most one value, then it is closed.
	// Set and clear requests leave it nil.
	Reply chan interface{}

	// Cluster is the name of the cluster, as configured (lower case).
	Cluster string

	// Group is the consumer group.
	Group string

	// Topic is the topic.
	Topic string

	// Partition is the partition id within Topic.
	Partition int32

	// TopicPartitionCount is the number of partitions of Topic, as the broker
	// reported it with a broker offset.
	TopicPartitionCount int32

	// Offset is a broker (log-end) offset or a committed offset.
	Offset int64

	// Order is the position of a commit in the offsets log, used to order commits
	// that arrive out of order.
	Order int64

	// Timestamp is the time of the offset, in Unix milliseconds.
	Timestamp int64

	// Owner is the host that owns the partition.
	Owner string

	// ClientID is the client id of the consumer that owns the partition.
	ClientID string
}

// ConsumerTopics is the reply to StorageFetchConsumer: the group's partitions by
// topic name.
type ConsumerTopics map[string]ConsumerPartitions

// ConsumerPartitions holds a topic's partitions, indexed by partition id.
type ConsumerPartitions []*ConsumerPartition

// ConsumerPartition is what storage holds about one partition of a group.
type ConsumerPartition struct {
	// Offsets is the window of the last commits, oldest first, with nil for slots
	// never filled (they come first). It has exactly `intervals` elements, or none
	// when the partition was never committed to nor given an owner.
	Offsets []*ConsumerOffset `json:"offsets"`

	// BrokerOffsets is the partition's broker offset history, oldest first.
	BrokerOffsets []int64 `json:"-"`

	// Owner is the host that owns the partition, if known.
	Owner string `json:"owner"`

	// ClientID is the client id of the owner, if known.
	ClientID string `json:"client_id"`

	// CurrentLag is the newest broker offset minus the newest committed offset,
	// floored at 0; 0 when either is missing.
	CurrentLag uint64 `json:"current-lag"`
}

// ConsumerOffset is one commit of a group on a partition.
type ConsumerOffset struct {
	// Offset is the committed offset.
	Offset int64 `json:"offset"`

	// Order is the position of the commit in the offsets log.
	Order int64 `json:"-"`

	// Timestamp is the time of the commit, in Unix milliseconds.
	Timestamp int64 `json:"timestamp"`

	// ObservedTimestamp is when storage recorded the commit, in Unix milliseconds
	// of a whole second (the original's time.Now().Unix()*1000).
	ObservedTimestamp int64 `json:"observedAt"`

	// Lag is the broker offset minus Offset when the commit was appended, or nil
	// when it is unknown (a commit that arrived late and was inserted).
	Lag *Lag `json:"lag"`
}

// Lag is a lag in messages. It marshals to and from a bare JSON number.
type Lag struct {
	Value uint64
}

// MarshalJSON writes the lag as a bare number.
func (lag Lag) MarshalJSON() ([]byte, error) {
	return strconv.AppendUint(nil, lag.Value, 10), nil
}

// UnmarshalJSON reads the lag from a bare number.
func (lag *Lag) UnmarshalJSON(b []byte) error {
	return json.Unmarshal(b, &lag.Value)
}
