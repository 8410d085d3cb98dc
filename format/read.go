package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Reading happens in three layers, each trusting only what the one before checked:
//
//  1. readRaw splits the bytes into sections: magic, version, section headers,
//     lengths against the bytes present, checksums, the end section. It interprets no
//     payload.
//  2. decode turns known sections into a Profile, in dependency order (the string
//     table first), bounding every count by the bytes left in its section.
//  3. Validate checks what decoding cannot: indexes and IDs that refer to other
//     sections.
//
// Every fault is an *Error naming the section and the file offset.

// sectionHeaderSize is kind (uint16), flags (uint16), payload length (uint64).
const sectionHeaderSize = 2 + 2 + 8

// crcSize is the CRC-32C that follows each payload; it covers the header and payload.
const crcSize = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// rawSection is one section as found in the file, uninterpreted.
type rawSection struct {
	kind    Kind
	flags   uint16
	offset  int64  // file offset of the section header
	payload []byte // aliases the file's bytes
}

func (s rawSection) payloadOffset() int64 { return s.offset + sectionHeaderSize }

// readRaw checks the file's framing and returns its sections, without the end section.
func readRaw(data []byte) (version uint32, secs []rawSection, err error) {
	if len(data) == 0 {
		return 0, nil, &Error{Record: -1, Offset: 0, Err: errorf(ErrNotProfile, "empty file")}
	}
	if len(data) < len(Magic) || string(data[:len(Magic)]) != Magic {
		n := min(len(data), len(Magic))
		return 0, nil, &Error{Record: -1, Offset: 0, Err: errorf(ErrNotProfile, "not a coroutine profile: starts with %q, want %q", data[:n], Magic)}
	}
	if len(data) < headerSize {
		return 0, nil, &Error{Record: -1, Offset: int64(len(Magic)), Err: errorf(ErrTruncated, "truncated header: %d bytes, want %d", len(data), headerSize)}
	}
	version = binary.LittleEndian.Uint32(data[len(Magic):])
	if version != Version {
		return version, nil, &Error{Record: -1, Offset: int64(len(Magic)), Err: errorf(ErrVersion, "unsupported profile version %d (this reader knows %d)", version, Version)}
	}
	off := headerSize
	for {
		if off == len(data) {
			return version, nil, &Error{Record: -1, Offset: int64(off), Err: errorf(ErrTruncated, "truncated: the file ends after %d sections without an end section", len(secs))}
		}
		rest := data[off:]
		if len(rest) < sectionHeaderSize {
			return version, nil, &Error{Record: -1, Offset: int64(off), Err: errorf(ErrTruncated, "truncated section header: %d bytes, want %d", len(rest), sectionHeaderSize)}
		}
		s := rawSection{
			kind:   Kind(binary.LittleEndian.Uint16(rest)),
			flags:  binary.LittleEndian.Uint16(rest[2:]),
			offset: int64(off),
		}
		name := s.kind.String()
		length := binary.LittleEndian.Uint64(rest[4:])
		if avail := uint64(len(rest) - sectionHeaderSize); avail < crcSize || length > avail-crcSize {
			return version, nil, &Error{Section: name, Record: -1, Offset: int64(off), Err: errorf(ErrTruncated, "truncated: the section claims %d bytes and its checksum, %d remain", length, avail)}
		}
		end := sectionHeaderSize + int(length)
		s.payload = rest[sectionHeaderSize:end:end]
		stored := binary.LittleEndian.Uint32(rest[end:])
		if sum := crc32.Checksum(rest[:end], castagnoli); sum != stored {
			return version, nil, &Error{Section: name, Record: -1, Offset: int64(off), Err: errorf(ErrChecksum, "checksum mismatch (stored %08x, computed %08x)", stored, sum)}
		}
		if s.kind == KindInvalid {
			return version, nil, &Error{Section: name, Record: -1, Offset: int64(off), Err: errorf(ErrCorrupt, "section kind 0 is never written")}
		}
		off += end + crcSize
		if s.kind == KindEnd {
			if s.flags != 0 {
				return version, nil, &Error{Section: name, Record: -1, Offset: s.offset + 2, Err: errorf(ErrCorrupt, "end section flags %#x, want 0", s.flags)}
			}
			d := newDecoder(s, nil)
			n := decodeEnd(d)
			d.end()
			if d.err != nil {
				return version, nil, d.err
			}
			if n != uint64(len(secs)) {
				return version, nil, &Error{Section: name, Record: -1, Offset: s.payloadOffset(), Err: errorf(ErrCorrupt, "the end section counts %d sections, the file has %d", n, len(secs))}
			}
			if off != len(data) {
				return version, nil, &Error{Record: -1, Offset: int64(off), Err: errorf(ErrCorrupt, "%d bytes of trailing data after the end section", len(data)-off)}
			}
			return version, secs, nil
		}
		secs = append(secs, s)
	}
}

