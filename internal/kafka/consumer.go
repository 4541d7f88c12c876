package kafka

import (
	"errors"
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
// offsets topic), and how long the last round took.
type Stats struct {
	Errors    uint64
	Rounds    uint64
	LastRound time.Duration
	// Skips counts the records of the offsets topic skipped, by reason; nil
	// for modules that read no offsets topic.
	Skips map[string]uint64
}

// NewConsumer returns the consumer module that cfg.OffsetsSource asks for: the
// offsets topic, the admin API (polled every poll), or, with "auto", the topic
// when it can be read and the admin API otherwise. opts set how the module
// recovers when the topic cannot be read.
func NewConsumer(cfg config.Consumer, poll time.Duration, storage chan *protocol.StorageRequest, log *zap.Logger, opts ...Opt) (Module, error) {
	switch cfg.OffsetsSource {
	case config.SourceTopic:
		return NewTopicSource(cfg, storage, log, opts...)
	case config.SourceAdmin:
		return NewAdminSource(cfg, poll, storage, log)
	}
	topic, err := NewTopicSource(cfg, storage, log, opts...)
	if err != nil {
		return nil, err
	}
	admin, err := NewAdminSource(cfg, poll, storage, log)
	if err != nil {
		return nil, err
	}
	return &autoSource{topic: topic, admin: admin, log: log}, nil
}

// autoSource reads the offsets topic when it can, and the admin API otherwise.
type autoSource struct {
	topic  *TopicSource
	admin  *AdminSource
	active Module
	log    *zap.Logger
}

func (a *autoSource) Start() error {
	err := a.topic.Start()
	if err == nil {
		a.active = a.topic
		return nil
	}
	if !errors.Is(err, ErrNoOffsetsTopic) {
		return err
	}
	a.log.Info("the offsets topic cannot be read; reading committed offsets through the admin API instead", zap.Error(err))
	if err := a.admin.Start(); err != nil {
		return err
	}
	a.active = a.admin
	return nil
}

func (a *autoSource) Stats() Stats {
	if a.active == nil {
		return Stats{}
	}
	st := a.active.Stats()
	st.Skips = a.topic.Skips()
	return st
}

func (a *autoSource) Stop() {
	if a.active != nil {
		a.active.Stop()
	}
}
