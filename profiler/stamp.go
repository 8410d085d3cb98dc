package profiler

import (
	"golang.org/x/sys/unix"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/coroprof/coroprof/tsc"
)

// What a stamp costs, and why both system calls stay.
//
// On Linux (the figures below; other systems' clocks are in platform_GOOS.go), neither
// clock has a vDSO fast path: the vDSO serves CLOCK_MONOTONIC and friends,
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
// Per switch the hooks' costs are in doc.go, What a stamp costs. Cheaper ways to keep
// CPU time exact were examined besides reading the clock less often (ReconciledCPU,
// reconcile.go):
//
//   - A perf_event task-clock counter read through its mmap page (time_running plus a
//     TSC-scaled offset, no system call) would be exact and cost tens of nanoseconds,
//     but needs cap_user_time, which the kernel sets only with a stable native
//     sched_clock: on this KVM guest (kvm-clock) the page reports capabilities 0x2,
//     without it. A read(2) of the same counter is a system call like the others.
//     The page is probed at every session start and the profile's notes say which
//     read was used (perfpage_linux.go).
//   - Dropping getrusage loses the per-slice event counters, which are what tells a
//     page-faulting or preempted slice from a CPU-bound one (and which ReconciledCPU
//     needs).

// clocks is the loop thread's reading state: the buffers the two system calls fill
// live here, in the ledger, so a stamp neither allocates nor lets a pointer escape.
type clocks struct {
	ticksOnly bool
	noRusage  bool // ticks and the CPU clock only: the benchmarks' middle point
	ts        unix.Timespec
	ru        unix.Rusage
}

// read stamps the loop thread's clocks into c (absolute values). TSC always; unless
// ticksOnly, the thread CPU clock (exact, nanoseconds) and getrusage's counters. Utime
// and Stime hold getrusage's own tick-sampled times, raw: they are only used as the
// ratio that splits the exact CPU time (see doc.go).
//
// Both are plain system calls: CLOCK_THREAD_CPUTIME_ID has no vDSO fast path, and
// getrusage never had one. Errors are impossible for these arguments (valid clock,
// valid who, valid pointer), so they are not checked on this hot path.
//
// In ticks-only mode the counter is read unordered (tsc.NowUnordered, half the price
// of the ordered read): the switch stamps are contiguous, each ending one bucket's
// interval and beginning the next, so a read that the CPU executes a few instructions
// early or late moves those cycles between two neighbouring buckets and never out of
// the sum; the segment's first and last stamps, which bound the total, are ordered
// (readOrdered). With the CPU clock, the ordered read stays: it is a few ns beside two
// system calls, and it keeps the TSC stamp from slipping past the thread clock's read.
func (k *clocks) read(c *format.Counters) {
	if k.ticksOnly {
		c[wire.Ticks] = tsc.NowUnordered()
		return
	}
	k.readOrdered(c)
}

// readOrdered is read with the ordered counter read in every mode: for the stamps that
// bound a segment (see read).
func (k *clocks) readOrdered(c *format.Counters) {
	c[wire.Ticks] = tsc.Now()
	if k.ticksOnly {
		return
	}
	_ = unix.ClockGettime(clockThreadCPU, &k.ts)
	c[wire.CPU] = uint64(k.ts.Sec)*1e9 + uint64(k.ts.Nsec)
	if k.noRusage {
		return
	}
	_ = unix.Getrusage(rusageThread, &k.ru)
	k.fromRusage(c)
}

func (k *clocks) fromRusage(c *format.Counters) {
	c[wire.Utime] = uint64(k.ru.Utime.Sec)*1e9 + uint64(k.ru.Utime.Usec)*1e3
	c[wire.Stime] = uint64(k.ru.Stime.Sec)*1e9 + uint64(k.ru.Stime.Usec)*1e3
	c[wire.Minflt] = uint64(k.ru.Minflt)
	c[wire.Majflt] = uint64(k.ru.Majflt)
	c[wire.Inblock] = uint64(k.ru.Inblock)
	c[wire.Oublock] = uint64(k.ru.Oublock)
	c[wire.Nvcsw] = uint64(k.ru.Nvcsw)
	c[wire.Nivcsw] = uint64(k.ru.Nivcsw)
}

// readNoCPU is read without the CPU clock (the ReconciledCPU mode; see reconcile.go).
// c.CPU is left for the caller.
func (k *clocks) readNoCPU(c *format.Counters) {
	c[wire.Ticks] = tsc.Now()
	_ = unix.Getrusage(rusageThread, &k.ru)
	k.fromRusage(c)
}

// cpu reads the thread CPU clock alone.
func (k *clocks) cpu() uint64 {
	_ = unix.ClockGettime(clockThreadCPU, &k.ts)
	return uint64(k.ts.Sec)*1e9 + uint64(k.ts.Nsec)
}

// probe checks once, at session start, that the calls the session makes work here
// (seccomp sandboxes and old kernels can refuse RUSAGE_THREAD), so the hot path can skip
// error checks.
func (k *clocks) probe() error {
	if k.ticksOnly {
		return nil
	}
	if err := unix.ClockGettime(clockThreadCPU, &k.ts); err != nil {
		return err
	}
	if k.noRusage {
		return nil
	}
	return unix.Getrusage(rusageThread, &k.ru)
}
