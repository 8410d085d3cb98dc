package profiler

import "golang.org/x/sys/unix"

// rusageThread is never used here: DragonFly's getrusage has no per-thread form.
const rusageThread = unix.RUSAGE_SELF

// clockThreadCPU is CLOCK_THREAD_CPUTIME_ID: the calling thread's CPU time.
const clockThreadCPU = unix.CLOCK_THREAD_CPUTIME_ID

var platformClocks = clockCaps{cpu: true, rusage: false}

// threadID identifies the calling OS thread: lwp_gettid(2).
func threadID() int {
	id, _, _ := unix.RawSyscall(unix.SYS_LWP_GETTID, 0, 0, 0)
	return int(id)
}
