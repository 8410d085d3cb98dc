package format

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/coroprof/coroprof/internal/atomicfile"
)

// Write writes p to w in the current Version. It validates p first and writes
// nothing if p is invalid. p is not modified: lists that are not in the canonical
// order (see Profile.Sort) are sorted in a copy, so equal profiles give identical bytes.
func Write(w io.Writer, p *Profile) error {
	head, body, err := encode(p)
	if err != nil {
		return err
	}
	if _, err := w.Write(head); err != nil {
		return fmt.Errorf("format: writing profile: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("format: writing profile: %w", err)
	}
	return nil
}

// WriteFile writes p to the named file so that a crash never leaves a file that looks
// whole and never loses the previous one: under internal/atomicfile's policy, a
// regular file (or a new one) is written to a temporary file beside it (.NAME.tmp-N,
// removed by the next WriteFile to the same path if a crash left it), synced and
// renamed over path; a replaced file keeps its mode, a new one gets 0666 less the
// umask, as os.Create gives; a symbolic link is followed; a device or FIFO is written
// in place; a directory is refused. (A reader would reject a torn file anyway, since
// it lacks the end section.) Errors name path.
func WriteFile(path string, p *Profile) error {
	head, body, err := encode(p)
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("format: %w", err)
	}
	f.Write(head)
	f.Write(body) // a write error is kept and returned by Commit
	if err := f.Commit(); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	return nil
}

// canonical returns p, or a shallow copy of p whose order-free lists are sorted, so
// that callers' slices are never reordered and already-sorted ones are not copied.
func canonical(p *Profile) *Profile {
	q := *p
	sortedCopy(&q.Loops, cmpLoop)
	sortedCopy(&q.Coroutines, cmpCoroutine)
	sortedCopy(&q.WaitSites, cmpWaitSite)
	sortedCopy(&q.RegionEdges, cmpRegionEdge)
	sortedCopy(&q.RegionCoros, cmpRegionCoro)
	if !slices.IsSortedFunc(q.Samples, cmpSample) {
		q.Samples = sortedSamples(q.Samples)
	}
	sortedCopy(&q.LongSlices, cmpLongSlice)
	return &q
}

func sortedCopy[T any](s *[]T, cmp func(a, b T) int) {
	if !slices.IsSortedFunc(*s, cmp) {
		*s = slices.Clone(*s)
		slices.SortFunc(*s, cmp)
	}
}

// encode returns the file in two parts: the header with the string table, and the
// rest. The string table is filled while the rest is encoded (first-use order), so it
// is encoded last but written first.
func encode(p *Profile) (head, body []byte, err error) {
	if p == nil {
		return nil, nil, &Error{Record: -1, Offset: -1, Err: errorf(ErrInvalid, "nil profile")}
	}
	q := canonical(p)
	if err := q.Validate(); err != nil {
		return nil, nil, err
	}
	e := &encoder{
		buf:     make([]byte, 0, estimateSize(q)),
		strings: map[string]uint32{"": 0},
		table:   []string{""},
	}
	sections := 0
	for _, k := range writeOrder[1:] {
		if kindSpecs[k].optional && !hasRecords(q, k) {
			continue // an empty optional section is left out: older files stay byte-identical
		}
		sections++
		start := beginSection(e, k)
		switch k {
		case KindMeta:
			encodeMeta(e, q)
		case KindLoops:
			encodeLoops(e, q.Loops)
		case KindFuncs:
			encodeFuncs(e, q.Funcs)
		case KindLocations:
			encodeLocations(e, q.Locations)
		case KindCoroutines:
			encodeCoroutines(e, q.Coroutines)
		case KindWaitSites:
			encodeWaitSites(e, q.WaitSites)
		case KindRegions:
			encodeRegions(e, q.Regions)
		case KindRegionEdges:
			encodeRegionEdges(e, q.RegionEdges)
		case KindSamples:
			encodeSamples(e, q.Samples)
		case KindSlices:
			encodeSlices(e, q.SlicesDropped, q.Slices)
		case KindLongSlices:
			encodeLongSlices(e, q.LongSlices)
		case KindRegionFuncs:
			encodeRegionFuncs(e, q.Regions)
		case KindRegionCoros:
			encodeRegionCoros(e, q.RegionCoros)
		}
		endSection(e, start)
	}
	start := beginSection(e, KindEnd)
	encodeEnd(e, sections+1) // and the string table
	endSection(e, start)
	body = e.buf

	h := &encoder{buf: make([]byte, 0, 64+16*len(e.table))}
	h.buf = append(h.buf, Magic...)
	h.buf = binary.LittleEndian.AppendUint32(h.buf, Version)
	start = beginSection(h, KindStrings)
	encodeStrings(h, e.table)
	endSection(h, start)
	return h.buf, body, nil
}

// hasRecords reports whether optional section k has anything to write.
func hasRecords(p *Profile, k Kind) bool {
	switch k {
	case KindRegionFuncs:
		for i := range p.Regions {
			if p.Regions[i].Func {
				return true
			}
		}
	case KindRegionCoros:
		return len(p.RegionCoros) > 0
	}
	return false
}

// beginSection appends a section header whose length is filled in by endSection.
// Kinds marked optional get FlagOptional (an older reader skips them); the others are
// required.
func beginSection(e *encoder, k Kind) int {
	start := len(e.buf)
	var flags uint16
	if k < numKinds && kindSpecs[k].optional {
		flags = FlagOptional
	}
	e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(k))
	e.buf = binary.LittleEndian.AppendUint16(e.buf, flags)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, 0)
	return start
}

func endSection(e *encoder, start int) {
	length := len(e.buf) - start - sectionHeaderSize
	binary.LittleEndian.PutUint64(e.buf[start+4:], uint64(length))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, crc32.Checksum(e.buf[start:], castagnoli))
}

// estimateSize guesses the encoded size from typical record sizes (measured on
// generated profiles, internal/synth), so the buffer rarely grows (a large profile is tens of megabytes; each doubling copies it).
func estimateSize(p *Profile) int {
	n := 256 + 64*len(p.Loops) + 8*len(p.Funcs) + 6*len(p.Locations) + 48*len(p.Coroutines) +
		12*len(p.WaitSites) + 40*len(p.Regions) + 30*len(p.RegionEdges) + 12*len(p.Slices) +
		40*len(p.LongSlices)
	for i := range p.Samples {
		n += 8 + 2*len(p.Samples[i].Stack)
	}
	return n + n/4 // an overestimate costs less than one more doubling
}
