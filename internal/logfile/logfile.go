// Package logfile writes Warren's log to a file that is rotated by size, as
// Burrow's [logging] keys ask: maxsize (MB), maxbackups, maxage (days),
// use-localtime and use-compression.
package logfile

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options are the rotation settings; zero values mean no limit, except MaxSizeMB
// (default 100).
type Options struct {
	MaxSizeMB  int
	MaxBackups int
	MaxAgeDays int
	LocalTime  bool
	Compress   bool
	now        func() time.Time // tests
}

// Writer appends to a file and rotates it when the next write would make it
// larger than MaxSizeMB: the file is renamed NAME-<time>.EXT (gzipped when
// Compress) and a new one started. It is safe for concurrent use.
type Writer struct {
	path string
	opts Options

	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (or creates) the log file at path.
func Open(path string, opts Options) (*Writer, error) {
	if opts.MaxSizeMB <= 0 {
		opts.MaxSizeMB = 100
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create the log directory: %w", err)
		}
	}
	w := &Writer{path: path, opts: opts}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("cannot open the log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("cannot open the log file: %w", err)
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would not fit.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, os.ErrClosed
	}
	if w.size > 0 && w.size+int64(len(p)) > int64(w.opts.MaxSizeMB)<<20 {
		if err := w.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

// Sync flushes the file.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	return w.f.Sync()
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

const stamp = "2006-01-02T15-04-05.000"

func (w *Writer) rotate() error {
	if err := w.f.Close(); err != nil {
		return err
	}
	t := w.opts.now()
	if !w.opts.LocalTime {
		t = t.UTC()
	}
	ext := filepath.Ext(w.path)
	backup := strings.TrimSuffix(w.path, ext) + "-" + t.Format(stamp) + ext
	if err := os.Rename(w.path, backup); err != nil {
		return fmt.Errorf("cannot rotate the log file: %w", err)
	}
	if err := w.open(); err != nil {
		return err
	}
	if w.opts.Compress {
		if err := gzipFile(backup); err != nil {
			fmt.Fprintf(w.f, "{\"level\":\"warn\",\"msg\":\"cannot compress a rotated log file\",\"error\":%q}\n", err.Error())
		}
	}
	w.prune()
	return nil
}

func gzipFile(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(path + ".gz")
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(out)
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		os.Remove(path + ".gz")
		return err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Remove(path)
}

// prune removes rotated files beyond MaxBackups or older than MaxAgeDays.
func (w *Writer) prune() {
	ext := filepath.Ext(w.path)
	prefix := filepath.Base(strings.TrimSuffix(w.path, ext)) + "-"
	entries, err := os.ReadDir(filepath.Dir(w.path))
	if err != nil {
		return
	}
	var backups []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, prefix) && (strings.HasSuffix(name, ext) || strings.HasSuffix(name, ext+".gz")) {
			backups = append(backups, name)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(backups))) // newest first: the names sort by time
	cutoff := w.opts.now().Add(-time.Duration(w.opts.MaxAgeDays) * 24 * time.Hour)
	for i, name := range backups {
		old := false
		if w.opts.MaxAgeDays > 0 {
			if info, err := os.Stat(filepath.Join(filepath.Dir(w.path), name)); err == nil && info.ModTime().Before(cutoff) {
				old = true
			}
		}
		if old || (w.opts.MaxBackups > 0 && i >= w.opts.MaxBackups) {
			os.Remove(filepath.Join(filepath.Dir(w.path), name))
		}
	}
}
