package main

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
)

// cgroupLimitFiles hold the container's memory limit: cgroup v2, then v1.
var cgroupLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// memoryTargets applies gc-percent and memory-limit to the Go runtime. The
// environment variables GOGC and GOMEMLIMIT, when set, win over the keys, as
// they do for any Go program. It reports what it set, for the log.
func memoryTargets(g config.General, read func(string) ([]byte, error)) (gcPercent int, limit int64) {
	gcPercent, limit = -2, -2 // not set here
	if os.Getenv("GOGC") == "" {
		gcPercent = g.GCPercent
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		limit = g.MemoryLimit
		if limit == config.MemoryLimitAuto {
			limit = containerLimit(read) / 10 * 9
		}
		if limit > 0 {
			debug.SetMemoryLimit(limit)
		}
	}
	return gcPercent, limit
}

// containerLimit returns the memory limit of the cgroup Warren runs in, or 0
// when there is none (v2 "max", v1's huge "unlimited" value, no cgroup).
func containerLimit(read func(string) ([]byte, error)) int64 {
	for _, name := range cgroupLimitFiles {
		b, err := read(name)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0
		}
		return n
	}
	return 0
}

// applyMemory is memoryTargets on the real files, logged.
func applyMemory(g config.General, log *zap.Logger) {
	gc, limit := memoryTargets(g, os.ReadFile)
	fields := []zap.Field{}
	if gc != -2 {
		fields = append(fields, zap.Int("gc_percent", gc))
	}
	if limit > 0 {
		fields = append(fields, zap.Int64("memory_limit_mib", limit>>20))
	}
	log.Info("memory targets of the Go runtime", fields...)
}
