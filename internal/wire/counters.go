package wire

// Counter indexes the quantities charged to one bucket (a coroutine, <main>, <wait>, a
// loop's total, a region, a run slice). This list is the one definition of them: the
// profile file writes a Counters as NumCounters uvarints in this order, the profiler
// stamps, subtracts and charges them by index, and the report names its columns and
// JSON keys after Counter.String. Values are written into files: append new counters
// before NumCounters only (a new counter changes the file version; docs/FORMAT.md).
type Counter int

const (
	Ticks   Counter = iota // TSC ticks
	CPU                    // thread CPU clock (CLOCK_THREAD_CPUTIME_ID), nanoseconds, exact
	Utime                  // user CPU time, nanoseconds: an estimate that splits CPU (Estimate)
	Stime                  // system CPU time, nanoseconds: an estimate that splits CPU
	Minflt                 // minor page faults (getrusage)
	Majflt                 // major page faults
	Inblock                // block input operations
	Oublock                // block output operations
	Nvcsw                  // voluntary context switches
	Nivcsw                 // involuntary context switches
	NumCounters
)

// Unit is what a counter counts.
type Unit int

const (
	UnitTicks Unit = iota // TSC ticks (the profile's clock)
	UnitNanos             // nanoseconds
	UnitCount             // events
)

// CounterNames are the counters' names, by Counter: lower case, as in the report's
// JSON keys and columns and in pprof sample types.
var CounterNames = [NumCounters]string{
	Ticks:   "ticks",
	CPU:     "cpu",
	Utime:   "utime",
	Stime:   "stime",
	Minflt:  "minflt",
	Majflt:  "majflt",
	Inblock: "inblock",
	Oublock: "oublock",
	Nvcsw:   "nvcsw",
	Nivcsw:  "nivcsw",
}

var units = [NumCounters]Unit{
	Ticks: UnitTicks,
	CPU:   UnitNanos, Utime: UnitNanos, Stime: UnitNanos,
	Minflt: UnitCount, Majflt: UnitCount, Inblock: UnitCount, Oublock: UnitCount,
	Nvcsw: UnitCount, Nivcsw: UnitCount,
}

// String is the counter's name (CounterNames).
func (c Counter) String() string {
	if c < 0 || c >= NumCounters {
		return "counter?"
	}
	return CounterNames[c]
}

// Unit is what c counts.
func (c Counter) Unit() Unit { return units[c] }

// Estimate reports whether c's value per bucket is an estimate: utime and stime split
// the bucket's exact CPU time in the ratio of getrusage's tick-sampled times
// (docs/DESIGN.md, Clocks), so unlike the other counters their buckets need not sum to
// the total.
func (c Counter) Estimate() bool { return c == Utime || c == Stime }

// Counters holds one value per Counter, indexed by it.
type Counters [NumCounters]uint64

// Add adds o to c, counter by counter.
func (c *Counters) Add(o Counters) {
	for i := range c {
		c[i] += o[i]
	}
}

// Sub returns c - o, counter by counter (unsigned: a counter of o above c's wraps;
// callers that cannot rule that out check Below first).
func (c *Counters) Sub(o *Counters) Counters {
	var d Counters
	for i := range d {
		d[i] = c[i] - o[i]
	}
	return d
}

// Below reports whether any counter of c is below o's.
func (c *Counters) Below(o *Counters) bool {
	for i := range c {
		if c[i] < o[i] {
			return true
		}
	}
	return false
}

// Max raises every counter of c that is below o's to o's.
func (c *Counters) Max(o *Counters) {
	for i := range c {
		c[i] = max(c[i], o[i])
	}
}