// decode turns the sections into a Profile. Unknown kinds flagged optional are
// skipped; unknown required kinds, unknown flags and repeated kinds are faults.
func decode(version uint32, secs []rawSection) (*Profile, *[numKinds]rawSection, error) {
	var known [numKinds]rawSection // by kind; offset 0 means absent (no section starts at 0)
	for _, s := range secs {
		if s.kind >= numKinds {
			if s.flags&FlagOptional != 0 {
				continue // a newer writer's detail this reader can do without, whatever its other flags
			}
			return nil, nil, &Error{Section: s.kind.String(), Record: -1, Offset: s.offset, Err: errorf(ErrCorrupt, "unknown required section kind %d (this reader knows 1 to %d; written by a newer writer?)", s.kind, numKinds-1)}
		}
		// On a known kind a flag this reader does not know might change how the
		// payload reads (compression, say): refuse rather than misread.
		if s.flags&^FlagOptional != 0 {
			return nil, nil, &Error{Section: s.kind.String(), Record: -1, Offset: s.offset + 2, Err: errorf(ErrCorrupt, "unknown section flags %#x", s.flags&^FlagOptional)}
		}
		if prev := known[s.kind]; prev.offset != 0 {
			return nil, nil, &Error{Section: s.kind.String(), Record: -1, Offset: s.offset, Err: errorf(ErrCorrupt, "a second %q section (the first is at offset %d)", s.kind, prev.offset)}
		}
		known[s.kind] = s
	}
	for k, spec := range kindSpecs {
		if spec.required && Kind(k) != KindEnd && known[k].offset == 0 {
			return nil, nil, &Error{Record: -1, Offset: -1, Err: errorf(ErrCorrupt, "no %q section", spec.name)}
		}
	}

	p := &Profile{Version: version}
	var strs []string
	if s := known[KindStrings]; s.offset != 0 {
		d := newDecoder(s, nil)
		strs = decodeStrings(d)
		if d.end(); d.err != nil {
			return nil, nil, d.err
		}
	} else {
		strs = []string{""}
	}
	for _, k := range writeOrder[1:] {
		s := known[k]
		if s.offset == 0 {
			continue // absent optional list: empty
		}
		d := newDecoder(s, strs)
		decodeSection(d, k, p)
		if d.end(); d.err != nil {
			return nil, nil, d.err
		}
	}
	return p, &known, nil
}

// decodeSection decodes one known section other than the string table into p.
func decodeSection(d *decoder, k Kind, p *Profile) {
	switch k {
	case KindMeta:
		decodeMeta(d, p)
	case KindLoops:
		p.Loops = decodeLoops(d)
	case KindFuncs:
		p.Funcs = decodeFuncs(d)
	case KindLocations:
		p.Locations = decodeLocations(d)
	case KindCoroutines:
		p.Coroutines = decodeCoroutines(d)
	case KindWaitSites:
		p.WaitSites = decodeWaitSites(d)
	case KindRegions:
		p.Regions = decodeRegions(d)
	case KindRegionEdges:
		p.RegionEdges = decodeRegionEdges(d)
	case KindSamples:
		p.Samples = decodeSamples(d)
	case KindSlices:
		p.SlicesDropped, p.Slices = decodeSlices(d)
	case KindLongSlices:
		p.LongSlices = decodeLongSlices(d)
	case KindRegionFuncs:
		decodeRegionFuncs(d, p.Regions)
	case KindRegionCoros:
		p.RegionCoros = decodeRegionCoros(d)
	default:
		panic(fmt.Sprintf("format: decodeSection(%v): not a list section", k)) // a bug in this package, not in the input
	}
}

// Decode reads a profile from data, the bytes Write wrote, with the same checks as
// Read. The Profile does not alias data: the caller may reuse it.
func Decode(data []byte) (*Profile, error) {
	version, secs, err := readRaw(data)
	if err != nil {
		return nil, err
	}
	p, known, err := decode(version, secs)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		locate(err, known, p)
		return nil, err
	}
	return p, nil
}

// locate fills in the file offset of the record a validation error is about, by
// decoding its section again up to that record: the decoders stay free of
// bookkeeping for a path taken only on bad input.
func locate(err error, known *[numKinds]rawSection, p *Profile) {
	var e *Error
	if !errors.As(err, &e) || e.Record < 0 {
		return
	}
	for k := range known {
		s := known[k]
		if s.offset == 0 || kindSpecs[k].name != e.Section || Kind(k) == KindStrings || Kind(k) == KindEnd {
			continue
		}
		strs := []string{""}
		if ts := known[KindStrings]; ts.offset != 0 {
			strs = decodeStrings(newDecoder(ts, nil))
		}
		d := newDecoder(s, strs)
		d.want = e.Record
		decodeSection(d, Kind(k), &Profile{})
		e.Offset = d.found
		return
	}
}

