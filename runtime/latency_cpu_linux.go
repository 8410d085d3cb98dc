package coro

import "golang.org/x/sys/unix"

// threadCPUClock is the clock ID of the calling thread's CPU time that any thread of
// the process may read: Linux's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED), what
// pthread_getcpuclockid returns (clock_getcpuclockid(2); the kernel's
// posix-cpu-timers). The coarse ticker reads a loop thread's CPU time with it, from
// its own thread.
func threadCPUClock() (int32, bool) {
	return int32(^uint32(unix.Gettid())<<3 | 6), true
}

// readCPUClock reads a CPU-time clock in nanoseconds.
func readCPUClock(id int32) (int64, bool) {
	var ts unix.Timespec
	if unix.ClockGettime(id, &ts) != nil {
		return 0, false
	}
	return ts.Nano(), true
}

// ownCPU is the calling thread's CPU time in nanoseconds.
func ownCPU() (int64, bool) { return readCPUClock(unix.CLOCK_THREAD_CPUTIME_ID) }
