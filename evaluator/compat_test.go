package evaluator_test

import (
	"testing"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/apilist"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// TestBurrowAPI: Warren's evaluator is Burrow's core/internal/evaluator
// (testdata/burrow.api) plus the counters docs/compatibility.md lists.
func TestBurrowAPI(t *testing.T) {
	apilist.Check(t, "evaluator", nil, []string{
		"field CachingEvaluator.Dropped atomic.Uint64",
		"field CachingEvaluator.Evaluations atomic.Uint64",
		"method (*Coordinator).Collector() prometheus.Collector",
		"method (*Coordinator).Stats() (uint64, uint64)",
	})
}

// The uses Burrow's code makes of these types, with their real types.
var (
	_ protocol.Coordinator = (*evaluator.Coordinator)(nil)
	_ evaluator.Module     = (*evaluator.CachingEvaluator)(nil)
	_                      = evaluator.Coordinator{App: (*protocol.ApplicationContext)(nil), Log: (*zap.Logger)(nil)}
	_                      = evaluator.CachingEvaluator{App: (*protocol.ApplicationContext)(nil), Log: (*zap.Logger)(nil),
		RequestChannel: (chan *protocol.EvaluatorRequest)(nil)}
	_ func() (*evaluator.Coordinator, *storage.Coordinator) = evaluator.StorageAndEvaluatorCoordinatorsWithOffsets
)
