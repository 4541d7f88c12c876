package state

import (
	"encoding/binary"
	"errors"
	"math"
)

// The helpers below encode and decode the payloads of sections. A payload is
// usually a sequence of records, each a 4-byte little-endian length and its
// bytes, so that a reader can skip a record it cannot use and a record can
// later travel alone as a Kafka message.

// ErrMalformed is the error of a Decoder that read past its bytes or met a
// value out of range.
var ErrMalformed = errors.New("malformed record")

// Decoder reads values from a payload, never past its end. After the first
// error every read returns a zero value and Err reports the error, so a caller
// checks once per record. Counts and lengths are checked against the bytes
// left, so no value read makes a caller allocate more than the payload could
// hold.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a decoder of b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns the number of bytes left.
func (d *Decoder) Len() int { return len(d.b) }

// Fail records err (when it is the first error) and empties the decoder.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.Fail(ErrMalformed)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a zigzag-encoded signed varint.
func (d *Decoder) Varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.Fail(ErrMalformed)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Count reads a count of items that each take at least minBytes of what
// follows, and fails when the bytes left cannot hold them or the count
// exceeds max.
func (d *Decoder) Count(minBytes, max int) int {
	v := d.Uvarint()
	if v > uint64(max) || (minBytes > 0 && v > uint64(len(d.b)/minBytes)) {
		d.Fail(ErrMalformed)
		return 0
	}
	return int(v)
}

// Bytes reads a length-prefixed byte string, which aliases the payload.
func (d *Decoder) Bytes() []byte {
	n := d.Uvarint()
	if n > uint64(len(d.b)) {
		d.Fail(ErrMalformed)
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// String reads a length-prefixed string.
func (d *Decoder) String() string { return string(d.Bytes()) }

// Record reads a record (a 4-byte little-endian length and its bytes) and
// returns a decoder of its bytes.
func (d *Decoder) Record() Decoder {
	if len(d.b) < 4 {
		d.Fail(ErrMalformed)
		return Decoder{err: ErrMalformed}
	}
	n := binary.LittleEndian.Uint32(d.b)
	if uint64(n) > uint64(len(d.b)-4) {
		d.Fail(ErrMalformed)
		return Decoder{err: ErrMalformed}
	}
	r := Decoder{b: d.b[4 : 4+n : 4+n]}
	d.b = d.b[4+n:]
	return r
}

// AppendString appends a length-prefixed string.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// StartRecord appends the room for a record's length and returns where it is;
// EndRecord fills it in once the record's bytes are appended.
func StartRecord(b []byte) ([]byte, int) {
	return append(b, 0, 0, 0, 0), len(b)
}

// EndRecord sets the length of the record started at at.
func EndRecord(b []byte, at int) []byte {
	n := len(b) - at - 4
	if n > math.MaxUint32 {
		panic("state: record longer than 4 GiB")
	}
	binary.LittleEndian.PutUint32(b[at:], uint32(n))
	return b
}

// Records calls fn with each record of a section's data, in order. It
// reports false when the data stops being records (a length beyond the bytes
// left), after the whole ones before: the rest of the section cannot be
// found, and the caller counts it malformed.
func Records(data []byte, fn func(rec *Decoder)) bool {
	d := NewDecoder(data)
	for d.Len() > 0 {
		rec := d.Record()
		if d.Err() != nil {
			return false
		}
		fn(&rec)
	}
	return true
}
