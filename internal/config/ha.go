package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// HA is Warren's [ha] section: several Warren processes elect, on a Kafka
// consumer group, the one that evaluates for the notifier and sends
// notifications, and hand its incidents over through a compacted state topic
// (docs/architecture.md, "Several instances"). Without the section Enabled is
// false and Warren runs alone, as before.
type HA struct {
	Enabled bool
	// Cluster names the [cluster.NAME] whose brokers and client profile
	// coordinate; Servers and Profile are that cluster's.
	Cluster string
	Servers []string
	Profile *ClientProfile
	// GroupID is the consumer group the instances join (key group-id); it
	// also tells the records of two sets of instances sharing a state topic
	// apart.
	GroupID string
	// CoordinationTopic is the one-partition topic whose only partition the
	// leader is assigned (key coordination-topic); StateTopic is the
	// compacted topic of the leader's incidents (key state-topic).
	CoordinationTopic string
	StateTopic        string
	// CreateTopics creates both topics when missing (key create-topics);
	// ReplicationFactor is theirs then (key replication-factor, -1 for the
	// brokers' default).
	CreateTopics      bool
	ReplicationFactor int
	// SessionTimeout, HeartbeatInterval and RebalanceTimeout are the group's
	// (keys session-timeout, heartbeat-interval, rebalance-timeout, in
	// seconds, fractions allowed). A leader killed is replaced within about
	// SessionTimeout plus HeartbeatInterval; a leader cut off from the
	// cluster stops sending within SessionTimeout of its last heartbeat.
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
}

// DefaultHA returns [ha] with every default and Enabled false: group and
// coordination topic warren-ha, state topic warren-ha-state, topics created
// with the brokers' replication factor, session timeout 10 s, heartbeats
// every 3 s, rebalance timeout 10 s.
func DefaultHA() HA {
	return HA{GroupID: "warren-ha", CoordinationTopic: "warren-ha", StateTopic: "warren-ha-state",
		CreateTopics: true, ReplicationFactor: -1,
		SessionTimeout: 10 * time.Second, HeartbeatInterval: 3 * time.Second, RebalanceTimeout: 10 * time.Second}
}

// Validate checks the section, one line per error naming its key.
func (h *HA) Validate() error {
	if !h.Enabled {
		return nil
	}
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("ha.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if h.Cluster == "" {
		fail("cluster", "required: the name of the [cluster.NAME] table whose Kafka coordinates the instances")
	} else if len(h.Servers) == 0 {
		fail("cluster", "no configured cluster is named %q", h.Cluster)
	}
	if h.GroupID == "" {
		fail("group-id", "must not be empty")
	}
	if h.CoordinationTopic == "" {
		fail("coordination-topic", "must not be empty")
	}
	if h.StateTopic == "" {
		fail("state-topic", "must not be empty")
	} else if h.StateTopic == h.CoordinationTopic {
		fail("state-topic", "must differ from coordination-topic")
	}
	if h.ReplicationFactor == 0 || h.ReplicationFactor < -1 {
		fail("replication-factor", "must be -1 (the brokers' default) or at least 1, got %d", h.ReplicationFactor)
	}
	if h.SessionTimeout <= 0 {
		fail("session-timeout", "must be positive")
	}
	if h.HeartbeatInterval <= 0 || h.HeartbeatInterval >= h.SessionTimeout {
		fail("heartbeat-interval", "must be positive and less than session-timeout")
	}
	if h.RebalanceTimeout <= 0 {
		fail("rebalance-timeout", "must be positive")
	}
	return errors.Join(errs...)
}

// ha reads [ha] when it is present; clusters are the clusters Warren runs.
func (p *parser) ha(clusters []Cluster) HA {
	h := DefaultHA()
	if !p.v.IsSet("ha") {
		return h
	}
	h.Enabled = true
	h.Cluster = strings.ToLower(p.str("ha.cluster", ""))
	for _, c := range clusters {
		if c.Name == h.Cluster {
			h.Servers, h.Profile = c.Servers, c.Profile
		}
	}
	h.GroupID = p.str("ha.group-id", h.GroupID)
	h.CoordinationTopic = p.str("ha.coordination-topic", h.CoordinationTopic)
	h.StateTopic = p.str("ha.state-topic", h.StateTopic)
	h.CreateTopics = p.boolean("ha.create-topics", h.CreateTopics)
	h.ReplicationFactor = p.integer("ha.replication-factor", h.ReplicationFactor)
	h.SessionTimeout = p.duration("ha.session-timeout", h.SessionTimeout)
	h.HeartbeatInterval = p.duration("ha.heartbeat-interval", h.HeartbeatInterval)
	h.RebalanceTimeout = p.duration("ha.rebalance-timeout", h.RebalanceTimeout)
	if err := h.Validate(); err != nil {
		p.errs = append(p.errs, err)
	}
	return h
}

// duration reads a number of seconds, fractions allowed.
func (p *parser) duration(key string, def time.Duration) time.Duration {
	f := p.number(key, def.Seconds())
	if f > 24*3600 || f < 0 {
		p.fail(key, "%v seconds is out of range", f)
		return def
	}
	return time.Duration(f * float64(time.Second))
}
