package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// hostile are strings that exercise every escaping rule of encoding/json.
var hostile = []string{
	"", "orders", `quo"te`, `back\slash`, "tab\tnew\nline\rcr", "\b\f\x00\x01\x1f\x7f",
	"<script>alert(1)</script>", "a&b", "line\u2028sep\u2029para", "bad\xffutf8\xc3", "\xed\xa0\x80",
	"héllo wörld ✓ 日本", "🙂", "\u0085nel", "/10.1.2.3", "consumer-A", strings.Repeat("x<", 40),
}

// gen builds random values of the types the routes write, with hostile
// strings, nil and empty slices, nil pointers and numbers at the edges of
// their formats. NaN and infinities are left out: encoding/json refuses them
// (see TestEncodeNotFinite).
type gen struct{ r *rand.Rand }

func (g gen) str() string {
	if g.r.IntN(3) == 0 {
		b := make([]byte, g.r.IntN(12))
		for i := range b {
			b[i] = byte(g.r.UintN(256))
		}
		return string(b)
	}
	return hostile[g.r.IntN(len(hostile))]
}

func (g gen) strs() []string {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	l := make([]string, g.r.IntN(5))
	for i := range l {
		l[i] = g.str()
	}
	return l
}

func (g gen) i64() int64 {
	switch g.r.IntN(5) {
	case 0:
		return []int64{0, -1, 1, 9, 10, 99, 100, math.MaxInt64, math.MinInt64, 1700000200000}[g.r.IntN(10)]
	case 1:
		return g.r.Int64N(1000) - 500
	}
	return int64(g.r.Uint64())
}

func (g gen) u64() uint64 {
	if g.r.IntN(3) == 0 {
		return []uint64{0, 1, 9, 10, 99, 100, 999, 1000, math.MaxUint64, 1e19 - 1, 1e19}[g.r.IntN(11)]
	}
	return g.r.Uint64() >> g.r.UintN(64)
}

// f64 returns finite floats: whole numbers, whole milliseconds of many sizes,
// values about the 1e-6 and 1e21 switches of notation, and random bits.
func (g gen) f64() float64 {
	var f float64
	switch g.r.IntN(6) {
	case 0:
		f = []float64{0, math.Copysign(0, -1), 1, 0.1, 1e-6, 9.99999e-7, 1e21, 9.99999999999999e20, 1e20,
			math.SmallestNonzeroFloat64, math.MaxFloat64, 5e-324, 1 << 53, 1<<53 + 2, 0.001, 1e9, 1e9 - 0.001}[g.r.IntN(17)]
	case 1:
		f = float64(g.r.Int64N(1000000)) / 1000
	case 2:
		f = float64(g.r.Int64N(1<<53)) / 1000
	case 3:
		f = float64(g.r.Int64N(1<<20)) / float64(1+g.r.IntN(1000))
	default:
		for f = math.NaN(); math.IsNaN(f) || math.IsInf(f, 0); {
			f = math.Float64frombits(g.r.Uint64())
		}
	}
	if g.r.IntN(4) == 0 {
		f = -f
	}
	return f
}

func (g gen) f32() float32 {
	switch g.r.IntN(4) {
	case 0:
		return []float32{0, 1, 0.5, 0.3, 2.0 / 3, 0.1, 1e-6, 9.99999e-7, 1e21, 1e20, math.MaxFloat32,
			math.SmallestNonzeroFloat32, 1000.125, 1024.001, 8191.999, 1000000.125}[g.r.IntN(16)]
	case 1:
		return float32(g.r.Int64N(100000000)) / 1000
	case 2:
		return float32(g.r.IntN(11)) / float32(1+g.r.IntN(10))
	}
	for {
		if f := math.Float32frombits(g.r.Uint32()); !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) {
			return f
		}
	}
}

func (g gen) offset() *protocol.ConsumerOffset {
	if g.r.IntN(4) == 0 {
		return nil
	}
	o := &protocol.ConsumerOffset{Offset: g.i64(), Order: g.i64(), Timestamp: g.i64(), ObservedTimestamp: g.i64()}
	if g.r.IntN(3) > 0 {
		o.Lag = &protocol.Lag{Value: g.u64()}
	}
	return o
}

func (g gen) partition() *protocol.PartitionStatus {
	if g.r.IntN(10) == 0 {
		return nil
	}
	ps := &protocol.PartitionStatus{Topic: g.str(), Partition: int32(g.i64()), Owner: g.str(), ClientID: g.str(),
		Status: protocol.StatusConstant(g.r.IntN(9) - 1), Start: g.offset(), End: g.offset(), CurrentLag: g.u64(),
		Complete: g.f32(), LagEstimated: g.r.IntN(2) == 0}
	if g.r.IntN(2) == 0 {
		ps.Why = g.str()
	}
	if g.r.IntN(3) > 0 {
		f := g.f64()
		ps.LagSeconds = &f
	}
	return ps
}

