package format

import "fmt"

// Version is the file version Write writes and the only one Read accepts. It changes
// only when an existing record changes; new data goes into new section kinds.
const Version uint32 = 1

// Magic is the first 8 bytes of every profile file; the little-endian uint32 version
// follows it, so a reader knows the version before it interprets anything else.
const Magic = "COROPRF\x00"

// headerSize is Magic plus the version.
const headerSize = len(Magic) + 4

// Kind is a section's type. Values are written into files: never renumber, never
// reuse; append new kinds at the end. "count" is a uvarint; str is a uvarint index into
// the string table; Counters is one uvarint per counter in Counter order (ticks cpu
// utime stime minflt majflt inblock oublock nvcsw nivcsw; internal/wire/counters.go);
// u8 is one byte; zigzag is a signed varint.
type Kind uint16

const (
	KindInvalid Kind = iota // 0: never written; a zero kind is corruption

	// KindEnd closes the file: payload uvarint number of sections before it. A file
	// without it was truncated.
	KindEnd

	// KindStrings is the string table: count, then count × (uvarint length, bytes).
	// Index 0 is always "". Every other section refers to strings by index.
	KindStrings

	// KindMeta: Clock (str Source, uvarint TicksPerSecond, u8 Invariant), uvarint
	// Measured, Meta (str Program, count+str Args, str Host, str GOOS, str GOARCH,
	// str GoVersion, str CPUModel, count+str CPUFeatures, zigzag PID, zigzag WallStart
	// Unix seconds, uvarint WallStart nanoseconds, zigzag Duration, uvarint StartTick,
	// uvarint StopTick, zigzag SampleRate, count+str Notes).
	KindMeta

	// KindLoops: count, then per loop: zigzag ID, Counters Total, Counters Main,
	// Counters Wait. Sorted by ID.
	KindLoops

	// KindFuncs: count, then per function: str Name, str File, zigzag StartLine.
	KindFuncs

	// KindLocations: count, then per location: uvarint Func, zigzag Line.
	KindLocations

	// KindCoroutines: count, then per coroutine, sorted by ID: uvarint ID minus the
	// previous ID minus 1 (the first: ID minus 1, so IDs are strictly increasing and
	// nonzero by construction), uvarint ParentID, zigzag Loop, str Name, uvarint
	// SpawnSite, u8 flags (bit 0 Exited, bit 1 Panicked), uvarint Resumes, Counters,
	// uvarint Runnable, uvarint mask of wait reasons present, then for each set bit
	// from low to high uvarint Count and uvarint Ticks, uvarint LongestSlice,
	// uvarint LongestSite.
	KindCoroutines

	// KindWaitSites: count, then per site, sorted by (CoroID, Reason, Site): uvarint
	// CoroID, u8 Reason, uvarint Site, uvarint Count, uvarint Ticks.
	KindWaitSites

	// KindRegions: count, then per region: str Name, uvarint Calls, Counters Self,
	// Counters Cumulative.
	KindRegions

	// KindRegionEdges: count, then per edge, sorted by (Caller, Callee): zigzag
	// Caller, zigzag Callee, uvarint Calls, Counters Cumulative.
	KindRegionEdges

	// KindSamples: count, then per sample, sorted by (CoroID, Stack): uvarint CoroID,
	// uvarint depth, depth × uvarint LocID (leaf first), uvarint Count, uvarint Nanos.
	KindSamples

	// KindSlices: uvarint SlicesDropped, count, then per slice in timeline order:
	// uvarint CoroID, zigzag Loop, zigzag Start minus the previous slice's Start (the
	// first: minus 0), zigzag End minus Start, u8 State, u8 Reason, uvarint Site.
	KindSlices

	// KindLongSlices: count, then per slice, longest first: uvarint CoroID, zigzag
	// Loop, uvarint Start, Counters, u8 State, u8 Reason, uvarint Site.
	KindLongSlices

	// KindRegionFuncs (optional; written only when some region is an instrumented
	// function): count, then per function region, by increasing region index: uvarint
	// region index minus the previous entry's minus 1 (the first: the index itself), str
	// File, zigzag Line. A region listed here is a function of kind "exact"
	// (cmd/coro-instrument), not a profiler.Region.
	KindRegionFuncs

	// KindRegionCoros (optional; written only when there are regions): count, then
	// per entry, sorted by (CoroID, Region): uvarint CoroID, uvarint Region, uvarint
	// Calls, Counters Self, Counters Cumulative. One coroutine's share of one region.
	KindRegionCoros

	numKinds // not a kind: the first unassigned value
)

// FlagOptional in a section header lets a reader that does not know the kind skip
// the section. Writers set it on new kinds that add detail without changing the
// meaning of the others; a reader refuses an unknown kind without it.
const FlagOptional uint16 = 1 << 0

// kindSpec describes a known kind for the reader: its name in errors, and the least
// number of payload bytes one record of the section takes (each uvarint, zigzag, u8
// and str at least 1), which bounds every count by the bytes that remain.
type kindSpec struct {
	name      string
	minRecord int
	required  bool // a file without it is rejected
	optional  bool // written with FlagOptional, and only when it has records
}

const countersMin = 10 // ten uvarints

var kindSpecs = [numKinds]kindSpec{
	KindInvalid:     {name: "invalid"},
	KindEnd:         {name: "end", required: true},
	KindStrings:     {name: "strings", minRecord: 1},
	KindMeta:        {name: "meta", required: true},
	KindLoops:       {name: "loops", minRecord: 1 + 3*countersMin, required: true},
	KindFuncs:       {name: "funcs", minRecord: 3},
	KindLocations:   {name: "locations", minRecord: 2},
	KindCoroutines:  {name: "coroutines", minRecord: 9 + countersMin + 2},
	KindWaitSites:   {name: "waitsites", minRecord: 5},
	KindRegions:     {name: "regions", minRecord: 2 + 2*countersMin},
	KindRegionEdges: {name: "regionedges", minRecord: 3 + countersMin},
	KindSamples:     {name: "samples", minRecord: 4},
	KindSlices:      {name: "slices", minRecord: 7},
	KindLongSlices:  {name: "longslices", minRecord: 6 + countersMin},
	KindRegionFuncs: {name: "regionfuncs", minRecord: 3, optional: true},
	KindRegionCoros: {name: "regioncoros", minRecord: 3 + 2*countersMin, optional: true},
}

// String returns the kind's name as used in errors and docs/FORMAT.md.
func (k Kind) String() string {
	if k < numKinds {
		return kindSpecs[k].name
	}
	return fmt.Sprintf("kind %d", uint16(k))
}

// writeOrder is the order Write emits sections in. Read accepts any order (it
// decodes in dependency order after the raw pass), but one order keeps files
// byte-identical.
var writeOrder = [...]Kind{
	KindStrings, KindMeta, KindLoops, KindFuncs, KindLocations, KindCoroutines,
	KindWaitSites, KindRegions, KindRegionEdges, KindSamples, KindSlices, KindLongSlices,
	KindRegionFuncs, KindRegionCoros,
}
