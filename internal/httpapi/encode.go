package httpapi

import (
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/warrenlag/warren/internal/decimal"
	"github.com/warrenlag/warren/protocol"
)

// This file writes the bodies of the /v3/kafka routes without reflection:
// each reply type appends its JSON to a byte slice, byte for byte what
// encoding/json's Marshal writes for the same value (field order and names
// from the struct tags, nil slices and pointers as null, omitempty, HTML-safe
// strings, Go's float formatting). TestEncodeDifferential and
// FuzzEncodeStatus hold it to that. The configuration routes, small and
// rarely asked, keep encoding/json.

// appender is a reply that writes its own JSON.
type appender interface {
	appendJSON(b []byte) ([]byte, error)
}

// errNotFinite is what encoding/json refuses too: NaN and infinities have no
// JSON form.
var errNotFinite = errors.New("json: unsupported value: NaN or infinity")

// safeASCII says which ASCII bytes a JSON string holds as they are: all but
// the control characters, '"' and '\\', and, as encoding/json writes HTML-safe
// strings, '<', '>' and '&'.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json escapes
// it: short escapes for '"', '\\', \b, \f, \n, \r and \t; \u00XX for other
// control characters and for '<', '>' and '&'; \ufffd for each byte of
// invalid UTF-8; \u2028 and \u2029, which JavaScript reads as line ends.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0 // s[start:i] is safe and not yet appended
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat appends f as encoding/json writes a float of the given bits
// (32 or 64): the shortest decimal that reads back as the same value, in
// plain notation, or in exponent notation with at least one exponent digit
// below 1e-6 and from 1e21 up.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, errNotFinite
	}
	if out, ok := appendMillis(b, f, bits); ok {
		return out, nil
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 {
		// The bounds are compared in the float's own precision: the float32
		// nearest to 1e-6 is below 1e-6 as a float64, yet written 0.000001.
		if bits == 32 && (float32(a) < 1e-6 || float32(a) >= 1e21) || bits == 64 && (a < 1e-6 || a >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// strconv writes two exponent digits at least (1e-07); JSON as Go
		// writes it, one (1e-7).
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// appendMillis is appendFloat's fast path for the numbers the routes write
// most: whole numbers (complete 0 and 1) and lags in time, which are whole
// milliseconds. When f is exactly the double nearest to D = m/1000 for a
// whole m, and f's ulp is well under 0.001, every other decimal of at most
// as many digits as D (trailing zeros dropped) is at least 0.001 from D and
// so does not read back as f: D is the shortest form strconv would find. A
// float32 nearest to D as a double is the float32 nearest to D as well; its
// ulp is under 0.001 only below 8,192, hence the lower bound for 32 bits.
// Anything else is left to strconv: ok is false.
func appendMillis(b []byte, f float64, bits int) ([]byte, bool) {
	limit := 1e9
	if bits == 32 {
		limit = 1024
	}
	if !(f >= 0 && f < limit) || f == 0 && math.Signbit(f) {
		return b, false
	}
	m := math.Round(f * 1000)
	if m/1000 != f {
		return b, false
	}
	u := uint64(m)
	b = decimal.AppendUint(b, u/1000)
	frac := u % 1000
	if frac == 0 {
		return b, true
	}
	d := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 4
	for d[n-1] == '0' {
		n--
	}
	return append(b, d[:n]...), true
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendStrings appends a string list; nil is null, as encoding/json writes it.
func appendStrings(b []byte, l []string) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendInts(b []byte, l []int64) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = decimal.AppendInt(b, v)
	}
	return append(b, ']')
}

// appendRequest appends `"request":{...}}`, the end of every reply but the
// configuration ones.
func appendRequest(b []byte, ri requestInfo) []byte {
	b = append(b, `"request":{"url":`...)
	b = appendString(b, ri.URL)
	b = append(b, `,"host":`...)
	b = appendString(b, ri.Host)
	return append(b, "}}"...)
}

// appendHead appends `{"error":E,"message":M,`, the start of most replies.
func appendHead(b []byte, isError bool, message string) []byte {
	b = append(b, `{"error":`...)
	b = appendBool(b, isError)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	return append(b, ',')
}

func (r errorReply) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, r.Error, r.Message)
	return appendRequest(b, r.Request), nil
}

func (r clusterListReply) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, r.Error, r.Message)
	b = append(b, `"clusters":`...)
	b = appendStrings(b, r.Clusters)
	return appendRequest(append(b, ','), r.Request), nil
}

func (r topicListReply) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, r.Error, r.Message)
	b = append(b, `"topics":`...)
	b = appendStrings(b, r.Topics)
	return appendRequest(append(b, ','), r.Request), nil
}

func (r topicDetailReply) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, r.Error, r.Message)
	b = append(b, `"offsets":`...)
	b = appendInts(b, r.Offsets)
	return appendRequest(append(b, ','), r.Request), nil
}

func (r consumersReply) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, r.Error, r.Message)
	b = append(b, `"consumers":`...)
	b = appendStrings(b, r.Consumers)
	return appendRequest(append(b, ','), r.Request), nil
}

func (r levelReply) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, r.Error, r.Message)
	b = append(b, `"level":`...)
	b = appendString(b, r.Level)
	return appendRequest(append(b, ','), r.Request), nil
}

