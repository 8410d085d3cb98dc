// The data model: what one profiling run recorded. The package comment is in doc.go.

package format

import (
	"time"

	"github.com/coroprof/coroprof/internal/wire"
)

// Measured says which quantities a profile holds.
type Measured uint32

const (
	MeasTicks   Measured = 1 << iota // TSC ticks per bucket (always set)
	MeasCPU                          // thread CPU clock (CLOCK_THREAD_CPUTIME_ID), exact
	MeasRusage                       // getrusage(RUSAGE_THREAD) counters; utime/stime as estimates
	MeasSamples                      // CPU stack samples from runtime/pprof
	MeasRegions                      // user-marked exact regions (profiler.Region)
	MeasSlices                       // a ring of recent run slices (timeline)
)

// Clock describes the tick counter every Ticks field is measured in.
type Clock struct {
	Source         string // "rdtscp", "rdtsc", "cntvct", "monotonic"
	TicksPerSecond uint64
	Invariant      bool
}

// Meta describes the run.
type Meta struct {
	Program     string   // os.Args[0]
	Args        []string // os.Args[1:]
	Host        string
	GOOS        string
	GOARCH      string
	GoVersion   string
	CPUModel    string
	CPUFeatures []string // golang.org/x/sys/cpu flags that are set
	PID         int64
	WallStart   time.Time     // wall clock at Start (UTC, nanosecond precision)
	Duration    time.Duration // wall clock from Start to Stop
	StartTick   uint64        // tsc at Start
	StopTick    uint64        // tsc at Stop
	SampleRate  int           // CPU sampling rate asked for, Hz (0: off)
	Notes       []string      // things the reader must know (e.g. "a CPU profile was already running: no samples")
}

// Counters are the quantities charged to one bucket, indexed by Counter: ticks, cpu,
// utime, stime, minflt, majflt, inblock, oublock, nvcsw, nivcsw (internal/wire/counters.go
// is their one definition, with names and units; Counter.String names one). Ticks, CPU
// and the event counters are exact (counted at every switch); Utime and Stime are
// estimates that split the exact CPU time in the ratio getrusage reported (getrusage's
// own times are tick-sampled and wrong per slice; see docs/DESIGN.md, Clocks).
type Counters = wire.Counters

// Counter indexes Counters.
type Counter = wire.Counter

// NumCounters is the number of counters in a Counters.
const NumCounters = wire.NumCounters

// The counters, for indexing Counters (p.Loops[0].Total[format.Ticks]); their names
// and units are Counter's methods.
const (
	Ticks   = wire.Ticks   // TSC ticks
	CPU     = wire.CPU     // thread CPU clock, nanoseconds
	Utime   = wire.Utime   // user time, nanoseconds (an estimate)
	Stime   = wire.Stime   // system time, nanoseconds (an estimate)
	Minflt  = wire.Minflt  // minor page faults
	Majflt  = wire.Majflt  // major page faults
	Inblock = wire.Inblock // block reads
	Oublock = wire.Oublock // block writes
	Nvcsw   = wire.Nvcsw   // voluntary context switches
	Nivcsw  = wire.Nivcsw  // involuntary context switches
)

// WaitReason is a coroutine's wait reason, as Coroutine.Waits is indexed and a
// slice's Reason holds it (format.WaitReason(s.Reason).String() names it).
type WaitReason = wire.WaitReason

// The wait reasons, for indexing Coroutine.Waits (c.Waits[format.WaitRead]).
const (
	WaitNone    = wire.WaitNone
	WaitSleep   = wire.WaitSleep
	WaitRead    = wire.WaitRead
	WaitWrite   = wire.WaitWrite
	WaitLock    = wire.WaitLock
	WaitChannel = wire.WaitChannel
	WaitJoin    = wire.WaitJoin
	WaitOffload = wire.WaitOffload
	WaitOther   = wire.WaitOther
)

// State is a coroutine's scheduling state, as a slice's State holds it
// (format.State(s.State) == format.StateWaiting).
type State = wire.State

// The states.
const (
	StateRunnable = wire.StateRunnable
	StateRunning  = wire.StateRunning
	StateWaiting  = wire.StateWaiting
	StateExited   = wire.StateExited
)

// NumWaitReasons is the number of coroutine wait reasons; index i of
// Coroutine.Waits is coro.WaitReason(i): none, sleep, read, write, lock, channel,
// join, offload, other (defined once in internal/wire, for the runtime and readers).
const NumWaitReasons = wire.NumWaitReasons

// WaitReasonNames names the wait reasons by index.
var WaitReasonNames = wire.WaitReasonNames

// StateNames names coro.State values by index (0 runnable, 1 running, 2 waiting, 3
// exited). A slice ends runnable (it yielded), waiting (it parked) or exited.
var StateNames = wire.StateNames

