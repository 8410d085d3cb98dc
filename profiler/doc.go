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
// # Sessions
//
// Go(fn) locks the calling goroutine to its OS thread, takes the first stamp there,
// runs fn (the default loop's EventLoop, which then runs on that same thread), takes
// the last stamp and writes the file; if fn panics the file is written and the panic
// goes on. Start and Stop do the same around code the caller does not wrap: from a
// coroutine (the debug console's "profile start") they act at once on that loop; from
// another goroutine they have the loop do it (a short-lived coroutine named
// profiler.start, or the stop), since the loop thread's clocks can only be read on that
// thread. One session runs at a time; a second Go or Start returns ErrActive. Go and
// Start from outside a loop profile the default loop unless the Loop option names
// another. A session stopped on the loop writes its file there, so the loop pauses
// for the write (a few milliseconds for a large profile).
//
// Start from a coroutine records the loop's coroutines as they stand: one parked at
// that moment is charged a wait of its reason from Start (one park, at no known call
// site, since it began before the session), one runnable is counted runnable from
// Start, and one that stays parked until Stop is in the profile although it never ran.
// Start from another goroutine attaches while the loop is idle in a way ordered
// against the loop's start (internal/hooks, UpdateHooksIdle), so it may race a loop
// that is starting; if the loop runs, a profiler.start coroutine attaches on its
// thread.
//
// # Runs and threads
//
// A ledger reads one thread's clocks, and the CPU clock and getrusage counters of two
// threads must never be subtracted from each other. Each run of EventLoop keeps one
// OS thread locked, but a session begun from outside may span several runs, each
// perhaps on another thread. So a ledger is bound to the run (internal/hooks,
// RunsEnded, one load per hook) and thread (gettid, once per run) of its first stamp:
// when a hook finds the loop in another run, the ledger's segment is closed at the last stamp
// taken on the old thread (the last coroutine's exit, which in the reconciled mode
// reads the CPU clock), and a new segment opens with a fresh reading on the new thread.
// The loop's Total is the sum of the segments; the time between runs is charged to
// no bucket and left out of Total, and the profile's notes say how many runs and how
// long the gaps were. Go's first stamp is taken on its own thread before the loop
// runs: if the loop then runs elsewhere, the ledger moves there at its first event.
// A stop off the loop thread stamps only on the segment's own thread; otherwise the
// ledger closes at the last stamp a hook took. A reading lower than the one before
// (never seen on one thread) is charged as no change and noted, never wrapped.
//
// Options: File (where; written to a temporary name and renamed), TicksOnly (TSC
// only), ReconciledCPU (fewer CPU clock reads, see below), SampleRate (CPU stack
// samples, 100 Hz by default, 0 off), Slices (the timeline ring's size), Loop, Loops and
// AllLoops (see Several loops), and CatchSignals (see Signals).
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
// Each loop gets a ledger of its own, attached as that loop's hooks and stamped only
// on its thread with that thread's clocks, so nothing is shared or locked at a switch
// and the conservation invariant holds per loop, to the unit: Σ the loop's coroutines
// + its <main> + its <wait> == its thread's own delta (format.Loop.Total). Every
// coroutine, slice and long slice in the file names its loop. The ledgers of the
// loops other than the first begin at their loop's first event after Start (or at
// once, through a coroutine, if the loop runs) and are closed on their own thread at
// Stop, or at their loop's last event if it has ended; so each loop's Total covers its
// own span, and the file's StartTick..StopTick spans them all. Regions of the same
// name add up across loops. The CPU profile is process-wide: samples of every loop's
// coroutines carry their labels. AllLoops adds every loop running at Start
// (coro.RunningLoops); the debug console's "profile start" uses it.
//
// The session attaches itself as the loop's hooks (internal/hooks) and refuses
// to displace hooks another tool attached.
//
// # The ledger: exact, contiguous stamps
//
// At every bucket boundary the hooks report (Resume, Yield, Exit, BeforePoll,
// AfterPoll; see internal/hooks) the profiler takes one stamp of the loop thread:
//
//   - the TSC (package tsc), always;
//   - unless TicksOnly, the thread CPU clock, clock_gettime(CLOCK_THREAD_CPUTIME_ID),
//     in nanoseconds, and getrusage(RUSAGE_THREAD): minflt, majflt, inblock, oublock,
//     nvcsw, nivcsw, and the kernel's own utime and stime.
//
// The delta from the previous stamp is added to the bucket that was open, and the new
// stamp opens the next one. No quantity is read twice or skipped at a boundary, so
// for every measured quantity the buckets sum exactly to the thread's own delta from
// the first stamp to the last (Loop.Total): the conservation invariant the tests hold
// to the unit, and the report prints as the closure error.
//
// Per coroutine the hooks also count resumes, the longest slice and where it yielded,
// the ticks it spent runnable but not running (from Spawn, a Yield that stays
// runnable, or a wake-up, to its next Resume), the parks and parked ticks by reason
// (sleep, read, write, lock, channel, join, offload, other) and, per blocking call site
// (the pc the runtime reports, symbolised at the end), the exact count and ticks; and
// its parent and spawn site. The 32 longest slices are kept with their full counters
// (format.LongSlice) so the report can tell a CPU-bound slice from one that faulted,
// blocked in a system call or was preempted; a ring of the most recent slices (the
// Slices option, 16384 by default) feeds the timeline, with the number it overwrote.
//
// The switch path neither allocates nor looks anything up in a map: a coroutine's
// record hangs off the coroutine's hook slot (internal/hooks, SetHookData; checked to
// belong to this session), records are carved from slabs of 64, the stamp buffers
// live in the session, the ring and the long-slice heap are preallocated, and blocking call sites are found by a short
// linear scan in the coroutine's record (four inline slots before it ever allocates).
// A coroutine's first Resume in a session sets its pprof labels, which allocates once.
//
// # CPU time: exact; user/system split: an estimate
//
// getrusage's utime and stime cannot be used per slice: the kernel folds a running
// thread's CPU time into them only at scheduler ticks and context switches, so over
// slices of 100 µs to 1 ms they miss most of it (36 ms seen of 1.8 s burned in this
// project's measurements; shares off by 13 points; DESIGN.md §3). The thread CPU
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
// # What a stamp costs, and why both system calls stay
//
// Neither clock has a vDSO fast path: the vDSO serves CLOCK_MONOTONIC and friends,
// not the per-thread CPU clocks, and getrusage is an ordinary system call. Measured
// on this project's machine (AMD EPYC, KVM guest, Linux 6.18, Go 1.26; go test -bench
// in a scratch module, the loop goroutine locked to its thread), one read costs:
//
//	tsc.Now (RDTSCP)                         ~  19-27 ns
//	getpid (the bare cost of a system call)  ~ 160 ns
//	getrusage(RUSAGE_THREAD)                 ~ 300-350 ns
//	clock_gettime(CLOCK_THREAD_CPUTIME_ID)   ~ 490-590 ns (task_sched_runtime locks the run queue)
//	both                                     ~ 830-970 ns
//
// (syscall.Syscall and RawSyscall cost the same here, so the x/sys wrappers are used.)
// A coroutine switch has two boundaries (Yield, then Resume). Measured in CPU time per
// switch, the profiler's own hooks cost ~63 ns ticks-only, ~1240 ns with the CPU
// clock, ~1890 ns with the CPU clock and getrusage, ~820 ns with ReconciledCPU
// (BenchmarkHooks). On a TCP echo round trip over loopback that keeps 98 % of the
// throughput ticks-only, 74 % with the full ledger and 85 % reconciled; the Yield
// round trip and the rest are in docs/PERFORMANCE.md.
//
// Cheaper ways to keep CPU time exact were examined:
//
//   - Reading the CPU clock less often and reconciling: the ReconciledCPU option.
//     Splitting a clock delta over the slices in between by their ticks alone would
//     be wrong exactly where it matters (a slice in which the thread blocked or was
//     preempted), but getrusage, read at every boundary anyway, says in which
//     intervals the thread was switched out (nvcsw, nivcsw). Only there is the clock
//     read; uninterrupted intervals are charged their wall time provisionally, the
//     interval with the switch gets the rest of the clock's delta, and an overcharge
//     (hypervisor steal, interrupt time) is taken back in proportion. Totals stay
//     exact and a blocked thread's slice is charged its true CPU time; per slice the
//     figure is an estimate. Measured (BenchmarkReconcile, which replays every
//     boundary of a 1:2:3 workload with a thread-blocking coroutine through the
//     scheme): the clock is read at ~9 % of boundaries, per-coroutine CPU lands within
//     0.05-0.7 % of the exact figure, shares within 0.12 points (though a share 2.4
//     points off was seen in a test on this guest at load average 11, where hypervisor
//     steal makes wall time that is not CPU time); a switch's hooks cost
//     ~820 CPU ns instead of ~1890 (BenchmarkHooks). The default stays exact per
//     slice; ReconciledCPU is the option for loops where the full ledger costs too much.
//   - A perf_event task-clock counter read through its mmap page (time_running plus a
//     TSC-scaled offset, no system call) would be exact and cost tens of nanoseconds,
//     but needs cap_user_time, which the kernel sets only with a stable native
//     sched_clock: on this KVM guest (kvm-clock) the page reports capabilities 0x2,
//     without it. A read(2) of the same counter is a system call like the others.
//   - Dropping getrusage loses the per-slice event counters, which are what tells a
//     page-faulting or preempted slice from a CPU-bound one (and which ReconciledCPU
//     needs).
//
// So the default stamps all three at every boundary, ReconciledCPU halves that cost
// for an estimate per slice, and TicksOnly is the cheap mode for loops with very short
// slices.
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
package profiler
