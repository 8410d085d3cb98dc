package profiler

import "golang.org/x/sys/unix"

// rusageThread is RUSAGE_THREAD (sys/resource.h): the calling thread only.
const rusageThread = unix.RUSAGE_THREAD

// clockThreadCPU is CLOCK_THREAD_CPUTIME_ID: the calling thread's CPU time.
const clockThreadCPU = unix.CLOCK_THREAD_CPUTIME_ID

var platformClocks = clockCaps{cpu: true, rusage: true}

// threadID identifies the calling OS thread: getthrid(2).
func threadID() int {
	id, _, _ := unix.RawSyscall(unix.SYS_GETTHRID, 0, 0, 0)
	return int(id)
}
