package notifier

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/state"
)

// scenarioT0 is the time the scenario's times are relative to.
var scenarioT0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// scenario is a coordinator, never started, holding groups in every state
// (an empty group name too), and its section.
func scenario(t testing.TB) (*Coordinator, []byte) {
	c := newBare(t, conf("a", nil), conf("b", func(n *config.Notifier) { n.GroupDenylist = "^only-a" }), conf("c", nil))
	at := func(s int) time.Time { return scenarioT0.Add(time.Duration(s) * time.Second) }
	put(t, c, "open-all", "0b4a7c2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c", at(0), map[string]time.Time{"a": at(60), "b": at(60), "c": at(0)})
	put(t, c, "open-none", "1b4a7c2e-1d3f-4e5a-8b6c-7d8e9f0a1b2c", at(-30), nil)
	put(t, c, "last-only", "", time.Time{}, map[string]time.Time{"b": at(-1)})
	put(t, c, "only-a", "2b", at(-3600), map[string]time.Time{"a": at(-7200)})
	put(t, c, "", "", time.Time{}, map[string]time.Time{"c": at(5)})
	secs := snapshotOf(t, c)
	if len(secs) != 1 || secs[0].Kind != KindIncidents {
		t.Fatalf("sections %v", secs)
	}
	return c, secs[0].Data
}

// restoreInto restores a section of data into a fresh coordinator with a's
// modules.
func restoreInto(t testing.TB, a *Coordinator, data []byte) (*Coordinator, int) {
	t.Helper()
	var cfg []config.Notifier
	for _, m := range a.modules {
		cfg = append(cfg, m.cfg)
	}
	b := newBare(t, cfg...)
	n, err := b.Restore(all(state.Section{Kind: KindIncidents, Data: data}))
	if err != nil {
		t.Fatal(err)
	}
	return b, n
}

// records returns where each record of a section ends, and the line (as
// describe writes it) of the group each holds.
func records(t testing.TB, a *Coordinator, data []byte) (ends []int, lines []string) {
	t.Helper()
	for at := 0; at < len(data); {
		end := at + 4 + int(binary.LittleEndian.Uint32(data[at:]))
		b, _ := restoreInto(t, a, data[at:end])
		got := describe(b, scenarioT0)
		if len(got) != 1 {
			t.Fatalf("record at %d restores %q", at, got)
		}
		ends, lines = append(ends, end), append(lines, got[0])
		at = end
	}
	return ends, lines
}

// TestRestoreMalformed restores the scenario's section cut at every byte, and
// with every byte flipped three ways. A cut keeps the records before it,
// whole, and counts the one it splits as malformed. A flipped byte never
// panics; the records before the one it hits come back whole, and so do
// those after when it hits a record's data rather than its length.
func TestRestoreMalformed(t *testing.T) {
	a, data := scenario(t)
	ends, lines := records(t, a, data)
	if want := describe(a, scenarioT0); len(lines) != len(want) {
		t.Fatalf("%d records, %d groups", len(lines), len(want))
	}
	for cut := range len(data) {
		b, n := restoreInto(t, a, data[:cut])
		whole := 0
		for _, e := range ends {
			if e <= cut {
				whole++
			}
		}
		if n != whole {
			t.Fatalf("cut at %d: restored %d, want %d", cut, n, whole)
		}
		if split := cut > 0 && !slices.Contains(ends, cut); split != (b.restored.Malformed == 1) {
			t.Fatalf("cut at %d: %d malformed", cut, b.restored.Malformed)
		}
		if got := describe(b, scenarioT0); !sameSet(got, lines[:whole]) {
			t.Fatalf("cut at %d: restored %q, want %q", cut, got, lines[:whole])
		}
	}
	for i := range data {
		hit, start := 0, 0 // the record holding byte i, and where it starts
		for ends[hit] <= i {
			start = ends[hit]
			hit++
		}
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(data)
			bad[i] ^= mask
			b, n := restoreInto(t, a, bad)
			if n > len(ends) {
				t.Fatalf("byte %d ^ %#x: restored %d groups from %d records", i, mask, n, len(ends))
			}
			got := describe(b, scenarioT0)
			for k, l := range lines {
				if (k < hit || k > hit && i >= start+4) && !slices.Contains(got, l) {
					t.Fatalf("byte %d ^ %#x: record %d, untouched, not restored: %q", i, mask, k, got)
				}
			}
		}
	}
}

// recordSet returns the records of sections, sorted.
func recordSet(secs []state.Section) []string {
	var out []string
	for _, sec := range secs {
		for b := sec.Data; len(b) > 0; {
			end := 4 + int(binary.LittleEndian.Uint32(b))
			out = append(out, string(b[:end]))
			b = b[end:]
		}
	}
	slices.Sort(out)
	return out
}

// sameSet reports whether a and b hold the same lines.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestRestoreHugeCounts restores records whose counts and lengths claim far
// more than they hold: each is malformed, and Restore allocates nothing in
// proportion to the claims.
func TestRestoreHugeCounts(t *testing.T) {
	a, _ := scenario(t)
	rec := func(fields ...[]byte) []byte {
		b, at := state.StartRecord(nil)
		b = slices.Concat(append([][]byte{b}, fields...)...)
		return state.EndRecord(b, at)
	}
	uv := func(v uint64) []byte { return binary.AppendUvarint(nil, v) }
	str := func(s string) []byte { return state.AppendString(nil, s) }
	for name, data := range map[string][]byte{
		"modules":       rec(uv(1), str("c"), str("g"), str(""), uv(1<<62)),
		"cluster":       rec(uv(1), uv(1<<40)),
		"id":            rec(uv(1), str("c"), str("g"), uv(1<<50)),
		"record length": binary.LittleEndian.AppendUint32(nil, 1<<31),
		"version":       rec(uv(2), str("c"), str("g"), str(""), uv(0)),
	} {
		b, _ := restoreInto(t, a, nil)
		var n int
		allocs := testing.AllocsPerRun(10, func() { n, _ = b.Restore(all(state.Section{Kind: KindIncidents, Data: data})) })
		if n != 0 || b.restored.Malformed != 1 {
			t.Errorf("%s: restored %d, %d malformed", name, n, b.restored.Malformed)
		}
		if allocs > 10 {
			t.Errorf("%s: %v allocations", name, allocs)
		}
	}
}

// FuzzRestore restores any section: Restore never fails or panics, restores
// no more groups than the section could hold records, and what it restores
// survives another round trip unchanged.
func FuzzRestore(f *testing.F) {
	a, data := scenario(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte{})
	f.Add([]byte{4, 0, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, n := restoreInto(t, a, data)
		if n > len(data)/8 {
			t.Fatalf("restored %d groups from %d bytes", n, len(data))
		}
		secs := snapshotOf(t, b)
		var all2 []byte
		for _, s := range secs {
			all2 = append(all2, s.Data...)
		}
		c, n2 := restoreInto(t, a, all2)
		if n2 != n || c.restored.Malformed != 0 {
			t.Fatalf("round trip: %d groups, then %d (%+v)", n, n2, c.restored)
		}
		if x, y := recordSet(snapshotOf(t, b)), recordSet(snapshotOf(t, c)); !slices.Equal(x, y) {
			t.Fatalf("round trip:\n%q\n%q", x, y)
		}
	})
}
