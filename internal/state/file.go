package state

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Names of the files in the state folder.
const (
	FileName = "warren.state"
	tempName = FileName + ".tmp"
	// BadPrefix starts the name of a bad file moved aside: warren.state.bad-<time>.
	BadPrefix = FileName + ".bad-"
)

// DefaultMaxSize is the default of File.MaxSize.
const DefaultMaxSize = 8 << 30

// A Source adds its sections to a snapshot: it calls add once per section, in
// the order they are to be restored. add copies data before it returns, so a
// source may reuse its buffer.
type Source func(add func(kind string, data []byte) error) error

// File is the state file in a folder. Its zero value other than Dir is ready
// to use. Methods are not goroutine safe: one goroutine writes and reads.
type File struct {
	// Dir is the state folder. Write creates it when missing.
	Dir string
	// MaxSize is the largest file Read accepts, so that a stray giant file
	// cannot exhaust memory; 0 means DefaultMaxSize.
	MaxSize int64
	// StopAfter is a test hook: when positive, Write stops after writing that
	// many bytes of the temporary file and returns ErrStopped, leaving things as
	// a crash (kill -9) at that moment would.
	StopAfter int64
	// Now names bad files moved aside; nil means time.Now.
	Now func() time.Time
}

// ErrStopped is returned by Write when File.StopAfter stopped it.
var ErrStopped = errors.New("state: write stopped by the test hook")

// Path returns the path of the state file.
func (f *File) Path() string { return filepath.Join(f.Dir, FileName) }

// WriteStats describes a snapshot written.
type WriteStats struct {
	Sections int
	Bytes    int64
}

// Write writes a snapshot of sources atomically: into a temporary file beside
// the state file, synced, then renamed over it, and the folder synced. Whatever
// happens meanwhile (an error, a crash, kill -9), the previous state file stays
// whole. On error the temporary file is removed (except when StopAfter stopped
// the write, as after a crash: the next Write truncates it).
func (f *File) Write(sources ...Source) (WriteStats, error) {
	var st WriteStats
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return st, fmt.Errorf("state folder: %w", err)
	}
	tmp := filepath.Join(f.Dir, tempName)
	fd, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return st, fmt.Errorf("state: %w", err)
	}
	w := newWriter(fd, f.StopAfter)
	err = w.all(sources)
	st.Sections, st.Bytes = w.sections, w.n
	if errors.Is(err, ErrStopped) {
		fd.Close()
		return st, err
	}
	if err == nil {
		err = fd.Sync()
	}
	if cerr := fd.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.Path())
	}
	if err != nil {
		os.Remove(tmp)
		return st, fmt.Errorf("state: writing %s: %w", f.Path(), err)
	}
	if err := syncDir(f.Dir); err != nil {
		return st, fmt.Errorf("state: syncing folder %s: %w", f.Dir, err)
	}
	return st, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// writer frames sections onto a file.
type writer struct {
	bw        *bufio.Writer
	frame     []byte
	headerCRC uint32
	sections  int
	n         int64
}

func newWriter(w io.Writer, stopAfter int64) *writer {
	if stopAfter > 0 {
		w = &stopWriter{w: w, left: stopAfter}
	}
	return &writer{bw: bufio.NewWriterSize(w, 1<<20)}
}

func (w *writer) all(sources []Source) error {
	w.frame = appendHeader(w.frame[:0])
	w.headerCRC = crc32.Checksum(w.frame, castagnoli)
	if err := w.write(w.frame); err != nil {
		return err
	}
	for _, src := range sources {
		if err := src(w.add); err != nil {
			return err
		}
	}
	if err := w.write(appendEnd(w.frame[:0], w.headerCRC, w.sections)); err != nil {
		return err
	}
	return w.bw.Flush()
}

// add is the add function handed to sources.
func (w *writer) add(kind string, data []byte) error {
	if len(kind) == 0 || len(kind) > MaxKind {
		return fmt.Errorf("state: section kind %q: must be 1 to %d bytes", kind, MaxKind)
	}
	w.frame = appendSectionFrame(w.frame[:0], kind, len(data))
	crc := crc32.Update(crc32.Checksum(w.frame, castagnoli), castagnoli, data)
	if err := w.write(w.frame); err != nil {
		return err
	}
	if err := w.write(data); err != nil {
		return err
	}
	w.sections++
	return w.write(binary.LittleEndian.AppendUint32(w.frame[:0], crc))
}

func (w *writer) write(b []byte) error {
	n, err := w.bw.Write(b)
	w.n += int64(n)
	return err
}

// stopWriter is the StopAfter hook: it writes the first left bytes, then fails.
type stopWriter struct {
	w    io.Writer
	left int64
}

func (s *stopWriter) Write(b []byte) (int, error) {
	if int64(len(b)) <= s.left {
		s.left -= int64(len(b))
		return s.w.Write(b)
	}
	n, err := s.w.Write(b[:s.left])
	s.left = 0
	if err == nil {
		err = ErrStopped
	}
	return n, err
}

// Read reads and checks the state file. A missing file is no snapshot: nil and
// an error that matches fs.ErrNotExist. A bad file gives an error wrapping one
// of ErrTruncated, ErrCorrupt, ErrForeign, ErrFutureVersion or ErrTooLarge;
// the caller moves it aside with MoveAside and starts empty. Read allocates at
// most the file's size, and never more than MaxSize.
func (f *File) Read() (*Snapshot, error) {
	max := f.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	fd, err := os.Open(f.Path())
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", f.Path(), ErrForeign)
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", f.Path(), ErrTooLarge, fi.Size(), max)
	}
	// Read no more than the size seen, plus one byte to notice a file that
	// grew meanwhile.
	b := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(fd, b)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		return nil, fmt.Errorf("%s: %w: it grew while being read", f.Path(), ErrCorrupt)
	}
	snap, err := Parse(b[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path(), err)
	}
	return snap, nil
}

// MoveAside renames the state file to warren.state.bad-<time> in the same
// folder, keeping it for inspection, and returns the new path.
func (f *File) MoveAside() (string, error) {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	base := filepath.Join(f.Dir, BadPrefix+now().UTC().Format("20060102T150405.000Z"))
	to := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(to); errors.Is(err, fs.ErrNotExist) {
			break
		}
		to = fmt.Sprintf("%s.%d", base, i)
	}
	if err := os.Rename(f.Path(), to); err != nil {
		return "", fmt.Errorf("state: moving the bad file aside: %w", err)
	}
	return to, nil
}
