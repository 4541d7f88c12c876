package offsets

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/warrenlag/warren/protocol"
)

// The reasons a request is dropped. A drop is not a failure of the store: each is
// counted (see Store.Drops) and logged, at debug level for what happens in normal
// operation and as a throttled warning for malformed input.
var (
	ErrUnknownCluster    = errors.New("unknown cluster")
	ErrExpired           = errors.New("commit older than expire-group")
	ErrGroupRejected     = errors.New("group not accepted by the allow/deny lists")
	ErrNoTopic           = errors.New("topic has no broker offsets")
	ErrNegativePartition = errors.New("negative partition")
	ErrNoPartition       = errors.New("partition not below the topic's partition count")
	ErrBrokerPartition   = errors.New("broker offset for a partition not below the topic's partition count")
	ErrNoBrokerOffset    = errors.New("partition has no broker offset yet")
	ErrPartitionCount    = errors.New("partition count above max-partitions")
	ErrTooOld            = errors.New("commit older than every commit of a full window")
	ErrDuplicate         = errors.New("commit with an Order already stored")
	ErrUnknownRequest    = errors.New("unknown request type")
	ErrNilRequest        = errors.New("nil request")
	ErrNoReply           = errors.New("fetch without a Reply channel")
	ErrReplyFailed       = errors.New("reply channel closed by its owner")
	ErrReplyAbandoned    = errors.New("reply not read in time")
	ErrStopped           = errors.New("store stopped")
)

type reason uint8

const (
	accepted reason = iota
	unknownCluster
	expired
	groupRejected
	noTopic
	negativePartition
	noPartition
	brokerPartition
	noBrokerOffset
	partitionCount
	tooOld
	duplicate
	unknownRequest
	nilRequest
	noReply
	replyFailed
	replyAbandoned
	stopped
	numReasons
)

var reasons = [numReasons]struct {
	err   error
	label string
	level zapcore.Level
}{
	unknownCluster:    {ErrUnknownCluster, "unknown_cluster", zap.WarnLevel},
	expired:           {ErrExpired, "expired", zap.DebugLevel},
	groupRejected:     {ErrGroupRejected, "group_rejected", zap.DebugLevel},
	noTopic:           {ErrNoTopic, "no_topic", zap.DebugLevel},
	negativePartition: {ErrNegativePartition, "negative_partition", zap.WarnLevel},
	noPartition:       {ErrNoPartition, "no_partition", zap.DebugLevel},
	brokerPartition:   {ErrBrokerPartition, "broker_partition_out_of_range", zap.WarnLevel},
	noBrokerOffset:    {ErrNoBrokerOffset, "no_broker_offset", zap.DebugLevel},
	partitionCount:    {ErrPartitionCount, "partition_count", zap.WarnLevel},
	tooOld:            {ErrTooOld, "too_old", zap.DebugLevel},
	duplicate:         {ErrDuplicate, "duplicate", zap.DebugLevel},
	unknownRequest:    {ErrUnknownRequest, "unknown_request", zap.ErrorLevel},
	nilRequest:        {ErrNilRequest, "nil_request", zap.WarnLevel},
	noReply:           {ErrNoReply, "no_reply", zap.WarnLevel},
	replyFailed:       {ErrReplyFailed, "reply_failed", zap.WarnLevel},
	replyAbandoned:    {ErrReplyAbandoned, "reply_abandoned", zap.WarnLevel},
	stopped:           {ErrStopped, "stopped", zap.WarnLevel},
}

// warnEvery is the period of throttled warnings: one line per reason and period,
// which reports how many were left out before it.
const warnEvery = 10 * time.Second

// drops counts dropped requests per reason and writes their log lines.
type drops struct {
	log    *zap.Logger
	counts [numReasons]atomic.Uint64

	mu         sync.Mutex
	next       [numReasons]time.Time
	suppressed [numReasons]uint64
}

// add counts a drop of r for reason why and logs it. r may be nil.
func (d *drops) add(why reason, r *protocol.StorageRequest) {
	d.counts[why].Add(1)
	info := &reasons[why]
	if info.level < zap.WarnLevel {
		if ce := d.log.Check(info.level, "dropped"); ce != nil {
			ce.Write(append(requestFields(r), zap.String("reason", info.label))...)
		}
		return
	}
	now := time.Now()
	d.mu.Lock()
	if now.Before(d.next[why]) {
		d.suppressed[why]++
		d.mu.Unlock()
		return
	}
	left := d.suppressed[why]
	d.suppressed[why] = 0
	d.next[why] = now.Add(warnEvery)
	d.mu.Unlock()
	if ce := d.log.Check(info.level, "dropped: "+info.err.Error()); ce != nil {
		fields := append(requestFields(r), zap.String("reason", info.label))
		if left > 0 {
			fields = append(fields, zap.Uint64("suppressed", left))
		}
		ce.Write(fields...)
	}
}

// snapshot returns the counts by reason label, leaving out reasons never counted.
func (d *drops) snapshot() map[string]uint64 {
	out := make(map[string]uint64)
	for i := range d.counts {
		if n := d.counts[i].Load(); n > 0 {
			out[reasons[i].label] = n
		}
	}
	return out
}

// requestFields describes a request in a log line.
func requestFields(r *protocol.StorageRequest) []zap.Field {
	if r == nil {
		return nil
	}
	return []zap.Field{
		zap.Stringer("request", r.RequestType),
		zap.String("cluster", r.Cluster),
		zap.String("consumer", r.Group),
		zap.String("topic", r.Topic),
		zap.Int32("partition", r.Partition),
		zap.Int32("topic_partition_count", r.TopicPartitionCount),
		zap.Int64("offset", r.Offset),
		zap.Int64("order", r.Order),
		zap.Int64("timestamp", r.Timestamp),
	}
}
