package storage_test

import (
	"fmt"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// The README's example: record a broker offset and a commit, read them back.
func ExampleCoordinator() {
	v := viper.New()
	v.Set("cluster.local.class-name", "kafka")
	app := &protocol.ApplicationContext{
		Logger:         zap.NewNop(),
		StorageChannel: make(chan *protocol.StorageRequest),
		Viper:          v,
	}
	sc := &storage.Coordinator{App: app, Log: zap.NewNop()}
	sc.Configure()
	if err := sc.Start(); err != nil {
		panic(err)
	}
	defer sc.Stop()

	app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset,
		Cluster: "local", Topic: "orders", Partition: 0, TopicPartitionCount: 1,
		Offset: 5000, Timestamp: time.Now().UnixMilli()}
	app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset,
		Cluster: "local", Group: "billing", Topic: "orders", Partition: 0,
		Offset: 4200, Order: 1, Timestamp: time.Now().UnixMilli()}

	reply := make(chan interface{})
	app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer,
		Cluster: "local", Group: "billing", Reply: reply}
	if v, ok := <-reply; ok {
		topics := v.(protocol.ConsumerTopics)
		fmt.Println(topics["orders"][0].CurrentLag)
	}
	// Output: 800
}