// WaitStat is the time a coroutine spent parked for one reason.
type WaitStat struct {
	Count uint64 // parks, counted exactly
	Ticks uint64 // ticks parked (from park to wake-up)
}

// LocID indexes Profile.Locations, plus one; 0 means "no location".
type LocID uint32

// Func is a function in the symbol table.
type Func struct {
	Name      string // package-qualified, as runtime.Frame.Function
	File      string
	StartLine int64
}

// Location is one program point: a function and a line.
type Location struct {
	Func uint32 // index into Profile.Funcs
	Line int64
}

// Loop is one event loop's own buckets. The conservation invariant holds per loop:
// Σ its coroutines' Counters + Main + Wait == Total (for every measured quantity).
type Loop struct {
	ID    int64
	Total Counters // the loop thread's own deltas from Start to Stop
	Main  Counters // <main>: the scheduler's own work
	Wait  Counters // <wait>: blocked in epoll_wait
}

// Coroutine is the exact ledger of one coroutine.
type Coroutine struct {
	ID        uint64
	ParentID  uint64 // 0: spawned from outside any coroutine
	Loop      int64  // Loop.ID it ran on
	Name      string
	SpawnSite LocID
	Exited    bool // finished before Stop
	Panicked  bool
	Resumes   uint64
	Counters
	Runnable     uint64 // ticks runnable but not running
	Waits        [NumWaitReasons]WaitStat
	LongestSlice uint64 // ticks
	LongestSite  LocID  // where the longest slice yielded
}

// WaitSite is one blocking call site of one coroutine, counted exactly.
type WaitSite struct {
	CoroID uint64
	Reason uint8 // index into WaitReasonNames
	Site   LocID
	Count  uint64
	Ticks  uint64
}

// Region is a user-marked region (profiler.Region), counted exactly like a function
// in Shrapnel's profiler: Self excludes nested regions, Cumulative includes them
// (recursion counted once).
type Region struct {
	Name       string
	Calls      uint64
	Self       Counters
	Cumulative Counters

	// Func marks a function instrumented by cmd/coro-instrument (the report's kind
	// "exact") rather than a profiler.Region; File and Line say where it is declared.
	// A region and a function may share a name: they are different rows.
	Func bool
	File string
	Line int32
}

// RegionCoro is one coroutine's share of one region: its calls, and the region's self
// and cumulative cost while that coroutine ran it. Summed over coroutines they give the
// region's totals.
type RegionCoro struct {
	CoroID     uint64
	Region     int32 // index into Profile.Regions
	Calls      uint64
	Self       Counters
	Cumulative Counters
}

// RegionEdge counts calls from one region to a nested one. Caller -1 is "no region"
// (the coroutine's top level).
type RegionEdge struct {
	Caller     int32 // index into Profile.Regions, or -1
	Callee     int32 // index into Profile.Regions
	Calls      uint64
	Cumulative Counters // what the callee cost when called from this caller
}

// Sample is a set of identical CPU stack samples of one coroutine.
type Sample struct {
	CoroID uint64  // 0: not in a coroutine (the scheduler, or another goroutine)
	Stack  []LocID // leaf first
	Count  uint64  // samples
	Nanos  uint64  // CPU nanoseconds the samples stand for (pprof's cpu value)
}

// Slice is one run of a coroutine, from the trace ring.
type Slice struct {
	CoroID uint64
	Loop   int64
	Start  uint64 // tsc
	End    uint64 // tsc
	State  uint8  // how it ended: coro.State (0 runnable: yielded, 2 waiting, 3 exited); see StateNames
	Reason uint8  // wait reason when State is waiting
	Site   LocID  // where it yielded
}

// LongSlice is one of the longest run slices, with its full counters, so the report
// can diagnose it (CPU-bound, page faults, blocked in a system call, preempted, disk).
type LongSlice struct {
	CoroID uint64
	Loop   int64
	Start  uint64 // tsc
	Counters
	State  uint8
	Reason uint8
	Site   LocID
}

// Profile is everything one profiling run recorded.
type Profile struct {
	Version  uint32 // file version read (Write always writes the current one)
	Clock    Clock
	Measured Measured
	Meta     Meta

	Loops         []Loop // at least one
	Coroutines    []Coroutine
	WaitSites     []WaitSite
	Regions       []Region
	RegionEdges   []RegionEdge
	RegionCoros   []RegionCoro // per coroutine; empty in files that predate it
	Funcs         []Func
	Locations     []Location
	Samples       []Sample
	Slices        []Slice // oldest first
	SlicesDropped uint64  // slices the ring overwrote
	LongSlices    []LongSlice
}
