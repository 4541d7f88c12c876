package state

import (
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
)

func TestKeeper(t *testing.T) {
	dir := t.TempDir()
	data := "hello"
	src := func(add func(string, []byte) error) error { return add("test.kind", []byte(data)) }
	k := &Keeper{File: &File{Dir: dir}, Sources: []Source{src}, Interval: time.Hour, Log: zap.NewNop()}
	var got []string
	restore := func(s iter.Seq2[string, []byte]) error {
		for kind, b := range s {
			got = append(got, kind+"="+string(b))
		}
		return nil
	}
	if k.Load(restore) || got != nil {
		t.Fatalf("a first start restored %v", got)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(k.Collector())
	if n, _ := testutil.GatherAndCount(reg, "warren_state_snapshot_age_seconds"); n != 0 {
		t.Error("an age before any write")
	}
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	k.Stop() // writes a last snapshot, though the interval never passed
	if n, _ := testutil.GatherAndCount(reg, "warren_state_snapshot_age_seconds"); n != 1 {
		t.Error("no age after a write")
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`# HELP warren_state_writes_total State files written.
# TYPE warren_state_writes_total counter
warren_state_writes_total 1
`), "warren_state_writes_total"); err != nil {
		t.Error(err)
	}
	k2 := &Keeper{File: &File{Dir: dir}, Log: zap.NewNop()}
	if !k2.Load(restore) || len(got) != 1 || got[0] != "test.kind=hello" {
		t.Fatalf("restored %v", got)
	}
}

func TestKeeperBadFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("not a state file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &Keeper{File: &File{Dir: dir}, Log: zap.NewNop()}
	called := false
	if k.Load(func(iter.Seq2[string, []byte]) error { called = true; return nil }) || called {
		t.Fatal("a bad file was restored")
	}
	moved, _ := filepath.Glob(filepath.Join(dir, BadPrefix+"*"))
	if len(moved) != 1 {
		t.Fatalf("bad file not moved aside: %v", moved)
	}
	if b, _ := os.ReadFile(moved[0]); string(b) != "not a state file at all" {
		t.Errorf("the bad file's bytes were not kept: %q", b)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(k.Collector())
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`# HELP warren_state_bad_files_total State files found unreadable at start and moved aside, by reason.
# TYPE warren_state_bad_files_total counter
warren_state_bad_files_total{reason="foreign"} 1
`), "warren_state_bad_files_total"); err != nil {
		t.Error(err)
	}
}

func TestKeeperUnwritable(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	k := &Keeper{File: &File{Dir: filepath.Join(blocker, "state")}, Log: zap.NewNop()}
	k.Write()
	k.Write()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(k.Collector())
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`# HELP warren_state_write_failures_total State files that could not be written.
# TYPE warren_state_write_failures_total counter
warren_state_write_failures_total 2
`), "warren_state_write_failures_total"); err != nil {
		t.Error(err)
	}
}

// TestKeeperUnreadable: a state file that cannot be opened at all (here a
// symbolic link to itself: ELOOP; permissions would do, but tests may run as
// root) is left where it is, not moved aside as a bad file.
func TestKeeperUnreadable(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(FileName, filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	k := &Keeper{File: &File{Dir: dir}, Log: zap.NewNop()}
	if k.Load(func(iter.Seq2[string, []byte]) error { return nil }) {
		t.Fatal("restored from a folder")
	}
	if moved, _ := filepath.Glob(filepath.Join(dir, BadPrefix+"*")); len(moved) != 0 {
		t.Errorf("moved aside: %v", moved)
	}
	if _, err := os.Lstat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("the file is gone: %v", err)
	}
}
