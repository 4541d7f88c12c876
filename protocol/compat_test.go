package protocol_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/apilist"
	"github.com/warrenlag/warren/protocol"
)

// The exported differences from Burrow's core/protocol that
// docs/compatibility.md lists; testdata/burrow.api holds Burrow's side.
var (
	// burrowOnly: Burrow's ZooKeeper declarations.
	burrowOnly = []string{
		"field ApplicationContext.Zookeeper ZookeeperClient",
		"field ApplicationContext.ZookeeperConnected bool",
		"field ApplicationContext.ZookeeperExpired *sync.Cond",
		"field ApplicationContext.ZookeeperRoot string",
		"imethod ZookeeperClient.ChildrenW(string) ([]string, *zk.Stat, <-chan zk.Event, error)",
		"imethod ZookeeperClient.Close()",
		"imethod ZookeeperClient.Create(string, []byte, int32, []zk.ACL) (string, error)",
		"imethod ZookeeperClient.Exists(string) (bool, *zk.Stat, error)",
		"imethod ZookeeperClient.ExistsW(string) (bool, *zk.Stat, <-chan zk.Event, error)",
		"imethod ZookeeperClient.GetW(string) ([]byte, *zk.Stat, <-chan zk.Event, error)",
		"imethod ZookeeperClient.NewLock(string) ZookeeperLock",
		"imethod ZookeeperLock.Lock() error",
		"imethod ZookeeperLock.Unlock() error",
		"type ZookeeperClient interface",
		"type ZookeeperLock interface",
	}
	// warrenOnly: Warren's additions.
	warrenOnly = []string{
		"const StorageSetConsumerRepeat StorageRequestConstant",
		"const WindowsForm",
		"field ApplicationContext.Clock func() time.Time",
		"field ApplicationContext.Viper *viper.Viper",
		"field BrokerReading.Offset int64",
		"field BrokerReading.Timestamp int64",
		"field ConsumerWindows.Broker []BrokerReading",
		"field ConsumerWindows.Commits []WindowCommit",
		"field ConsumerWindows.Intervals int",
		"field ConsumerWindows.Owners []PartitionOwner",
		"field ConsumerWindows.Partitions []WindowPartition",
		"field ConsumerWindows.Topics []WindowTopic",
		"field PartitionOwner.ClientID string",
		"field PartitionOwner.Host string",
		"field PartitionStatus.LagEstimated bool `json:\"lag_estimated,omitempty\"`",
		"field PartitionStatus.LagSeconds *float64 `json:\"lag_seconds,omitempty\"`",
		"field PartitionStatus.Why string `json:\"why,omitempty\"`",
		"field WindowCommit.Lag uint64",
		"field WindowCommit.LagKnown bool",
		"field WindowCommit.ObservedTimestamp int64",
		"field WindowCommit.Offset int64",
		"field WindowCommit.Order int64",
		"field WindowCommit.Timestamp int64",
		"field WindowPartition.BrokerFrom int32",
		"field WindowPartition.BrokerTo int32",
		"field WindowPartition.CommitsFrom int32",
		"field WindowPartition.CommitsTo int32",
		"field WindowPartition.CurrentLag uint64",
		"field WindowPartition.Owner int32",
		"field WindowTopic.Name string",
		"field WindowTopic.Partitions int",
		"func NewConsumerWindows() *ConsumerWindows",
		"method (*ApplicationContext).Config() *viper.Viper",
		"method (*ApplicationContext).Now() time.Time",
		"method (*ConsumerWindows).History(*WindowPartition) []BrokerReading",
		"method (*ConsumerWindows).Owner(*WindowPartition) PartitionOwner",
		"method (*ConsumerWindows).Release()",
		"method (*ConsumerWindows).Window(*WindowPartition) []WindowCommit",
		"method (*StatusConstant).UnmarshalJSON([]byte) error",
		"method (*StatusConstant).UnmarshalText([]byte) error",
		"type BrokerReading struct",
		"type ConsumerWindows struct",
		"type PartitionOwner struct",
		"type WindowCommit struct",
		"type WindowPartition struct",
		"type WindowTopic struct",
	}
)

func TestBurrowAPI(t *testing.T) {
	apilist.Check(t, "protocol", burrowOnly, warrenOnly)
}

// TestApplicationContextAgainstBurrow pins, by the real types rather than their
// spelling, the fields of ApplicationContext that Burrow's code outside
// ZooKeeper uses; that the ZooKeeper fields are absent; and that the struct is
// not comparable (docs/compatibility.md, exception 3).
func TestApplicationContextAgainstBurrow(t *testing.T) {
	app := reflect.TypeFor[protocol.ApplicationContext]()
	for name, want := range map[string]reflect.Type{
		"Logger":             reflect.TypeFor[*zap.Logger](),
		"LogLevel":           reflect.TypeFor[*zap.AtomicLevel](),
		"ConfigurationValid": reflect.TypeFor[bool](),
		"EvaluatorChannel":   reflect.TypeFor[chan *protocol.EvaluatorRequest](),
		"StorageChannel":     reflect.TypeFor[chan *protocol.StorageRequest](),
		"AppReady":           reflect.TypeFor[bool](),
	} {
		if f, ok := app.FieldByName(name); !ok || f.Type != want {
			t.Errorf("ApplicationContext.%s: got %v (present %v), want %v", name, f.Type, ok, want)
		}
	}
	for _, name := range []string{"Zookeeper", "ZookeeperRoot", "ZookeeperConnected", "ZookeeperExpired"} {
		if _, ok := app.FieldByName(name); ok {
			t.Errorf("ApplicationContext.%s exists: update docs/compatibility.md", name)
		}
	}
	if app.Comparable() {
		t.Error("ApplicationContext is comparable: update docs/compatibility.md")
	}
}

