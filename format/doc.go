// Package format is the profile file: the one place that writes and reads
// coro_profile.bin. The profiler builds a Profile and calls WriteFile; print-profile
// calls ReadFile. The byte layout is specified in docs/FORMAT.md; this comment is the
// summary.
//
// The surface: ReadFile, Read and Decode return a *Profile that has passed Validate;
// Write and WriteFile write one (WriteFile atomically). Everything else exported
// describes the file: the data model below, the section kinds (Kind, each constant
// with its record's fields), Version and Magic, and the errors a bad file gets.
//
// # The data model
//
// A Profile is one profiling run: Clock and Meta (what ran, where, when), Measured
// (which quantities mean anything), and per event loop a Loop holding the loop
// thread's own Total and its two pseudo buckets, Main (<main>, the scheduler's work)
// and Wait (<wait>, blocked in epoll_wait). Every Coroutine names its loop, and for
// each loop and each measured quantity
//
//	Σ its coroutines' Counters + Main + Wait == Total
//
// (the bucket contract: docs/DESIGN.md, Buckets). A Counters holds one value per
// Counter, in the order the file writes them: ticks (in the Clock's unit), cpu, utime,
// stime (nanoseconds; utime and stime are estimates that split cpu), minflt, majflt,
// inblock, oublock, nvcsw, nivcsw (counts); Counter.String names each. Around the
// buckets: exact waits per reason (Coroutine.Waits) and per call site (WaitSites), the
// exact user regions (Regions, RegionEdges), CPU stack samples (Samples, an estimate,
// with Funcs and Locations as their symbol table), a ring of recent run slices
// (Slices) and the longest slices with their counters (LongSlices).
//
// # Layout
//
// A file is a 12-byte header, then sections, then an end section:
//
//	header:  "COROPRF\x00" (8 bytes), version (uint32 little-endian, currently 1)
//	section: kind (uint16), flags (uint16), length (uint64), payload (length bytes),
//	         CRC-32C (Castagnoli, uint32) of kind, flags, length and payload
//	end:     a section of KindEnd whose payload counts the sections before it
//
// All fixed-width integers are little-endian. Inside payloads every number is a varint
// (encoding/binary's Uvarint, or zigzag Varint for signed values) or a byte, and every
// string is an index into the string table (KindStrings, written first). The kinds and
// the fields of their records are listed with the Kind constants.
//
// # Compatibility
//
// The version is checked before anything else is interpreted; Read rejects any
// version but Version. Within a version, kinds are only appended. A section with an
// unknown kind is skipped if its flags carry FlagOptional and refused otherwise, so a
// newer writer can add detail old readers may ignore, and cannot add data they would
// silently misread.
//
// # Determinism
//
// Write sorts the lists whose order means nothing (coroutines, wait sites, region
// edges, samples, long slices, loops; see Profile.Sort) and numbers strings in first-use
// order, so equal profiles give byte-identical files.
//
// # Reading bad files
//
// Read works in layers: a raw pass checks the framing, lengths and checksums without
// interpreting payloads; decoding bounds every count by the bytes left in its section
// before allocating; Profile.Validate then checks cross-references (LocIDs, function
// and region indexes, coroutine and loop IDs). Every fault is an *Error naming the
// section and byte offset, e.g.
//
//	format: section "coroutines" at offset 1234: truncated varint
//
// and wrapping one of ErrNotProfile, ErrVersion, ErrTruncated, ErrChecksum, ErrCorrupt
// or ErrInvalid. A profile Read returns is valid: readers may index without checking.
//
// # Test data
//
// The module's internal/synth builds deterministic, consistent profiles of any size
// for tests (not part of this package's API). The golden files in testdata/ at the
// repository root (small.bin, medium.bin, multiloop.bin, ticksonly.bin; see
// synth.Golden) are made from it; rewrite them with
// go test ./format -run TestGolden -update.
package format
