package protocol

import "sync"

// WindowsForm is a Warren addition. Set as the Topic of a StorageFetchConsumer
// (a field that request does not otherwise use), it asks for the reply in a
// compact form: a *ConsumerWindows, with the same facts as the usual
// ConsumerTopics plus when each broker offset was read. The evaluator asks
// Warren's storage this way: the flat reply costs a fraction of a
// ConsumerTopics to build, and it gives the broker timestamps that lag in time
// is estimated from. No Kafka topic name can hold it. A storage that does not
// know it ignores the Topic and answers the usual ConsumerTopics, which the
// evaluator reads as well; an unknown cluster or group gets no value either
// way.
const WindowsForm = "\x00windows"

// ConsumerWindows is the reply to a StorageFetchConsumer in WindowsForm: what storage holds
// about a group, in a few flat arrays without pointers (apart from names), so
// that it is built and collected cheaply. It is the caller's own: storage keeps
// no reference to it.
//
// Partitions lists the partitions of Topics[0] in id order, then those of
// Topics[1], and so on; each partition names its commits and broker readings
// as ranges of Commits and Broker.
type ConsumerWindows struct {
	// Intervals is storage's window size: a partition's Complete is the number of
	// its commits divided by it.
	Intervals int
	// Topics are the group's topics, sorted by name.
	Topics []WindowTopic
	// Partitions holds every partition of every topic, topic after topic.
	Partitions []WindowPartition
	// Commits holds every partition's window, oldest commit first.
	Commits []WindowCommit
	// Broker holds every partition's broker offset history, oldest first.
	Broker []BrokerReading
	// Owners holds the distinct owners; WindowPartition.Owner indexes it.
	Owners []PartitionOwner
}

// windowsPool holds released replies, so that their arrays, a few hundred
// kilobytes for a large group, are reused rather than allocated, zeroed and
// faulted in for every evaluation.
var windowsPool sync.Pool

// maxPooledCommits bounds the replies kept for reuse: the arrays of a giant
// group are left to the garbage collector.
const maxPooledCommits = 1 << 18

// NewConsumerWindows returns an empty ConsumerWindows for storage to fill, with
// the arrays of a released one when there is one.
func NewConsumerWindows() *ConsumerWindows {
	if w, ok := windowsPool.Get().(*ConsumerWindows); ok {
		return w
	}
	return &ConsumerWindows{}
}

// Release hands w back for reuse by a later fetch. Nothing of w may be used
// afterwards: not w, nor any slice of it. Calling it is optional; a reply that
// is not released is collected as usual.
func (w *ConsumerWindows) Release() {
	if w == nil || cap(w.Commits) > maxPooledCommits || cap(w.Broker) > maxPooledCommits ||
		cap(w.Partitions) > maxPooledCommits || cap(w.Topics) > maxPooledCommits || cap(w.Owners) > maxPooledCommits {
		return
	}
	clear(w.Topics[:cap(w.Topics)]) // let go of names
	clear(w.Owners[:cap(w.Owners)])
	*w = ConsumerWindows{Topics: w.Topics[:0], Partitions: w.Partitions[:0], Commits: w.Commits[:0],
		Broker: w.Broker[:0], Owners: w.Owners[:0]}
	windowsPool.Put(w)
}

// WindowTopic is one topic of a ConsumerWindows.
type WindowTopic struct {
	// Name is the topic's name.
	Name string
	// Partitions is how many partitions the topic has in the group.
	Partitions int
}

// WindowPartition is one partition of a ConsumerWindows. Its commits are
// Commits[CommitsFrom:CommitsTo] and its broker readings
// Broker[BrokerFrom:BrokerTo].
type WindowPartition struct {
	// CurrentLag is as in ConsumerPartition.
	CurrentLag uint64
	// CommitsFrom and CommitsTo delimit the window in Commits; equal when the
	// partition has no commit.
	CommitsFrom, CommitsTo int32
	// BrokerFrom and BrokerTo delimit the broker offset history in Broker.
	BrokerFrom, BrokerTo int32
	// Owner is the index of the partition's owner in Owners plus one, or 0 when
	// it has none.
	Owner int32
}

// WindowCommit is one commit of a window, the same facts as a ConsumerOffset.
type WindowCommit struct {
	Offset            int64
	Order             int64
	Timestamp         int64
	ObservedTimestamp int64
	// Lag is the commit's lag, meaningful only when LagKnown (a ConsumerOffset's
	// Lag is nil otherwise).
	Lag      uint64
	LagKnown bool
}

// BrokerReading is one broker (log-end) offset and when it was read, in Unix
// milliseconds.
type BrokerReading struct {
	Offset    int64
	Timestamp int64
}

// PartitionOwner is the owner of a partition: its host and client id.
type PartitionOwner struct {
	Host     string
	ClientID string
}

// Window returns the commits of p, oldest first; none when its range does not
// lie within Commits.
func (w *ConsumerWindows) Window(p *WindowPartition) []WindowCommit {
	if p.CommitsFrom < 0 || p.CommitsFrom > p.CommitsTo || int(p.CommitsTo) > len(w.Commits) {
		return nil
	}
	return w.Commits[p.CommitsFrom:p.CommitsTo:p.CommitsTo]
}

// History returns the broker readings of p, oldest first; none when its range
// does not lie within Broker.
func (w *ConsumerWindows) History(p *WindowPartition) []BrokerReading {
	if p.BrokerFrom < 0 || p.BrokerFrom > p.BrokerTo || int(p.BrokerTo) > len(w.Broker) {
		return nil
	}
	return w.Broker[p.BrokerFrom:p.BrokerTo:p.BrokerTo]
}

// Owner returns the owner of p, or the zero PartitionOwner.
func (w *ConsumerWindows) Owner(p *WindowPartition) PartitionOwner {
	if p.Owner <= 0 || int(p.Owner) > len(w.Owners) {
		return PartitionOwner{}
	}
	return w.Owners[p.Owner-1]
}