// TestFieldOrderAgainstBurrow pins the order of the fields that the shared
// structs have in Burrow, which unkeyed literals depend on. Only
// ApplicationContext differs (docs/compatibility.md, exception 2); PartitionStatus
// has Burrow's fields first.
func TestFieldOrderAgainstBurrow(t *testing.T) {
	tests := []struct {
		typ    reflect.Type
		burrow []string
		extra  int // Warren's fields after Burrow's
	}{
		{reflect.TypeFor[protocol.EvaluatorRequest](), []string{"Reply", "Cluster", "Group", "ShowAll"}, 0},
		{reflect.TypeFor[protocol.PartitionStatus](), []string{"Topic", "Partition", "Owner", "ClientID", "Status",
			"Start", "End", "CurrentLag", "Complete"}, 3},
		{reflect.TypeFor[protocol.ConsumerGroupStatus](), []string{"Cluster", "Group", "Status", "Complete",
			"Partitions", "TotalPartitions", "Maxlag", "TotalLag"}, 0},
		{reflect.TypeFor[protocol.StorageRequest](), []string{"RequestType", "Reply", "Cluster", "Group", "Topic",
			"Partition", "TopicPartitionCount", "Offset", "Order", "Timestamp", "Owner", "ClientID"}, 0},
		{reflect.TypeFor[protocol.ConsumerPartition](), []string{"Offsets", "BrokerOffsets", "Owner", "ClientID",
			"CurrentLag"}, 0},
		{reflect.TypeFor[protocol.Lag](), []string{"Value"}, 0},
		{reflect.TypeFor[protocol.ConsumerOffset](), []string{"Offset", "Order", "Timestamp", "ObservedTimestamp",
			"Lag"}, 0},
	}
	for _, tt := range tests {
		var got []string
		for f := range tt.typ.Fields() {
			got = append(got, f.Name)
		}
		if len(got) != len(tt.burrow)+tt.extra || !slices.Equal(got[:min(len(got), len(tt.burrow))], tt.burrow) {
			t.Errorf("%v fields %q, want %q then %d more", tt.typ, got, tt.burrow, tt.extra)
		}
	}
}

func TestConstantsAgainstBurrow(t *testing.T) {
	statuses := []protocol.StatusConstant{protocol.StatusNotFound, protocol.StatusOK, protocol.StatusWarning,
		protocol.StatusError, protocol.StatusStop, protocol.StatusStall, protocol.StatusRewind}
	requests := []protocol.StorageRequestConstant{protocol.StorageSetBrokerOffset,
		protocol.StorageSetConsumerOffset, protocol.StorageSetConsumerOwner, protocol.StorageSetDeleteTopic,
		protocol.StorageSetDeleteGroup, protocol.StorageFetchClusters, protocol.StorageFetchConsumers,
		protocol.StorageFetchTopics, protocol.StorageFetchConsumer, protocol.StorageFetchTopic,
		protocol.StorageClearConsumerOwners, protocol.StorageFetchConsumersForTopic}
	for i, c := range statuses {
		if int(c) != i {
			t.Errorf("%v = %d, want %d", c, c, i)
		}
	}
	for i, c := range requests {
		if int(c) != i {
			t.Errorf("%v = %d, want %d", c, c, i)
		}
	}
}

// TestJSONAgainstBurrow pins the two run-time differences that
// docs/compatibility.md lists for the JSON of statuses.
func TestJSONAgainstBurrow(t *testing.T) {
	js, err := json.Marshal(protocol.PartitionStatus{})
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(js, &keys); err != nil {
		t.Fatal(err)
	}
	burrowKeys := []string{"client_id", "complete", "current_lag", "end", "owner", "partition", "start",
		"status", "topic"}
	if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, burrowKeys) {
		t.Errorf("a PartitionStatus without Warren's fields encodes the keys %q, Burrow's are %q", got, burrowKeys)
	}

	var c protocol.StatusConstant
	if err := json.Unmarshal([]byte(`"STALL"`), &c); err != nil || c != protocol.StatusStall {
		t.Errorf("a status name decodes to %v, %v", c, err)
	}
	if err := json.Unmarshal([]byte(`5`), &c); err != nil || c != protocol.StatusStall {
		t.Errorf("a bare number decodes to %v, %v; Burrow reads the number", c, err)
	}
}
