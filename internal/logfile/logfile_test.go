package logfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "warren.log")
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w, err := Open(path, Options{MaxSizeMB: 1, MaxBackups: 2, Compress: true,
		now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range 4 * 1024 { // 4 MB: three rotations
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 || names[2] != "warren.log" || !strings.HasSuffix(names[0], ".log.gz") {
		t.Fatalf("files %v, want the log and its 2 newest backups, compressed", names)
	}
	if st, _ := os.Stat(path); st.Size() > 1<<20 {
		t.Errorf("current file %d bytes", st.Size())
	}
	if _, err := w.Write(line); err == nil {
		t.Error("write after Close succeeded")
	}
}
