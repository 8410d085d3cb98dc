//go:build linux

package profiler

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The thread CPU clock without a system call. Linux maps a perf_event's state into user
// space (struct perf_event_mmap_page, include/uapi/linux/perf_event.h); for a software
// task-clock event of the calling thread, the page's time_enabled is the thread's CPU
// time up to the kernel's last update, and where the page sets cap_user_time, the time
// since that update follows from the TSC with the page's time_mult, time_shift and
// time_offset: a CPU clock read for a few tens of nanoseconds instead of a system call
// of hundreds. The kernel sets cap_user_time only with a stable TSC-based sched_clock;
// KVM guests on kvm-clock, like this project's machines, get capabilities without it.
//
// So the profiler probes the page once per process and records in the profile's notes
// which clock read it used. Only the system call is implemented: reading the page
// needs a per-thread event opened on every loop thread and a seqlock read against the
// kernel's updates, which cannot be exercised on a machine whose page lacks
// cap_user_time (docs/PERFORMANCE.md, the profiler's floor).

// Offsets in struct perf_event_mmap_page.
const (
	perfPageCapabilities = 40 // __u64 capabilities (a bit field)
	perfCapUserTime      = 1 << 3
)

var perfProbe struct {
	once sync.Once
	caps uint64
	err  error
}

// perfUserTime reports whether the kernel offers the thread's task clock in user space
// (cap_user_time), with the capabilities word it read, or why it could not ask.
func perfUserTime() (ok bool, caps uint64, err error) {
	perfProbe.once.Do(func() { perfProbe.caps, perfProbe.err = probePerfPage() })
	return perfProbe.err == nil && perfProbe.caps&perfCapUserTime != 0, perfProbe.caps, perfProbe.err
}

func probePerfPage() (uint64, error) {
	attr := unix.PerfEventAttr{
		Type:   unix.PERF_TYPE_SOFTWARE,
		Config: unix.PERF_COUNT_SW_TASK_CLOCK,
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
	}
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return 0, os.NewSyscallError("perf_event_open", err)
	}
	defer unix.Close(fd)
	page, err := unix.Mmap(fd, 0, os.Getpagesize(), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, os.NewSyscallError("mmap", err)
	}
	defer unix.Munmap(page)
	return binary.NativeEndian.Uint64(page[perfPageCapabilities:]), nil
}

// cpuClockNote says, for the profile's notes, how the thread CPU clock was read.
func cpuClockNote() string {
	ok, caps, err := perfUserTime()
	switch {
	case err != nil:
		return fmt.Sprintf("thread CPU clock: clock_gettime(CLOCK_THREAD_CPUTIME_ID), a system call per read (no perf_event page to read it from user space: %v)", err)
	case ok:
		return fmt.Sprintf("thread CPU clock: clock_gettime(CLOCK_THREAD_CPUTIME_ID), a system call per read (the perf_event page offers cap_user_time, capabilities %#x, which this version does not use)", caps)
	default:
		return fmt.Sprintf("thread CPU clock: clock_gettime(CLOCK_THREAD_CPUTIME_ID), a system call per read (the perf_event page has no cap_user_time here, capabilities %#x)", caps)
	}
}
