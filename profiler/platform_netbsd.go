package profiler

import "golang.org/x/sys/unix"

// rusageThread is never used here: NetBSD's getrusage has no per-thread form.
const rusageThread = unix.RUSAGE_SELF

// clockThreadCPU is never read here (platformClocks has no cpu).
const clockThreadCPU = 0

// NetBSD has a thread CPU clock, but x/sys/unix does not name it, and this project
// cannot run NetBSD to check a hand-written constant: ticks only.
var platformClocks = clockCaps{cpu: false, rusage: false}

// threadID identifies the calling OS thread: _lwp_self(2).
func threadID() int {
	id, _, _ := unix.RawSyscall(unix.SYS__LWP_SELF, 0, 0, 0)
	return int(id)
}