func (g gen) status() *protocol.ConsumerGroupStatus {
	if g.r.IntN(20) == 0 {
		return nil
	}
	st := &protocol.ConsumerGroupStatus{Cluster: g.str(), Group: g.str(), Status: protocol.StatusConstant(g.r.IntN(9) - 1),
		Complete: g.f32(), TotalPartitions: int(g.i64()), TotalLag: g.u64()}
	switch g.r.IntN(4) {
	case 0: // nil
	case 1:
		st.Partitions = []*protocol.PartitionStatus{}
	default:
		for range g.r.IntN(6) + 1 {
			st.Partitions = append(st.Partitions, g.partition())
		}
	}
	switch {
	case len(st.Partitions) > 0 && g.r.IntN(2) == 0:
		st.Maxlag = st.Partitions[0]
	case g.r.IntN(2) == 0:
		st.Maxlag = g.partition()
	}
	return st
}

func (g gen) topics() protocol.ConsumerTopics {
	if g.r.IntN(10) == 0 {
		return nil
	}
	ct := protocol.ConsumerTopics{}
	for range g.r.IntN(5) {
		var parts protocol.ConsumerPartitions
		if g.r.IntN(8) > 0 {
			parts = protocol.ConsumerPartitions{}
		}
		for range g.r.IntN(4) {
			if g.r.IntN(8) == 0 {
				parts = append(parts, nil)
				continue
			}
			p := &protocol.ConsumerPartition{Owner: g.str(), ClientID: g.str(), CurrentLag: g.u64(),
				BrokerOffsets: []int64{g.i64()}}
			switch g.r.IntN(3) {
			case 0: // nil
			case 1:
				p.Offsets = []*protocol.ConsumerOffset{}
			default:
				for range g.r.IntN(4) + 1 {
					p.Offsets = append(p.Offsets, g.offset())
				}
			}
			parts = append(parts, p)
		}
		ct[g.str()] = parts
	}
	return ct
}

func (g gen) request() requestInfo { return requestInfo{URL: g.str(), Host: g.str()} }

func (g gen) ints() []int64 {
	if g.r.IntN(4) == 0 {
		return nil
	}
	l := make([]int64, g.r.IntN(6))
	for i := range l {
		l[i] = g.i64()
	}
	return l
}

// reply returns a random reply of a random type that appends its own JSON.
func (g gen) reply() appender {
	switch g.r.IntN(8) {
	case 0:
		return errorReply{Error: g.r.IntN(2) == 0, Message: g.str(), Request: g.request()}
	case 1:
		return clusterListReply{Message: g.str(), Clusters: g.strs(), Request: g.request()}
	case 2:
		return topicListReply{Message: g.str(), Topics: g.strs(), Request: g.request()}
	case 3:
		return topicDetailReply{Message: g.str(), Offsets: g.ints(), Request: g.request()}
	case 4:
		return consumersReply{Message: g.str(), Consumers: g.strs(), Request: g.request()}
	case 5:
		return levelReply{Message: g.str(), Level: g.str(), Request: g.request()}
	case 6:
		return consumerDetailReply{Message: g.str(), Topics: g.topics(), Request: g.request()}
	}
	return statusReply{Error: g.r.IntN(2) == 0, Message: g.str(), Status: g.status(), Request: g.request()}
}

// sameAsEncodingJSON fails t unless v appends exactly what json.Marshal
// writes for it.
func sameAsEncodingJSON(t *testing.T, v appender) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding/json: %v for %#v", err, v)
	}
	got, err := v.appendJSON([]byte("prefix"))
	if err != nil {
		t.Fatalf("appendJSON: %v for %#v", err, v)
	}
	if !bytes.Equal(got[len("prefix"):], want) || string(got[:len("prefix")]) != "prefix" {
		t.Fatalf("appendJSON of %#v\n got %q\nwant %q", v, got, want)
	}
}

// TestEncodeDifferential: for 20,000 random replies of every type that
// appends its own JSON, the bytes are those of encoding/json.
func TestEncodeDifferential(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(11, 1))}
	for range 20000 {
		sameAsEncodingJSON(t, g.reply())
	}
}

// TestAppendFloat: floats alone, 200,000 of them, as encoding/json writes
// them as float32 and float64 members.
func TestAppendFloat(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(11, 2))}
	for range 200000 {
		f32, f64 := g.f32(), g.f64()
		want, _ := json.Marshal(struct {
			A float32
			B float64
		}{f32, f64})
		b := []byte(`{"A":`)
		b, _ = appendFloat(b, float64(f32), 32)
		b = append(b, `,"B":`...)
		b, _ = appendFloat(b, f64, 64)
		b = append(b, '}')
		if !bytes.Equal(b, want) {
			t.Fatalf("float32 %v (%#x), float64 %v (%#x)\n got %s\nwant %s", f32, math.Float32bits(f32), f64,
				math.Float64bits(f64), b, want)
		}
	}
}

