// Package state keeps Warren's state file: a snapshot of what Warren knows,
// written every minute and at Stop and read back at start, so that a restart
// loses no history.
//
// The file is a sequence of sections, each a kind (a short name such as
// "offsets.groups") and an opaque payload that the package owning the kind
// encodes and decodes. This package frames the sections, checks them and writes
// the file atomically; it knows nothing of what they hold. A kind the reader
// does not know is skipped, so packages add kinds without changing the framing.
//
// The layout, all integers unsigned varints unless said otherwise:
//
//	header   "WARREN\x00S" (8 bytes), version (uint32, big endian)
//	section  len(kind) (1..255), kind, len(data), data, CRC-32C (uint32, LE)
//	         of everything from len(kind) to the end of data
//	...
//	end      0 (an empty kind), number of sections, CRC-32C (uint32, LE) of
//	         the header and of the end frame up to the CRC
//
// A checksum per section, rather than one for the whole file, lets a reader
// name the section that is damaged, and lets the same sections travel one by one
// as records of a compacted Kafka topic (docs/architecture.md). The end frame
// tells a file cut at a section boundary from a whole one.
package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"iter"
)

// Version is the format version this package writes. It reads this version and
// older ones.
const Version = 1

// magic opens every state file.
const magic = "WARREN\x00S"

const headerLen = len(magic) + 4

// MaxKind is the longest section kind.
const MaxKind = 255

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The reasons a file is bad. Read wraps one of them; Reason names it for
// metrics.
var (
	ErrTruncated     = errors.New("truncated")
	ErrCorrupt       = errors.New("corrupt")
	ErrForeign       = errors.New("not a Warren state file")
	ErrFutureVersion = errors.New("written by a newer Warren")
	ErrTooLarge      = errors.New("larger than the size limit")
)

// Reason returns the metric label of a bad file's error: "truncated",
// "corrupt", "foreign", "future_version", "too_large", or "unreadable" for
// any other error.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrTruncated):
		return "truncated"
	case errors.Is(err, ErrCorrupt):
		return "corrupt"
	case errors.Is(err, ErrForeign):
		return "foreign"
	case errors.Is(err, ErrFutureVersion):
		return "future_version"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	}
	return "unreadable"
}

// Section is one section of a snapshot. Data belongs to the Snapshot it came
// from.
type Section struct {
	Kind string
	Data []byte
}

// Snapshot is a state file read back and checked.
type Snapshot struct {
	// Version is the format version the file was written in.
	Version  uint32
	Sections []Section
}

// All yields the kind and data of every section, in the order they were
// written: the form that Restore methods take.
func (s *Snapshot) All() iter.Seq2[string, []byte] {
	return func(yield func(string, []byte) bool) {
		if s == nil {
			return
		}
		for _, sec := range s.Sections {
			if !yield(sec.Kind, sec.Data) {
				return
			}
		}
	}
}

// Parse checks a whole state file held in b and returns its sections, whose
// Data alias b. It allocates at most in proportion to len(b), whatever b holds.
func Parse(b []byte) (*Snapshot, error) {
	switch {
	case len(b) < len(magic) && string(b) == magic[:len(b)]:
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrTruncated, len(b))
	case len(b) < len(magic) || string(b[:len(magic)]) != magic:
		return nil, ErrForeign
	case len(b) < headerLen:
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrTruncated, len(b))
	}
	snap := &Snapshot{Version: binary.BigEndian.Uint32(b[len(magic):headerLen])}
	if snap.Version == 0 {
		return nil, fmt.Errorf("%w: version 0", ErrCorrupt)
	}
	if snap.Version > Version {
		return nil, fmt.Errorf("%w: format version %d, this Warren reads up to %d", ErrFutureVersion, snap.Version, Version)
	}
	rest := b[headerLen:]
	for {
		start := rest
		klen, n := binary.Uvarint(rest)
		if n <= 0 {
			return nil, frameErr(rest, n, len(snap.Sections))
		}
		rest = rest[n:]
		if klen == 0 {
			return snap, endFrame(b[:headerLen], start, rest, len(snap.Sections))
		}
		if klen > MaxKind {
			return nil, fmt.Errorf("%w: section %d: kind of %d bytes", ErrCorrupt, len(snap.Sections), klen)
		}
		if uint64(len(rest)) < klen {
			return nil, fmt.Errorf("%w: in section %d", ErrTruncated, len(snap.Sections))
		}
		kind := rest[:klen]
		rest = rest[klen:]
		dlen, n := binary.Uvarint(rest)
		if n <= 0 {
			return nil, frameErr(rest, n, len(snap.Sections))
		}
		rest = rest[n:]
		if uint64(len(rest)) < dlen || uint64(len(rest))-dlen < 4 {
			return nil, fmt.Errorf("%w: in section %d (%q)", ErrTruncated, len(snap.Sections), kind)
		}
		data := rest[:dlen]
		rest = rest[dlen:]
		framed := start[:len(start)-len(rest)]
		if crc32.Checksum(framed, castagnoli) != binary.LittleEndian.Uint32(rest) {
			return nil, fmt.Errorf("%w: checksum of section %d (%q)", ErrCorrupt, len(snap.Sections), kind)
		}
		rest = rest[4:]
		snap.Sections = append(snap.Sections, Section{Kind: string(kind), Data: data})
	}
}

// frameErr says why a varint of a frame could not be read: the file ends
// (truncated) or the value overflows (corrupt).
func frameErr(rest []byte, n, section int) error {
	if n == 0 {
		return fmt.Errorf("%w: in the frame of section %d", ErrTruncated, section)
	}
	return fmt.Errorf("%w: frame of section %d", ErrCorrupt, section)
}

// endFrame checks the end frame, which starts at start; rest follows its
// empty kind.
func endFrame(header, start, rest []byte, sections int) error {
	count, n := binary.Uvarint(rest)
	if n <= 0 {
		return frameErr(rest, n, sections)
	}
	rest = rest[n:]
	if len(rest) < 4 {
		return fmt.Errorf("%w: in the end frame", ErrTruncated)
	}
	framed := start[:len(start)-len(rest)]
	crc := crc32.Update(crc32.Checksum(header, castagnoli), castagnoli, framed)
	switch {
	case crc != binary.LittleEndian.Uint32(rest):
		return fmt.Errorf("%w: checksum of the header and end frame", ErrCorrupt)
	case count != uint64(sections):
		return fmt.Errorf("%w: the end frame counts %d sections, the file has %d", ErrCorrupt, count, sections)
	case len(rest) > 4:
		return fmt.Errorf("%w: %d bytes after the end frame", ErrCorrupt, len(rest)-4)
	}
	return nil
}

// appendHeader appends the file header.
func appendHeader(b []byte) []byte {
	b = append(b, magic...)
	return binary.BigEndian.AppendUint32(b, Version)
}

// appendSectionFrame appends the frame of a section up to its data.
func appendSectionFrame(b []byte, kind string, dataLen int) []byte {
	b = binary.AppendUvarint(b, uint64(len(kind)))
	b = append(b, kind...)
	return binary.AppendUvarint(b, uint64(dataLen))
}

// appendEnd appends the end frame; headerCRC is the CRC-32C of the header.
func appendEnd(b []byte, headerCRC uint32, sections int) []byte {
	start := len(b)
	b = append(b, 0)
	b = binary.AppendUvarint(b, uint64(sections))
	return binary.LittleEndian.AppendUint32(b, crc32.Update(headerCRC, castagnoli, b[start:]))
}
