// Package profiler charges every TSC tick, every nanosecond of thread CPU time and
// every getrusage event of an event loop's thread to exactly one bucket: the coroutine
// that ran, <main> (the scheduler's own work) or <wait> (blocked in epoll_wait), and
// writes the ledger, with labelled CPU stack samples, to a profile file (package
// format) that print-profile renders.
//
//	coro.Spawn(serve)
//	if err := profiler.Go(coro.EventLoop); err != nil { // writes coro_profile.bin
//		log.Fatal(err)
//	}
//
// The whole surface: Go profiles a function (normally the loop's EventLoop) and writes
// the file when it returns; Start and Stop do the same around code the caller does not
// wrap; Region marks an exact region of a coroutine; Active says whether a session
// runs. The options choose the file (File), what each stamp reads (TicksOnly,
// ReconciledCPU), CPU stack sampling (SampleRate), the timeline ring (Slices), the
// loops profiled (Loop, Loops, AllLoops) and signal handling (CatchSignals). Every
// function may be called from any goroutine (Go from inside a coroutine fails at once:
// it runs a loop itself); the rules below say what each does where.
//
// # Sessions
//
// Go(fn) locks the calling goroutine to its OS thread, takes the first stamp there,
// runs fn (the default loop's EventLoop, which then runs on that same thread), takes
// the last stamp and writes the file; if fn panics the file is written and the panic
// goes on. Start and Stop from a coroutine (the debug console's "profile start") act
// at once on that loop; from another goroutine they have the loop do it (a short-lived
// coroutine named profiler.start, or profiler.stop), since a thread's clocks can only
// be read on that thread, or, while the loop is not running, attach and wait for its
// first event. One session runs at a time; a second Go or Start returns ErrActive. Go
// and Start from outside a loop profile the default loop unless Loop names another. A
// session stopped on the loop writes its file there, so the loop pauses for the write
// (a few milliseconds for a large profile).
//
// Start from a coroutine records the loop's coroutines as they stand: one parked at
// that moment is charged a wait of its reason from Start (one park, at no known call
// site), one runnable is counted runnable from Start, and one that stays parked until
// Stop is in the profile although it never ran.
//
// A session begun from outside may span several runs of the loop, perhaps on
// different threads. The loop's figures then add up its runs: the time between them is
// in no bucket and not in the loop's Total, and the profile's notes say how many runs
// there were and how long the gaps. A clock or counter reading lower than the one
// before (never seen on one thread) is charged as no change and noted. (How: ledger.go,
// Runs and threads.)
//
// # Several loops
//
// A program that runs one loop per core profiles them all in one session with Loops:
//
//	err := profiler.Go(func() {
//		for _, s := range others {
//			go s.EventLoop()
//		}
//		first.EventLoop()
//		// ... wait for the others
//	}, profiler.Loop(first), profiler.Loops(others...))
//
// Each loop gets a ledger of its own, stamped only on its thread with that thread's
// clocks, so nothing is shared or locked at a switch and the conservation invariant
// holds per loop, to the unit. Every coroutine, slice and long slice in the file names
// its loop. The ledgers of the loops other than the first begin at their loop's first
// event after Start (or at once, through a coroutine, if the loop runs) and are closed
// on their own thread at Stop, or at their loop's last event if it has ended; so each
// loop's Total covers its own span, and the file's StartTick..StopTick spans them all.
// Regions of the same name add up across loops. The CPU profile is process-wide:
// samples of every loop's coroutines carry their labels. AllLoops adds every loop
// running at Start (coro.RunningLoops); the debug console's "profile start" uses it.
// A session refuses to displace hooks another tool attached to a loop.
//
// # What is measured
//
// At every bucket boundary (a coroutine resumes, yields, parks or exits; the loop
// enters or leaves epoll_wait) the profiler takes one stamp of the loop thread:
//
//   - the TSC (package tsc), always;
//   - unless TicksOnly, the thread CPU clock, clock_gettime(CLOCK_THREAD_CPUTIME_ID),
//     in nanoseconds, and getrusage(RUSAGE_THREAD): minflt, majflt, inblock, oublock,
//     nvcsw, nivcsw, and the kernel's own utime and stime.
//
// A direct switch, where the scheduler hands the loop from one coroutine straight to
// the next in its run queue with no work of its own between (internal/hooks,
// Switcher), is one boundary and one stamp: it closes the first coroutine's slice and
// opens the next one's, and <main> gets stamps of its own only where the scheduler
// works (a poll, timers, the inbox). In the modes that read the CPU clock the stamp is
// the TSC, the CPU clock and getrusage, then a second TSC read (no system call) that
// charges the stamp's own ticks to <main>: reading the thread CPU clock updates the
// kernel's accounting of the task, and when its time slice is used up the kernel
// reschedules at that system call's return, so on a loaded machine the stamp is where
// the thread is taken away, for milliseconds. Those ticks are the profiler's, not the
// next coroutine's (TestSwitchStampIsMain; without the second read TestShares'
// wall-burn shares missed under load). Every counter is still read once per boundary
// and stays contiguous, so the totals are exact; the CPU clock's boundary between the
// two coroutines lies inside the stamp, so each coroutine's CPU includes about one
// stamp's system calls per slice, as with two stamps per switch (the second half of
// its Resume's and the first half of its Yield's). ReconciledCPU keeps two stamps per
// switch. A coroutine whose goroutine still needs its pprof labels (its first slice
// in a session with sampling on) is resumed the two-stamp way, since only the
// coroutine's own goroutine can set them.
//
// The delta from the previous stamp is added to the bucket that was open, and the new
// stamp opens the next one. No quantity is read twice or skipped at a boundary, so for
// every measured quantity the buckets sum exactly to the thread's own delta from the
// first stamp to the last (format.Loop.Total): the conservation invariant
// (docs/DESIGN.md, Buckets) that the tests hold to the unit and the report prints as
// the closure error.
//
// Ordering. In TicksOnly mode a stamp reads the counter unordered (RDTSC, not RDTSCP:
// tsc.NowUnordered, about half the price; see package tsc, "Ordering"): the CPU may
// execute it a few instructions before or after where it stands, which moves those
// cycles between the two buckets on either side of the stamp and never out of the sum,
// because every stamp both closes one interval and opens the next. The ordered read is
// still taken where an interval is bounded by something outside the stream of stamps:
// the first and last stamps of a segment (so Loop.Total is the thread's own elapsed
// span), region edges, and every stamp that also reads the CPU clock and getrusage
// (there the TSC read must not slip past the system calls beside it, and its few
// nanoseconds are nothing beside theirs).
//
// Per coroutine the hooks also count resumes, the longest slice and where it yielded,
// the ticks it spent runnable but not running (from Spawn, a Yield that stays
// runnable, or a wake-up, to its next Resume), the parks and parked ticks by reason
// (sleep, read, write, lock, channel, join, offload, other) and, per blocking call site,
// the exact count and ticks; and its parent and spawn site. The 32 longest slices are
// kept with their full counters (format.LongSlice) so the report can tell a CPU-bound
// slice from one that faulted, blocked in a system call or was preempted; a ring of
// the most recent slices (the Slices option, 16384 by default) feeds the timeline,
// with the number it overwrote.
//
// # CPU time: exact; user/system split: an estimate
//
// getrusage's utime and stime cannot be used per slice: the kernel folds a running
// thread's CPU time into them only at scheduler ticks and context switches, so over
// slices of 100 µs to 1 ms they miss most of it (36 ms seen of 1.8 s burned in this
// project's measurements; shares off by 13 points; docs/DESIGN.md, Clocks). The thread CPU
// clock brings the running delta up to date on every read, and is exact. So:
//
//   - CPU (format.Counters.CPU) is the thread CPU clock's deltas: exact per slice
//     (with ReconciledCPU, exact in total and estimated per slice; see below).
//   - Utime and Stime are estimates: each bucket's exact CPU time split in the ratio
//     of the raw getrusage utime:stime deltas that bucket accumulated over the
//     session (which are right in proportion over many slices), or, for a bucket that
//     accumulated none (every slice shorter than the kernel's accounting granularity),
//     in the thread-wide ratio of the whole session. Utime+Stime == CPU for every
//     bucket, region and long slice; the sum of the buckets' estimates need not equal
//     the total's.
//   - The event counters (faults, blocks, context switches) are exact per slice:
//     the kernel increments them when the event happens.
//
// # What a stamp costs
//
// A switch through the scheduler has two boundaries (Yield, then Resume); a direct
// switch has one (Switch). Measured in CPU time per two-boundary switch, the
// profiler's own hooks cost ~63 ns ticks-only, ~1240 ns with the CPU clock, ~1890 ns
// with the CPU clock and getrusage (the default), ~820 ns with ReconciledCPU
// (BenchmarkHooks). The matrix of modes on a Yield round trip, a channel hand-off and
// a TCP echo round trip over loopback, before and after the direct switch, is in
// docs/PERFORMANCE.md (BenchmarkRatios), with the floor each reading sets
// (BenchmarkFloor). Neither system call has a vDSO fast path; why both stay is in
// stamp.go.
//
// ReconciledCPU reads the CPU clock only where getrusage shows the thread was switched
// out (about 9 % of boundaries in BenchmarkReconcile's replay of a 1:2:3 workload),
// charging uninterrupted intervals their wall time and reconciling at each read:
// totals stay exact and a blocked thread's slice gets its true CPU time, but per slice
// the CPU figure is an estimate (reconcile.go). TicksOnly is the cheap mode for loops
// with very short slices.
//
// # Regions
//
// Region(name) marks an exact region of the calling coroutine (defer
// profiler.Region("parse")()). Regions nest per coroutine (the open ones live in the
// coroutine's record), and each open and close takes a stamp and charges the open
// bucket, so the coroutine's totals are exact at that instant; a region's figures are
// the differences of those totals. Because a coroutine's totals grow only while it
// runs, a region's clock pauses while its coroutine is suspended. Like Shrapnel's
// function profiler, each region has calls, self (excluding nested regions) and
// cumulative (including them, a recursive call counted once) counters, and each
// caller -> callee pair its call count and cumulative cost. Regions still open at Exit
// or Stop are closed there. Off (no session, or not a coroutine of the profiled loop),
// Region costs an atomic load and returns one shared no-op func.
//
// # CPU samples
//
// With SampleRate above 0 (100 Hz by default) the session runs runtime/pprof's CPU
// profile into a buffer. Every coroutine, at its first Resume of the session, labels
// its own goroutine with coro_id and coro_name (pprof.SetGoroutineLabels), so samples
// taken while it runs carry its identity; at Stop the profile is parsed
// (github.com/google/pprof/profile), its stacks symbolised into the file's function and
// location tables, and aggregated by (coroutine, stack). Samples without the label (the
// scheduler goroutine, other goroutines) have coroutine 0. The scheduler makes its
// decisions on the goroutine that gives up control, so scheduler work sampled there
// carries the yielding coroutine's label: sampled figures are estimates, the ledger is
// the exact account.
//
// runtime/pprof has no rate parameter (golang/go #42502). Rates above 100 Hz are set
// with runtime.SetCPUProfileRate just before StartCPUProfile: that works, but the Go
// runtime prints "runtime: cannot set cpu profile rate until previous profile has
// finished." once (golang/go #79900). We accept that line rather than hide it (silencing
// it would mean redirecting fd 2 under the program's feet), say so in the profile's
// notes, and weigh samples by the cpu nanoseconds the runtime recorded, which follow
// the real rate. If the program already runs a CPU profile, StartCPUProfile fails: the
// session goes on without samples, and the profile's notes say so.
//
// # Signals
//
// The runtime answers SIGINT and SIGTERM by default with Exit: the loop unwinds its
// coroutines and EventLoop returns, so Go writes a complete profile on its normal path
// after a ^C, and a program using Start calls Stop after EventLoop returns. The
// profiler therefore installs no handler of its own by default (a second handler would
// race the runtime's clean exit). A program that turned the runtime's handling off
// (coro.OnSignal(nil, os.Interrupt)) passes CatchSignals: the session then catches both
// signals, has the loop stop it and write the file (waiting up to 5 s for the loop to
// reach a scheduling point), removes its handler and raises the signal again, so the
// program ends as it would have without the profiler.
//
// A second signal must not lose the profile either. The runtime stops catching the
// signals when its last loop ends, which is before Go writes the file, so a user
// pressing ^C twice would have killed the process mid-write with no profile and no
// word. Every session therefore holds the runtime's signals (coro.HoldSignals) until
// its file is written: one that arrives while no loop runs prints
//
//	profiler: interrupt: writing the profile to coro_profile.bin before exiting (interrupt again abandons it)
//
// the profile is written (or, if the session was still open, stopped and written),
// "profile written to …; exiting" is printed and the signal is raised again with its
// default action, before Go returns. The same signal once more abandons the write
// with a line saying so (the temporary file it leaves is removed by the next write of
// that path; see the README, "Output files"). Signals the program gave back their
// default action (coro.OnSignal(nil, sig)) are not held.
package profiler
