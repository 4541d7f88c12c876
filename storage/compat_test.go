package storage_test

import (
	"testing"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/apilist"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

// TestBurrowAPI: Warren's storage is Burrow's core/internal/storage
// (testdata/burrow.api) plus the methods docs/compatibility.md lists.
func TestBurrowAPI(t *testing.T) {
	apilist.Check(t, "storage", nil, []string{
		"method (*Coordinator).Collector() prometheus.Collector",
		"method (*Coordinator).Restore(iter.Seq2[string, []byte]) (map[string]uint64, error)",
		"method (*Coordinator).Snapshot(func(kind string, data []byte) error) error",
		"method (*Coordinator).Stats() (map[string]uint64, map[string]uint64)",
		"method (*InMemoryStorage).Drops() map[string]uint64",
		"method (*InMemoryStorage).Requests() map[string]uint64",
		"method (*InMemoryStorage).Restore(iter.Seq2[string, []byte]) (map[string]uint64, error)",
		"method (*InMemoryStorage).Snapshot(func(kind string, data []byte) error) error",
	})
}

// The uses Burrow's code makes of these types, with their real types.
var (
	_ protocol.Coordinator        = (*storage.Coordinator)(nil)
	_ storage.Module              = (*storage.InMemoryStorage)(nil)
	_                             = storage.Coordinator{App: (*protocol.ApplicationContext)(nil), Log: (*zap.Logger)(nil)}
	_                             = storage.InMemoryStorage{App: (*protocol.ApplicationContext)(nil), Log: (*zap.Logger)(nil)}
	_ func() *storage.Coordinator = storage.CoordinatorWithOffsets
)