// MaxFileSize is the largest profile Read and ReadFile accept: 1 GiB, some five times
// the largest profile the profiler writes with its biggest settings (a full 16M-slice
// timeline is about 200 MB). A section whose declared length would take the file past
// it is refused before it is read, so a hostile or endless input (a huge length field,
// zeros after a valid header, a never-ending stream of sections) costs at most this
// much memory, and a valid file never comes close. docs/FORMAT.md, "Reading limits".
const MaxFileSize = 1 << 30

// maxFileSize is MaxFileSize; tests lower it.
var maxFileSize int64 = MaxFileSize

// Read reads a whole profile from r and checks it. Any fault in the data is an *Error
// naming the section and byte offset; errors.Is tells the kind (ErrNotProfile,
// ErrVersion, ErrTruncated, ErrChecksum, ErrCorrupt, ErrInvalid, ErrTooLarge). Read
// never panics on bad input, stops reading where the framing says the file ends (an
// endless reader is fine), never reads more than MaxFileSize bytes, and allocates in
// proportion to the bytes it was given.
func Read(r io.Reader) (*Profile, error) {
	data, err := readFramed(r)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("format: reading profile: %w", err)
	}
	return Decode(data)
}

// readFramed reads r section by section, as far as the framing declares: the header,
// then each section header and the payload and checksum it declares, up to the end
// section. It stops early, returning what it has, where the bytes cannot be a profile
// (wrong magic or version, a short read): Decode then reports exactly what is wrong.
// It stops too after a section Decode will refuse (a bad checksum, kind 0), since
// whatever follows cannot change the verdict. It fails itself only on what Decode
// could not see: a declared length past MaxFileSize, and data after the end section
// (which may never end).
func readFramed(r io.Reader) ([]byte, error) {
	limit := maxFileSize
	size := int64(-1)
	switch x := r.(type) {
	case interface{ Len() int }:
		size = int64(x.Len())
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := x.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	if size > limit {
		return nil, &Error{Record: -1, Offset: -1, Err: errorf(ErrTooLarge, "the input is %d bytes, over the reader's limit of %d (MaxFileSize)", size, limit)}
	}
	var buf bytes.Buffer
	if size >= 0 {
		buf.Grow(int(size) + 1) // one allocation for an input that says how long it is
	}
	// more reads n more bytes; false when the input ended first. CopyN grows buf as
	// bytes arrive, so a length the input does not back costs nothing.
	more := func(n int64) (bool, error) {
		got, err := io.CopyN(&buf, r, n)
		if err == io.EOF {
			return false, nil
		}
		return got == n, err
	}
	if ok, err := more(int64(headerSize)); !ok || err != nil ||
		string(buf.Bytes()[:len(Magic)]) != Magic || binary.LittleEndian.Uint32(buf.Bytes()[len(Magic):]) != Version {
		return buf.Bytes(), err
	}
	for {
		off := int64(buf.Len())
		if ok, err := more(sectionHeaderSize); !ok || err != nil {
			return buf.Bytes(), err
		}
		h := buf.Bytes()[off:]
		kind := Kind(binary.LittleEndian.Uint16(h))
		length := binary.LittleEndian.Uint64(h[4:])
		if length > uint64(limit) || off+sectionHeaderSize+int64(length)+crcSize > limit {
			return nil, &Error{Section: kind.String(), Record: -1, Offset: off, Err: errorf(ErrTooLarge, "the section declares %d bytes, which would take the file past the reader's limit of %d bytes (MaxFileSize)", length, limit)}
		}
		if ok, err := more(int64(length) + crcSize); !ok || err != nil {
			return buf.Bytes(), err
		}
		sec := buf.Bytes()[off:]
		end := sectionHeaderSize + int(length)
		if kind == KindInvalid || crc32.Checksum(sec[:end], castagnoli) != binary.LittleEndian.Uint32(sec[end:]) {
			return buf.Bytes(), nil // not a section Decode accepts: it says why, and nothing after matters
		}
		if kind == KindEnd {
			var one [1]byte
			n, err := io.ReadFull(r, one[:])
			if n > 0 {
				if _, _, err := readRaw(buf.Bytes()); err != nil {
					return buf.Bytes(), nil // a fault before the trailing data: Decode names it
				}
				// Decode counts trailing bytes in a slice; here they may never end.
				return nil, &Error{Record: -1, Offset: int64(buf.Len()), Err: errorf(ErrCorrupt, "trailing data after the end section")}
			}
			if err != io.EOF {
				return nil, err
			}
			return buf.Bytes(), nil
		}
	}
}

// ReadFile reads the profile in the named file. Errors name the file.
// A directory, an unreadable file, an endless one (/dev/zero, a FIFO that never
// closes) or one past MaxFileSize is an error naming the file; reading stops where the
// file's framing says it ends.
func ReadFile(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	}
	data, err := readFramed(f)
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, err // a *PathError from reading names the file
	}
	p, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
