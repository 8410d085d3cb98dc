package profiler

import "golang.org/x/sys/unix"

// rusageThread is never used here: darwin's getrusage reads the process or its
// children, not one thread, so platformClocks has no rusage.
const rusageThread = unix.RUSAGE_SELF

// clockThreadCPU is CLOCK_THREAD_CPUTIME_ID: the calling thread's CPU time.
const clockThreadCPU = unix.CLOCK_THREAD_CPUTIME_ID

var platformClocks = clockCaps{cpu: true, rusage: false}

// threadID identifies the calling OS thread: the kernel's thread_selfid, the id
// pthread_threadid_np returns.
func threadID() int {
	id, _, _ := unix.RawSyscall(unix.SYS_THREAD_SELFID, 0, 0, 0)
	return int(id)
}
