package main

import (
	"errors"
	"io/fs"
	"runtime/debug"
	"testing"

	"github.com/warrenlag/warren/internal/config"
)

func TestContainerLimit(t *testing.T) {
	cases := []struct {
		files map[string]string
		want  int64
	}{
		{files: map[string]string{}, want: 0},
		{files: map[string]string{"/sys/fs/cgroup/memory.max": "max\n"}, want: 0},
		{files: map[string]string{"/sys/fs/cgroup/memory.max": "1073741824\n"}, want: 1 << 30},
		{files: map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "536870912\n"}, want: 512 << 20},
		{files: map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, want: 0},
	}
	for _, c := range cases {
		read := func(name string) ([]byte, error) {
			if s, ok := c.files[name]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		}
		if got := containerLimit(read); got != c.want {
			t.Errorf("%v: %d, want %d", c.files, got, c.want)
		}
	}
}

func TestMemoryTargets(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	gib := func(string) ([]byte, error) { return []byte("1073741824"), nil }
	none := func(string) ([]byte, error) { return nil, errors.New("no cgroup") }

	gc, limit := memoryTargets(config.General{GCPercent: 25, MemoryLimit: config.MemoryLimitAuto}, gib)
	if gc != 25 || limit != (1<<30)/10*9 || debug.SetGCPercent(25) != 25 || debug.SetMemoryLimit(-1) != limit {
		t.Errorf("auto in a 1 GiB container: gc %d, limit %d", gc, limit)
	}
	if _, limit := memoryTargets(config.General{GCPercent: 25, MemoryLimit: config.MemoryLimitAuto}, none); limit != 0 {
		t.Errorf("auto without a container limit: %d", limit)
	}
	debug.SetMemoryLimit(123 << 20)
	if _, limit := memoryTargets(config.General{GCPercent: 25, MemoryLimit: 0}, gib); limit != 0 || debug.SetMemoryLimit(-1) != 123<<20 {
		t.Errorf("off: %d", limit)
	}

	t.Setenv("GOGC", "80")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(80)
	if gc, limit := memoryTargets(config.General{GCPercent: 25, MemoryLimit: 64 << 20}, gib); gc != -2 || limit != -2 || debug.SetGCPercent(80) != 80 {
		t.Errorf("the environment must win: gc %d, limit %d", gc, limit)
	}
}
