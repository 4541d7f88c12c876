package storage

import (
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
)

// CoordinatorWithOffsets returns a started Coordinator with one inmemory module
// (intervals 10, min-distance 0) holding cluster "testcluster": topic "testtopic"
// with one partition whose broker offset is 4321, group "testgroup" with ten
// commits on partition 0 (Offset 1000+100i, Order 10+i, Timestamp start+10000i
// for i = 0..9, start being 100 s ago) and group "testgroup2" with the first five
// of them. Everything is visible to any fetch sent after it returns.
//
// It resets the global viper instance and puts its configuration there, so that
// fixtures built on it can add their own keys. It is for other subsystems' tests
// only.
func CoordinatorWithOffsets() *Coordinator {
	viper.Reset()
	viper.Set("storage.test.class-name", "inmemory")
	viper.Set("storage.test.intervals", 10)
	viper.Set("storage.test.min-distance", 0)
	viper.Set("cluster.testcluster.class-name", "kafka")

	sc := &Coordinator{
		App: &protocol.ApplicationContext{
			Logger:         zap.NewNop(),
			StorageChannel: make(chan *protocol.StorageRequest),
		},
		Log: zap.NewNop(),
	}
	sc.Configure()
	if err := sc.Start(); err != nil {
		panic(err)
	}

	now := time.Now().UnixMilli()
	start := now - 100000
	ch := sc.App.StorageChannel
	ch <- &protocol.StorageRequest{
		RequestType:         protocol.StorageSetBrokerOffset,
		Cluster:             "testcluster",
		Topic:               "testtopic",
		Partition:           0,
		TopicPartitionCount: 1,
		Offset:              4321,
		Timestamp:           now,
	}
	for _, g := range []struct {
		name    string
		commits int
	}{{"testgroup", 10}, {"testgroup2", 5}} {
		for i := range g.commits {
			ch <- &protocol.StorageRequest{
				RequestType: protocol.StorageSetConsumerOffset,
				Cluster:     "testcluster",
				Topic:       "testtopic",
				Group:       g.name,
				Partition:   0,
				Offset:      int64(1000 + 100*i),
				Order:       int64(10 + i),
				Timestamp:   start + int64(10000*i),
			}
		}
	}
	return sc
}
