package state

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// sections is a Source of fixed sections.
func sections(secs ...Section) Source {
	return func(add func(string, []byte) error) error {
		for _, s := range secs {
			if err := add(s.Kind, s.Data); err != nil {
				return err
			}
		}
		return nil
	}
}

var testSections = []Section{
	{"offsets.broker", []byte("broker histories")},
	{"offsets.groups", bytes.Repeat([]byte{1, 2, 3}, 1000)},
	{"notifier.incidents", []byte{}},
	{"some.future.kind", []byte("a reader skips what it does not know")},
}

// encode returns a whole state file holding secs.
func encode(t testing.TB, secs ...Section) []byte {
	t.Helper()
	f := &File{Dir: t.TempDir()}
	if _, err := f.Write(sections(secs...)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteRead(t *testing.T) {
	f := &File{Dir: filepath.Join(t.TempDir(), "made", "by", "write")}
	// Two sources, in order; the second reuses one buffer for its sections.
	buf := []byte("first")
	reuse := func(add func(string, []byte) error) error {
		if err := add("b.one", buf); err != nil {
			return err
		}
		copy(buf, "again")
		return add("b.two", buf)
	}
	st, err := f.Write(sections(testSections...), reuse)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f.Path())
	if err != nil || fi.Size() != st.Bytes || st.Sections != len(testSections)+2 {
		t.Fatalf("stats %+v, file %v %v", st, fi, err)
	}
	snap, err := f.Read()
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]Section{}, testSections...), Section{"b.one", []byte("first")}, Section{"b.two", []byte("again")})
	if snap.Version != Version || !reflect.DeepEqual(snap.Sections, want) {
		t.Errorf("read back %+v", snap)
	}
	var kinds []string
	for kind := range snap.All() {
		kinds = append(kinds, kind)
	}
	if len(kinds) != len(want) || kinds[0] != "offsets.broker" {
		t.Errorf("All yields %v", kinds)
	}
	if _, err := os.Stat(filepath.Join(f.Dir, tempName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func TestEmptySnapshotAndMissingFile(t *testing.T) {
	f := &File{Dir: t.TempDir()}
	if _, err := f.Read(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := f.Write(); err != nil {
		t.Fatal(err)
	}
	if snap, err := f.Read(); err != nil || len(snap.Sections) != 0 {
		t.Errorf("empty snapshot: %+v %v", snap, err)
	}
}

// TestCrashHalfway: a write stopped halfway, at any byte, leaves the previous
// snapshot readable and whole; the next write succeeds over the leftover.
func TestCrashHalfway(t *testing.T) {
	f := &File{Dir: t.TempDir()}
	if _, err := f.Write(sections(testSections[:2]...)); err != nil {
		t.Fatal(err)
	}
	size := int64(len(encode(t, testSections...)))
	for _, at := range []int64{1, 5, 12, 13, size / 2, size - 1} {
		f.StopAfter = at
		if _, err := f.Write(sections(testSections...)); !errors.Is(err, ErrStopped) {
			t.Fatalf("stop after %d: %v", at, err)
		}
		if fi, err := os.Stat(filepath.Join(f.Dir, tempName)); err != nil || fi.Size() != at {
			t.Errorf("stop after %d: temporary file %v %v", at, fi, err)
		}
		snap, err := f.Read()
		if err != nil || !reflect.DeepEqual(snap.Sections, testSections[:2]) {
			t.Fatalf("stop after %d: previous snapshot %v, %v", at, snap, err)
		}
	}
	f.StopAfter = 0
	if _, err := f.Write(sections(testSections...)); err != nil {
		t.Fatal(err)
	}
	if snap, err := f.Read(); err != nil || !reflect.DeepEqual(snap.Sections, testSections) {
		t.Errorf("after the crash: %v, %v", snap, err)
	}
}

// TestBadFiles: each kind of bad file is reported with its reason and can be
// moved aside, not deleted.
func TestBadFiles(t *testing.T) {
	good := encode(t, testSections...)
	future := bytes.Clone(good)
	future[len(magic)+3] = Version + 1
	flipped := bytes.Clone(good)
	flipped[len(good)/2] ^= 0x40 // inside the long section's data
	endFlipped := bytes.Clone(good)
	endFlipped[len(good)-5] ^= 1 // the section count
	tests := []struct {
		name    string
		content []byte
		max     int64
		reason  string
	}{
		{"empty", nil, 0, "truncated"},
		{"header cut", good[:10], 0, "truncated"},
		{"cut in a section", good[:len(good)/2], 0, "truncated"},
		{"cut at a section boundary", good[:headerLen+3+len("offsets.broker")+len("broker histories")+4], 0, "truncated"},
		{"no end frame's checksum", good[:len(good)-2], 0, "truncated"},
		{"flipped bit", flipped, 0, "corrupt"},
		{"flipped count", endFlipped, 0, "corrupt"},
		{"trailing bytes", append(bytes.Clone(good), 0), 0, "corrupt"},
		{"version 0", append([]byte(magic), 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "corrupt"},
		{"foreign", []byte("{\"json\": true}\n"), 0, "foreign"},
		{"foreign short", []byte("{}"), 0, "foreign"},
		{"future version", future, 0, "future_version"},
		{"too large", good, 100, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &File{Dir: t.TempDir(), MaxSize: tt.max, Now: func() time.Time { return time.Unix(1700000000, 0) }}
			if err := os.WriteFile(f.Path(), tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := f.Read()
			if err == nil || Reason(err) != tt.reason {
				t.Fatalf("Read: %v (%s), want %s", err, Reason(err), tt.reason)
			}
			if !strings.Contains(err.Error(), f.Path()) {
				t.Errorf("the error does not name the file: %v", err)
			}
			to, err := f.MoveAside()
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(to) != "warren.state.bad-20231114T221320.000Z" {
				t.Errorf("moved to %s", to)
			}
			if b, err := os.ReadFile(to); err != nil || !bytes.Equal(b, tt.content) {
				t.Errorf("moved file: %v", err)
			}
			if _, err := f.Read(); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after the move: %v", err)
			}
			// A second bad file at the same moment gets a name of its own.
			os.WriteFile(f.Path(), tt.content, 0o644)
			if to2, err := f.MoveAside(); err != nil || to2 == to {
				t.Errorf("second move: %s %v", to2, err)
			}
		})
	}
}

// TestEveryCutAndFlip: no prefix of a good file but itself, and no flipped byte,
// reads as good.
func TestEveryCutAndFlip(t *testing.T) {
	good := encode(t, testSections[0], testSections[2], testSections[3])
	for n := range len(good) {
		if _, err := Parse(good[:n]); err == nil {
			t.Fatalf("a file cut to %d of %d bytes parsed", n, len(good))
		}
	}
	for i := range good {
		b := bytes.Clone(good)
		b[i] ^= 0x10
		if _, err := Parse(b); err == nil {
			t.Fatalf("a file with byte %d flipped parsed", i)
		}
	}
}

// TestUnwritable: a state folder that cannot be written is an error at each
// attempt, never a panic, and leaves nothing behind.
func TestUnwritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, nil, 0o644)
	for _, d := range []string{filepath.Join(file, "state"), file} {
		f := &File{Dir: d}
		for range 2 {
			if _, err := f.Write(sections(testSections...)); err == nil {
				t.Errorf("%s: write succeeded", d)
			}
		}
	}
	// A section kind that the framing cannot hold is an error of the writer.
	f := &File{Dir: t.TempDir()}
	if _, err := f.Write(sections(Section{Kind: ""})); err == nil {
		t.Error("empty kind written")
	}
	if _, err := f.Write(sections(Section{Kind: strings.Repeat("k", MaxKind+1)})); err == nil {
		t.Error("long kind written")
	}
	if _, err := os.Stat(f.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a failed write left a state file")
	}
}

func TestDecoder(t *testing.T) {
	var b []byte
	b, at := StartRecord(b)
	b = AppendString(b, "group")
	b = append(b, 0x96, 0x01) // uvarint 150
	b = EndRecord(b, at)
	b = append(b, 3, 'a') // a string that claims 3 bytes and has 1
	d := NewDecoder(b)
	r := d.Record()
	if s, n := r.String(), r.Uvarint(); s != "group" || n != 150 || r.Err() != nil || r.Len() != 0 {
		t.Errorf("record: %q %d %v", s, n, r.Err())
	}
	if s := d.String(); s != "" || !errors.Is(d.Err(), ErrMalformed) {
		t.Errorf("short string: %q %v", s, d.Err())
	}
	if d.Uvarint() != 0 || d.Len() != 0 {
		t.Error("reads after an error")
	}
	d = NewDecoder([]byte{5, 1, 2})
	if n := d.Count(1, 100); n != 0 || d.Err() == nil {
		t.Errorf("count of 5 over 2 bytes: %d %v", n, d.Err())
	}
	d = NewDecoder([]byte{50, 1, 2})
	if n := d.Count(0, 10); n != 0 || d.Err() == nil {
		t.Errorf("count above max: %d", n)
	}
	d = NewDecoder([]byte{10, 0, 0})
	if r := d.Record(); r.Err() == nil || d.Err() == nil {
		t.Error("a short record was read")
	}
}

// FuzzParse: no input panics, and Parse allocates at most in proportion to its
// input.
func FuzzParse(f *testing.F) {
	f.Add(encode(f, testSections...))
	f.Add(encode(f))
	f.Add([]byte(magic))
	f.Add(append([]byte(magic), 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f))
	f.Fuzz(func(t *testing.T, b []byte) {
		snap, err := Parse(b)
		if err == nil {
			// What parses, re-encodes to the same bytes.
			var again bytes.Buffer
			if err := newWriter(&again, 0).all([]Source{sections(snap.Sections...)}); err != nil || !bytes.Equal(again.Bytes(), b) {
				t.Errorf("re-encoded differently: %v", err)
			}
		} else if Reason(err) == "unreadable" {
			t.Errorf("error without a reason: %v", err)
		}
		// The least of three measures, as other goroutines of the fuzzer may
		// allocate meanwhile.
		least := uint64(math.MaxUint64)
		for range 3 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			Parse(b)
			runtime.ReadMemStats(&after)
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		if least > uint64(16*len(b)+4096) {
			t.Errorf("%d bytes allocated for %d of input", least, len(b))
		}
	})
}
