package profiler

import "golang.org/x/sys/unix"

// rusageThread is RUSAGE_THREAD (linux/resource.h): the calling thread only.
const rusageThread = 1

// clockThreadCPU is CLOCK_THREAD_CPUTIME_ID: the calling thread's CPU time.
const clockThreadCPU = unix.CLOCK_THREAD_CPUTIME_ID

var platformClocks = clockCaps{cpu: true, rusage: true}

// threadID identifies the calling OS thread.
func threadID() int { return unix.Gettid() }
