package profiler

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// rusageThread is RUSAGE_THREAD (sys/resource.h): the calling thread only.
const rusageThread = unix.RUSAGE_THREAD

// clockThreadCPU is CLOCK_THREAD_CPUTIME_ID: the calling thread's CPU time.
const clockThreadCPU = unix.CLOCK_THREAD_CPUTIME_ID

var platformClocks = clockCaps{cpu: true, rusage: true}

// threadID identifies the calling OS thread: thr_self(2).
func threadID() int {
	var id int64
	unix.RawSyscall(unix.SYS_THR_SELF, uintptr(unsafe.Pointer(&id)), 0, 0)
	return int(id)
}
