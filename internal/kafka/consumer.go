package kafka

import (
	"time"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// Module is a started-and-stopped part of the Kafka side.
type Module interface {
	Start() error
	Stop()
	// Stats returns the module's counts, for metrics.
	Stats() Stats
}

// Stats are a Kafka module's counts: failed Kafka requests, rounds done (offset
// rounds of a cluster module, polls of an admin source, records read from the
// offsets topic; for offsets-source auto, the sum of both sources'), and how
// long the last round took.
type Stats struct {
	Errors    uint64
	Rounds    uint64
	LastRound time.Duration
	// Skips counts the records of the offsets topic skipped, by reason; nil
	// for modules that read no offsets topic.
	Skips map[string]uint64
	// Source is where a consumer module reads committed offsets now,
	// config.SourceTopic or config.SourceAdmin; empty for a cluster module.
	Source string
	// Switches counts the switches of offsets-source auto between the two.
	Switches uint64
}

// NewConsumer returns the consumer module that cfg.OffsetsSource asks for: the
// offsets topic, the admin API (polled every poll), or, with "auto", the topic
// while it can be read and the admin API otherwise. opts set how the module
// recovers when the topic cannot be read.
func NewConsumer(cfg config.Consumer, poll time.Duration, storage chan *protocol.StorageRequest, log *zap.Logger, opts ...Opt) (Module, error) {
	switch cfg.OffsetsSource {
	case config.SourceTopic:
		return NewTopicSource(cfg, storage, log, opts...)
	case config.SourceAdmin:
		return NewAdminSource(cfg, poll, storage, log)
	}
	return newAutoSource(cfg, poll, storage, log, opts)
}
