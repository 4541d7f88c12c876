package storage_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/state"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// process is storage and the evaluator of one Warren process, on a fixed clock.
type process struct {
	app *protocol.ApplicationContext
	sc  *storage.Coordinator
	ec  *evaluator.Coordinator
}

const base = int64(1_800_000_000_000)

// newProcess configures storage; start starts it and the evaluator.
func newProcess() *process {
	v := viper.New()
	v.Set("cluster.c.class-name", "kafka")
	app := &protocol.ApplicationContext{Logger: zap.NewNop(), Viper: v,
		StorageChannel:   make(chan *protocol.StorageRequest),
		EvaluatorChannel: make(chan *protocol.EvaluatorRequest),
		Clock:            func() time.Time { return time.UnixMilli(base) }}
	p := &process{app: app, sc: &storage.Coordinator{App: app}, ec: &evaluator.Coordinator{App: app}}
	p.sc.Configure()
	return p
}

func (p *process) start(t *testing.T) {
	t.Helper()
	if err := p.sc.Start(); err != nil {
		t.Fatal(err)
	}
	p.ec.Configure()
	if err := p.ec.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.ec.Stop(); p.sc.Stop() })
}

func (p *process) eval(group string) *protocol.ConsumerGroupStatus {
	reply := make(chan *protocol.ConsumerGroupStatus)
	p.app.EvaluatorChannel <- &protocol.EvaluatorRequest{Reply: reply, Cluster: "c", Group: group, ShowAll: true}
	return <-reply
}

// TestStateFileRestart: storage written to the state file at Stop and restored
// by the next process before it starts gives the evaluator the same status, lag
// in seconds included.
func TestStateFileRestart(t *testing.T) {
	p := newProcess()
	p.start(t)
	ago := func(s int64) int64 { return base - s*1000 }
	// The evaluator's E2 (falling behind), with broker readings at their times.
	for i := int64(0); i < 10; i++ {
		p.app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "c",
			Topic: "t", Partition: 0, TopicPartitionCount: 2, Offset: 2000 + 300*i, Timestamp: ago(95 - 10*i)}
		for _, g := range []string{"g", "h"} {
			p.app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "c",
				Group: g, Topic: "t", Offset: 1000 + 200*i, Order: 1 + i, Timestamp: ago(95 - 10*i)}
		}
	}
	p.app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "c",
		Group: "g", Topic: "t", Partition: 1, Owner: "10.0.0.1", ClientID: "app"}
	p.app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: "c", Group: "h"}
	before := p.eval("g")
	if lag := before.Partitions[0].LagSeconds; lag == nil || *lag != 68.333 {
		t.Fatalf("lag seconds before: %v", lag)
	}

	// At Stop: storage stops first, and its state is written after.
	p.ec.Stop()
	p.sc.Stop()
	f := &state.File{Dir: t.TempDir()}
	if _, err := f.Write(p.sc.Snapshot); err != nil {
		t.Fatal(err)
	}

	q := newProcess()
	snap, err := f.Read()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := q.sc.Restore(snap.All())
	if err != nil {
		t.Fatal(err)
	}
	if stats["groups"] != 1 || stats["commits"] != 10 || stats["broker_topics"] != 1 || stats["malformed"] != 0 {
		t.Errorf("restore stats %v", stats)
	}
	q.start(t)
	after := q.eval("g")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("status before the restart:\n%+v\nafter:\n%+v", before, after)
	}
	if st := q.eval("h"); st.Status != protocol.StatusNotFound {
		t.Errorf("deleted group h: %v", st.Status)
	}
	if _, err := q.sc.Restore(snap.All()); err == nil {
		t.Error("Restore after Start succeeded")
	}
}
