//go:build !coro_poll

package coro

import (
	"os"

	"golang.org/x/sys/unix"
)

// poller is the loop's epoll instance plus the eventfd through which other goroutines
// wake it (see inbox). Both are created at the first EventLoop and kept for the
// scheduler's life, so a loop that is run again reuses them.
type poller struct {
	epfd   int
	efd    int
	events [128]unix.EpollEvent
	nfds   int // registered descriptors, besides the eventfd

	pollSlots
}

// init marks the poller unopened; NewScheduler calls it.
func (p *poller) init() { p.epfd, p.efd = -1, -1 }

// wakeFD is the descriptor other goroutines write to wake the loop (see inbox).
func (p *poller) wakeFD() int { return p.efd }

// eventfdKey is the epoll user data of the eventfd; descriptor keys never equal it.
const eventfdKey = ^uint64(0)

func (p *poller) open() error {
	if p.epfd >= 0 {
		return nil
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return os.NewSyscallError("eventfd", err)
	}
	// Edge-triggered, and never read: every write to an eventfd signals an edge, so
	// the loop needs no read(2) to re-arm it, one system call less per batch of posts.
	// The counter only grows, by one per batch; it would take centuries to overflow.
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET}
	setEventKey(&ev, eventfdKey)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(efd)
		unix.Close(epfd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	p.epfd, p.efd = epfd, efd
	return nil
}

// setEventKey and eventKey store a 64-bit key in the epoll_event data union, which
// x/sys/unix exposes as the Fd and Pad fields.
func setEventKey(ev *unix.EpollEvent, k uint64) {
	ev.Fd = int32(uint32(k))
	ev.Pad = int32(uint32(k >> 32))
}

func eventKey(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// waitIO waits up to timeout ms (0: do not block, -1: forever) and returns how many
// events it stored in s.poll.events.
func (s *Scheduler) waitIO(timeout int) int {
	n, err := unix.EpollWait(s.poll.epfd, s.poll.events[:], timeout)
	if err != nil {
		if err == unix.EINTR {
			return 0
		}
		// EBADF, EFAULT, EINVAL: the loop's own descriptor is broken; nothing sane
		// can continue.
		panic(os.NewSyscallError("epoll_wait", err))
	}
	return n
}

// dispatch wakes the waiters of the first n events of s.poll.events.
func (s *Scheduler) dispatch(n int) {
	p := &s.poll
	for i := 0; i < n; i++ {
		ev := &p.events[i]
		k := eventKey(ev)
		if k == eventfdKey {
			continue // the inbox is drained by pick, which sees armed
		}
		s.poll.dispatch(k, ev.Events)
	}
}

// wakeLoop wakes the loop blocked in epoll_wait: one write to its eventfd.
func wakeLoop(fd int) {
	one := [8]byte{1}
	for {
		_, err := unix.Write(fd, one[:])
		if err != unix.EINTR {
			return // EAGAIN means the counter is saturated: the loop wakes anyway
		}
	}
}
