package evaluator

import (
	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// StorageAndEvaluatorCoordinatorsWithOffsets returns a started storage
// coordinator from storage.CoordinatorWithOffsets and a started evaluator
// coordinator on the same application context, with a new unbuffered
// EvaluatorChannel and one caching module "test" (expire-cache 30). It is for
// other subsystems' tests only.
func StorageAndEvaluatorCoordinatorsWithOffsets() (*Coordinator, *storage.Coordinator) {
	sc := storage.CoordinatorWithOffsets()
	ec := &Coordinator{App: sc.App, Log: zap.NewNop()}
	ec.App.EvaluatorChannel = make(chan *protocol.EvaluatorRequest)
	viper.Set("evaluator.test.class-name", "caching")
	viper.Set("evaluator.test.expire-cache", 30)
	ec.Configure()
	if err := ec.Start(); err != nil {
		panic(err)
	}
	return ec, sc
}
