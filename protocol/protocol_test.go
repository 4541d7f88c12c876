package protocol

import (
	"encoding/json"
	"testing"
)

func TestStorageRequestConstant(t *testing.T) {
	tests := []struct {
		c    StorageRequestConstant
		name string
	}{
		{0, "StorageSetBrokerOffset"}, {1, "StorageSetConsumerOffset"}, {2, "StorageSetConsumerOwner"},
		{3, "StorageSetDeleteTopic"}, {4, "StorageSetDeleteGroup"}, {5, "StorageFetchClusters"},
		{6, "StorageFetchConsumers"}, {7, "StorageFetchTopics"}, {8, "StorageFetchConsumer"},
		{9, "StorageFetchTopic"}, {10, "StorageClearConsumerOwners"}, {11, "StorageFetchConsumersForTopic"},
		{12, "StorageSetConsumerRepeat"}, {13, "UNKNOWN"}, {-1, "UNKNOWN"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", tt.c, got, tt.name)
		}
		text, _ := tt.c.MarshalText()
		js, _ := json.Marshal(tt.c)
		if string(text) != tt.name || string(js) != `"`+tt.name+`"` {
			t.Errorf("%d marshals to %s and %s", tt.c, text, js)
		}
	}
	if StorageFetchConsumersForTopic != 11 || StorageClearConsumerOwners != 10 || StorageSetConsumerRepeat != 12 {
		t.Error("request numbers moved")
	}
}

func TestStatusConstant(t *testing.T) {
	for c, name := range map[StatusConstant]string{0: "NOTFOUND", 1: "OK", 2: "WARN", 3: "ERR", 4: "STOP",
		5: "STALL", 6: "REWIND", 7: "UNKNOWN", -1: "UNKNOWN"} {
		js, _ := json.Marshal(c)
		if c.String() != name || string(js) != `"`+name+`"` {
			t.Errorf("%d: %q %s", c, c.String(), js)
		}
	}
}

func TestConsumerJSON(t *testing.T) {
	p := ConsumerPartition{
		Offsets: []*ConsumerOffset{nil,
			{Offset: 10, Order: 3, Timestamp: 1000, ObservedTimestamp: 1001, Lag: &Lag{Value: 5}},
			{Offset: 11, Order: 4, Timestamp: 2000, ObservedTimestamp: 2001}},
		BrokerOffsets: []int64{20},
		Owner:         "host",
		ClientID:      "client",
		CurrentLag:    9,
	}
	js, err := json.Marshal(ConsumerTopics{"t": {&p}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"t":[{"offsets":[null,{"offset":10,"timestamp":1000,"observedAt":1001,"lag":5},` +
		`{"offset":11,"timestamp":2000,"observedAt":2001,"lag":null}],"owner":"host","client_id":"client","current-lag":9}]}`
	if string(js) != want {
		t.Errorf("got  %s\nwant %s", js, want)
	}
	var back ConsumerTopics
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if o := back["t"][0].Offsets[1]; o.Lag == nil || o.Lag.Value != 5 || back["t"][0].Offsets[2].Lag != nil {
		t.Errorf("round trip: %+v", back["t"][0].Offsets)
	}
	var lag Lag
	if err := json.Unmarshal([]byte(`"x"`), &lag); err == nil {
		t.Error("a string unmarshalled into a Lag")
	}
}

func TestApplicationContextDefaults(t *testing.T) {
	var nilApp *ApplicationContext
	if nilApp.Config() == nil || (&ApplicationContext{}).Config() == nil {
		t.Error("no viper instance")
	}
	if nilApp.Now().IsZero() {
		t.Error("no clock")
	}
}

func TestStatusUnmarshal(t *testing.T) {
	var st ConsumerGroupStatus
	if err := json.Unmarshal([]byte(`{"status":"STALL"}`), &st); err != nil || st.Status != StatusStall {
		t.Errorf("%v %v", st.Status, err)
	}
	if err := json.Unmarshal([]byte(`{"status":"BAD"}`), &st); err == nil {
		t.Error("unknown status accepted")
	}
}

// TestWindowsReuse: a released reply comes back empty, holding no names, and a
// giant one is not kept.
func TestWindowsReuse(t *testing.T) {
	w := NewConsumerWindows()
	w.Intervals = 10
	w.Topics = append(w.Topics, WindowTopic{Name: "t", Partitions: 1})
	w.Partitions = append(w.Partitions, WindowPartition{CommitsTo: 1, BrokerTo: 1, Owner: 1, CurrentLag: 3})
	w.Commits = append(w.Commits, WindowCommit{Offset: 5})
	w.Broker = append(w.Broker, BrokerReading{Offset: 8})
	w.Owners = append(w.Owners, PartitionOwner{Host: "h"})
	if got := w.Window(&w.Partitions[0]); len(got) != 1 || got[0].Offset != 5 {
		t.Errorf("window %v", got)
	}
	if got := w.History(&w.Partitions[0]); len(got) != 1 || got[0].Offset != 8 {
		t.Errorf("history %v", got)
	}
	if o := w.Owner(&w.Partitions[0]); o.Host != "h" {
		t.Errorf("owner %v", o)
	}
	if o := w.Owner(&WindowPartition{Owner: 2}); o != (PartitionOwner{}) {
		t.Errorf("owner out of range %v", o)
	}
	for _, bad := range []WindowPartition{{CommitsTo: 2, BrokerTo: 2}, {CommitsFrom: -1, BrokerFrom: -1}, {CommitsFrom: 1, BrokerFrom: 1}} {
		if got, h := w.Window(&bad), w.History(&bad); got != nil || h != nil {
			t.Errorf("ranges out of bounds %+v: %v %v", bad, got, h)
		}
	}
	topics := w.Topics
	w.Release()
	if w.Intervals != 0 || len(w.Topics)+len(w.Partitions)+len(w.Commits)+len(w.Broker)+len(w.Owners) != 0 {
		t.Errorf("released reply not empty: %+v", w)
	}
	if topics[:1][0].Name != "" || w.Owners[:1][0].Host != "" {
		t.Error("a released reply still holds names")
	}
	(*ConsumerWindows)(nil).Release() // no panic

	big := &ConsumerWindows{Commits: make([]WindowCommit, 0, maxPooledCommits+1)}
	big.Release()
	if cap(big.Commits) != maxPooledCommits+1 {
		t.Error("a giant reply was emptied for reuse")
	}
}