// TestEncodeNotFinite: encoding/json cannot write NaN or an infinity. A
// complete that is one fails the reply with encoding/json's 500, as before;
// a lag in time that is one is left out, as a lag that could not be told,
// instead of failing the reply of the whole group.
func TestEncodeNotFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		ps := &protocol.PartitionStatus{Topic: "t", Status: protocol.StatusOK, Complete: 1, LagSeconds: &bad}
		st := &protocol.ConsumerGroupStatus{Cluster: "c", Group: "g", Status: protocol.StatusOK, Complete: 1,
			Partitions: []*protocol.PartitionStatus{ps}, Maxlag: ps}
		if _, err := json.Marshal(st); err == nil {
			t.Fatalf("encoding/json wrote %v", bad)
		}
		got, err := statusReply{Status: st}.appendJSON(nil)
		ps.LagSeconds = nil
		want, _ := json.Marshal(statusReply{Status: st})
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("lag_seconds %v: %v\n got %s\nwant %s", bad, err, got, want)
		}

		ps.Complete = float32(bad)
		s := New(Options{Config: &config.Config{}, Host: "h"})
		w := httptest.NewRecorder()
		s.reply(w, nil, http.StatusOK, statusReply{Status: st})
		if w.Code != http.StatusInternalServerError || w.Body.String() != `{"error":true,"message":"could not encode JSON","result":{}}` {
			t.Errorf("complete %v: %d %s", bad, w.Code, w.Body)
		}
	}
}

// FuzzEncodeStatus compares a status reply built from the fuzzer's strings
// and numbers with encoding/json's. Its seeds run as a unit test.
func FuzzEncodeStatus(f *testing.F) {
	for i, s := range hostile {
		f.Add(s, hostile[(i+1)%len(hostile)], hostile[(i+2)%len(hostile)], float32(i)/3, float64(i)*1.001, int64(i)*1e12,
			uint64(1)<<i, i-1)
	}
	f.Add("", "", "", float32(1e-7), 1e21, int64(math.MinInt64), uint64(math.MaxUint64), 100)
	f.Fuzz(func(t *testing.T, topic, owner, why string, complete float32, lagSeconds float64, offset int64, lag uint64, status int) {
		ps := &protocol.PartitionStatus{Topic: topic, Partition: int32(offset), Owner: owner, ClientID: why + owner,
			Status: protocol.StatusConstant(status), Start: &protocol.ConsumerOffset{Offset: offset, Timestamp: -offset,
				ObservedTimestamp: int64(lag), Lag: &protocol.Lag{Value: lag}}, CurrentLag: lag, Complete: complete,
			Why: why, LagSeconds: &lagSeconds, LagEstimated: status%2 == 0}
		st := &protocol.ConsumerGroupStatus{Cluster: owner, Group: topic, Status: protocol.StatusConstant(-status),
			Complete: complete, Partitions: []*protocol.PartitionStatus{ps, nil}, TotalPartitions: status, Maxlag: ps, TotalLag: lag}
		r := statusReply{Message: why, Status: st, Request: requestInfo{URL: "/" + topic, Host: owner}}
		got, err := r.appendJSON(nil)
		if !isFinite(float64(complete)) {
			if err == nil {
				t.Fatalf("complete %v encoded: %s", complete, got)
			}
			return
		}
		if !isFinite(lagSeconds) {
			ps.LagSeconds = nil // left out, see TestEncodeNotFinite
		}
		want, werr := json.Marshal(r)
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			t.Fatalf("%v, %v\n got %q\nwant %q", err, werr, got, want)
		}
	})
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// TestReplyAllocs pins what the encoding path of /lag allocates: the reply
// boxed as an interface and the Content-Length header (its string and its
// slice); the body goes into a pooled buffer, written in one Write.
func TestReplyAllocs(t *testing.T) {
	var parts []*protocol.PartitionStatus
	for i := range 500 {
		sec := float64(i) / 3
		parts = append(parts, &protocol.PartitionStatus{Topic: "orders", Partition: int32(i), Owner: "/10.1.2.3",
			ClientID: "client-A", Status: protocol.StatusWarning, Start: &protocol.ConsumerOffset{Offset: 1, Lag: &protocol.Lag{}},
			End: &protocol.ConsumerOffset{Offset: 2}, CurrentLag: 300, Complete: 0.6666667, Why: "WARN: <lag> & more", LagSeconds: &sec})
	}
	st := &protocol.ConsumerGroupStatus{Cluster: "local", Group: "grp", Status: protocol.StatusWarning, Complete: 1,
		Partitions: parts, TotalPartitions: 500, Maxlag: parts[0], TotalLag: 150000}
	cfg := &config.Config{}
	cfg.General.AccessControlAllowOrigin = "*"
	s := New(Options{Config: cfg, Host: "burrow01"})
	w := &discard{h: http.Header{}}
	s.reply(w, nil, http.StatusOK, statusReply{Status: st}) // fills the pool
	if n := testing.AllocsPerRun(100, func() {
		s.reply(w, nil, http.StatusOK, statusReply{Message: "consumer status returned", Status: st})
	}); n > 3 && !raceEnabled { // the race detector's sync.Pool drops buffers at random
		t.Errorf("%v allocations per reply, want at most 3", n)
	}
	w.n = 0
	s.reply(w, nil, http.StatusOK, statusReply{Message: "consumer status returned", Status: st})
	if w.code != http.StatusOK || w.h.Get("Content-Length") != strconv.Itoa(w.n) || w.h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("status %d, headers %v, %d bytes", w.code, w.h, w.n)
	}
}
