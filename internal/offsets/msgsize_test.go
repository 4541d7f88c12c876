package offsets

import (
	"testing"
	"unsafe"
)

// TestMsgSize pins the size of a queued request: every commit copies one into
// a batch, and 8 bytes more cost the commit path 3 ns (BenchmarkHandleCommit).
func TestMsgSize(t *testing.T) {
	if n := unsafe.Sizeof(msg{}); n > 176 {
		t.Errorf("msg is %d bytes, want at most 176", n)
	}
}