func (r consumerDetailReply) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, r.Error, r.Message)
	b = append(b, `"topics":`...)
	b = appendConsumerTopics(b, r.Topics)
	return appendRequest(append(b, ','), r.Request), nil
}

func (r statusReply) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, r.Error, r.Message)
	b = append(b, `"status":`...)
	b, err := appendGroupStatus(b, r.Status)
	if err != nil {
		return b, err
	}
	return appendRequest(append(b, ','), r.Request), nil
}

// appendConsumerTopics appends a group's partitions by topic, the topics in
// byte order of their names as encoding/json sorts map keys.
func appendConsumerTopics(b []byte, ct protocol.ConsumerTopics) []byte {
	if ct == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, topic := range slices.Sorted(maps.Keys(ct)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, topic)
		b = append(b, ':')
		b = appendConsumerPartitions(b, ct[topic])
	}
	return append(b, '}')
}

func appendConsumerPartitions(b []byte, parts protocol.ConsumerPartitions) []byte {
	if parts == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		if p == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, `{"offsets":`...)
		if p.Offsets == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for j, o := range p.Offsets {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendOffset(b, o)
			}
			b = append(b, ']')
		}
		b = append(b, `,"owner":`...)
		b = appendString(b, p.Owner)
		b = append(b, `,"client_id":`...)
		b = appendString(b, p.ClientID)
		b = append(b, `,"current-lag":`...)
		b = decimal.AppendUint(b, p.CurrentLag)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendOffset appends a commit, or null.
func appendOffset(b []byte, o *protocol.ConsumerOffset) []byte {
	if o == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"offset":`...)
	b = decimal.AppendInt(b, o.Offset)
	b = append(b, `,"timestamp":`...)
	b = decimal.AppendInt(b, o.Timestamp)
	b = append(b, `,"observedAt":`...)
	b = decimal.AppendInt(b, o.ObservedTimestamp)
	b = append(b, `,"lag":`...)
	if o.Lag == nil {
		b = append(b, "null"...)
	} else {
		b = decimal.AppendUint(b, o.Lag.Value)
	}
	return append(b, '}')
}

// appendStatusName appends a status as its MarshalJSON writes it.
func appendStatusName(b []byte, c protocol.StatusConstant) []byte {
	return appendString(b, c.String())
}

// appendGroupStatus appends a group's evaluation, or null. It fails, as
// encoding/json does, only on a NaN or infinite complete.
func appendGroupStatus(b []byte, st *protocol.ConsumerGroupStatus) ([]byte, error) {
	if st == nil {
		return append(b, "null"...), nil
	}
	b = append(b, `{"cluster":`...)
	b = appendString(b, st.Cluster)
	b = append(b, `,"group":`...)
	b = appendString(b, st.Group)
	b = append(b, `,"status":`...)
	b = appendStatusName(b, st.Status)
	b = append(b, `,"complete":`...)
	b, err := appendFloat(b, float64(st.Complete), 32)
	if err != nil {
		return b, err
	}
	b = append(b, `,"partitions":`...)
	if st.Partitions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, ps := range st.Partitions {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendPartitionStatus(b, ps); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"partition_count":`...)
	b = decimal.AppendInt(b, int64(st.TotalPartitions))
	b = append(b, `,"maxlag":`...)
	if b, err = appendPartitionStatus(b, st.Maxlag); err != nil {
		return b, err
	}
	b = append(b, `,"totallag":`...)
	b = decimal.AppendUint(b, st.TotalLag)
	return append(b, '}'), nil
}

// appendPartitionStatus appends a partition's evaluation, or null. Warren's
// additions are left out when unset, as their omitempty tags say; a lag in
// time that is NaN or infinite, which encoding/json cannot write at all, is
// left out too (it could not be told), so that one bad number does not turn
// the whole reply into an error.
func appendPartitionStatus(b []byte, ps *protocol.PartitionStatus) ([]byte, error) {
	if ps == nil {
		return append(b, "null"...), nil
	}
	b = append(b, `{"topic":`...)
	b = appendString(b, ps.Topic)
	b = append(b, `,"partition":`...)
	b = decimal.AppendInt(b, int64(ps.Partition))
	b = append(b, `,"owner":`...)
	b = appendString(b, ps.Owner)
	b = append(b, `,"client_id":`...)
	b = appendString(b, ps.ClientID)
	b = append(b, `,"status":`...)
	b = appendStatusName(b, ps.Status)
	b = append(b, `,"start":`...)
	b = appendOffset(b, ps.Start)
	b = append(b, `,"end":`...)
	b = appendOffset(b, ps.End)
	b = append(b, `,"current_lag":`...)
	b = decimal.AppendUint(b, ps.CurrentLag)
	b = append(b, `,"complete":`...)
	b, err := appendFloat(b, float64(ps.Complete), 32)
	if err != nil {
		return b, err
	}
	if ps.Why != "" {
		b = append(b, `,"why":`...)
		b = appendString(b, ps.Why)
	}
	if ps.LagSeconds != nil {
		if f := *ps.LagSeconds; !math.IsNaN(f) && !math.IsInf(f, 0) {
			b = append(b, `,"lag_seconds":`...)
			b, _ = appendFloat(b, f, 64)
		}
	}
	if ps.LagEstimated {
		b = append(b, `,"lag_estimated":true`...)
	}
	return append(b, '}'), nil
}
