package format

// Wire helpers. Every value is a uvarint (encoding/binary), a zigzag varint for
// signed values, or a single byte; strings are uvarint indexes into the string table.
// Varints make the common small values one byte, and a uvarint can never claim more
// bytes than it has, so the decoder needs no length checks beyond binary.Uvarint's.
//
// The encoder appends to one buffer. The decoder reads one section's payload and keeps
// the first error (an *Error naming the section and the file offset), returning zero
// values after it, so record decoders read straight through and the caller checks
// d.err once per record.

import (
	"encoding/binary"
	"math"
)

type encoder struct {
	buf     []byte
	strings map[string]uint32 // string → index in the table; "" is always 0
	table   []string          // the table, in first-use order
}

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) varint(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) u8(v uint8)       { e.buf = append(e.buf, v) }

func (e *encoder) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

// str writes s's index, adding s to the table on first use. First-use order is
// deterministic because the sections are encoded in a fixed order from a sorted
// profile.
func (e *encoder) str(s string) {
	i, ok := e.strings[s]
	if !ok {
		i = uint32(len(e.table))
		e.strings[s] = i
		e.table = append(e.table, s)
	}
	e.uvarint(uint64(i))
}

func (e *encoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

type decoder struct {
	buf  []byte   // the section's payload
	off  int      // next byte to read in buf
	base int64    // file offset of buf[0]
	name string   // section name, for errors
	strs []string // the string table (empty while decoding it)
	err  error    // the first fault, an *Error

	// want and found locate a record for an error found later by Validate: when
	// want >= 0, mark stores the file offset of record want in found.
	want  int
	found int64
}

func newDecoder(sec rawSection, strs []string) *decoder {
	return &decoder{buf: sec.payload, base: sec.payloadOffset(), name: sec.kind.String(), strs: strs, want: -1, found: -1}
}

// fail records the first fault, at the current offset.
func (d *decoder) fail(kind error, format string, args ...any) {
	if d.err == nil {
		d.err = &Error{Section: d.name, Record: -1, Offset: d.base + int64(d.off), Err: errorf(kind, format, args...)}
	}
}

func (d *decoder) remaining() int { return len(d.buf) - d.off }

func (d *decoder) mark(i int) {
	if i == d.want {
		d.found = d.base + int64(d.off)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if !d.advanceVarint(n) {
		return 0
	}
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.off:])
	if !d.advanceVarint(n) {
		return 0
	}
	return v
}

// advanceVarint moves past a varint of n bytes as binary.Uvarint or Varint reported
// it, or records why there is none (n == 0: the input ended; n < 0: over 64 bits).
func (d *decoder) advanceVarint(n int) bool {
	switch {
	case n == 0:
		d.fail(ErrTruncated, "truncated varint")
		return false
	case n < 0:
		d.fail(ErrCorrupt, "varint overflows 64 bits")
		return false
	}
	d.off += n
	return true
}

func (d *decoder) u8() uint8 {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.buf) {
		d.fail(ErrTruncated, "truncated byte")
		return 0
	}
	v := d.buf[d.off]
	d.off++
	return v
}

func (d *decoder) bool() bool {
	at := d.off
	switch v := d.u8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.off = at
		d.fail(ErrCorrupt, "boolean byte %d, want 0 or 1", v)
		return false
	}
}

// u32 reads a uvarint that must fit a uint32 (indexes, LocIDs).
func (d *decoder) u32() uint32 {
	at := d.off
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.off = at
		d.fail(ErrCorrupt, "value %d overflows 32 bits", v)
		return 0
	}
	return uint32(v)
}

// i32 reads a zigzag varint that must fit an int32.
func (d *decoder) i32() int32 {
	at := d.off
	v := d.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.off = at
		d.fail(ErrCorrupt, "value %d overflows 32 bits", v)
		return 0
	}
	return int32(v)
}

// int reads a zigzag varint that must fit an int.
func (d *decoder) int() int {
	at := d.off
	v := d.varint()
	if int64(int(v)) != v {
		d.off = at
		d.fail(ErrCorrupt, "value %d overflows int", v)
		return 0
	}
	return int(v)
}

// count reads a record count and refuses one the remaining bytes cannot hold, given
// that one record takes at least minSize bytes: a corrupt count of 1e12 must fail
// here, before anything is allocated for it.
func (d *decoder) count(minSize int) int {
	at := d.off
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if limit := uint64(d.remaining() / max(minSize, 1)); n > limit {
		d.off = at
		d.fail(ErrCorrupt, "count %d exceeds what the remaining %d bytes can hold (at most %d)", n, d.remaining(), limit)
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	at := d.off
	i := d.uvarint()
	if d.err != nil {
		return ""
	}
	if i >= uint64(len(d.strs)) {
		d.off = at
		d.fail(ErrCorrupt, "string index %d out of range (the table has %d)", i, len(d.strs))
		return ""
	}
	return d.strs[i]
}

// strs reads a counted list of strings; nil when empty, as the encoder's input
// usually is, so that round trips compare equal.
func (d *decoder) strList() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.str()
	}
	return ss
}

// end fails if the section has bytes the decoder did not read: a record layout
// mismatch, which would otherwise pass silently.
func (d *decoder) end() {
	if d.err == nil && d.off != len(d.buf) {
		d.fail(ErrCorrupt, "%d unread bytes at the end of the section", len(d.buf)-d.off)
	}
}
