package config

import (
	"strings"
	"testing"
	"time"
)

// TestHA reads [ha]: absent (off), with the defaults, with every key set, and
// with errors, one line per key.
func TestHA(t *testing.T) {
	const cluster = "[cluster.Coord]\nclass-name = \"kafka\"\nservers = [\"k1:9092\"]\nclient-profile = \"p\"\n" +
		"[client-profile.p]\nclient-id = \"warren-ha\"\n"
	for _, tc := range []struct {
		name, conf string
		want       func(HA) bool
		errs       []string
	}{
		{"absent", cluster, func(h HA) bool { return !h.Enabled }, nil},
		{"defaults", cluster + "[ha]\ncluster = \"coord\"\n", func(h HA) bool {
			d := DefaultHA()
			return h.Enabled && h.Cluster == "coord" && h.Servers[0] == "k1:9092" && h.Profile.ClientID == "warren-ha" &&
				h.GroupID == d.GroupID && h.StateTopic == d.StateTopic && h.SessionTimeout == 10*time.Second &&
				h.HeartbeatInterval == 3*time.Second && h.CreateTopics && h.ReplicationFactor == -1
		}, nil},
		{"set", cluster + "[ha]\ncluster = \"coord\"\ngroup-id = \"g\"\ncoordination-topic = \"c\"\nstate-topic = \"s\"\n" +
			"create-topics = false\nreplication-factor = 3\nsession-timeout = 6\nheartbeat-interval = 0.5\nrebalance-timeout = 4\n",
			func(h HA) bool {
				return h.GroupID == "g" && h.CoordinationTopic == "c" && h.StateTopic == "s" && !h.CreateTopics &&
					h.ReplicationFactor == 3 && h.SessionTimeout == 6*time.Second &&
					h.HeartbeatInterval == 500*time.Millisecond && h.RebalanceTimeout == 4*time.Second
			}, nil},
		{"errors", cluster + "[ha]\ncluster = \"nope\"\ngroup-id = \"\"\nstate-topic = \"warren-ha\"\nreplication-factor = 0\n" +
			"session-timeout = 2\nheartbeat-interval = 3\nrebalance-timeout = -1\nwhat = 1\n", nil,
			[]string{`ha.cluster: no configured cluster is named "nope"`, "ha.group-id: must not be empty",
				"ha.state-topic: must differ from coordination-topic", "ha.replication-factor: must be -1",
				"ha.heartbeat-interval: must be positive and less than session-timeout",
				"ha.rebalance-timeout: -1 seconds is out of range"}},
		{"no cluster", "[ha]\ngroup-id = \"g\"\n", nil, []string{"ha.cluster: required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Read(write(t, t.TempDir(), "burrow.toml", tc.conf))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(v)
			if tc.errs == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !tc.want(c.HA) {
					t.Errorf("got %+v", c.HA)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("missing %q in\n%v", want, err)
				}
			}
		})
	}
}
