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

	descs []*pollDesc // registered descriptors by slot (see pollDesc.key)
	free  []int32     // free slots
}

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

// pollNow runs what is due without blocking: expired timers and, when descriptors are
// registered, ready I/O. Called at the start of each run-queue batch.
func (s *Scheduler) pollNow() {
	if s.timers.len() > 0 {
		s.runTimers(nanotime())
	}
	if s.poll.nfds > 0 {
		s.dispatch(s.epollWait(0))
	}
}

// pollWait blocks until something can run: an I/O event, the next timer, or a post to
// the inbox. The epoll timeout is the time to the next timer in milliseconds, rounded
// up so a timer never fires early (epoll_wait's resolution is a millisecond; a timerfd
// would be exact but costs a timerfd_settime whenever the earliest deadline changes,
// and a network loop does not need sub-millisecond timers).
func (s *Scheduler) pollWait() {
	timeout := -1
	if s.timers.len() > 0 {
		now := nanotime()
		if s.runTimers(now) {
			return // something became runnable
		}
		d := s.timers.next() - now
		timeout = int(min((d+999_999)/1_000_000, maxPollMillis))
	}
	if s.inbox.armed.Load() {
		return
	}
	var n int
	if h := s.hooks; h != nil {
		h.BeforePoll()
		n = s.epollWait(timeout)
		h.AfterPoll() // before dispatching: a wake-up (WaitEnd) is scheduler work
	} else {
		n = s.epollWait(timeout)
	}
	s.latency.polled()
	s.dispatch(n)
	if s.timers.len() > 0 {
		s.runTimers(nanotime())
	}
}

// maxPollMillis caps the epoll timeout (epoll_wait takes an int of milliseconds); a
// loop waiting longer just wakes once a day and waits again.
const maxPollMillis = 24 * 3600 * 1000

// epollWait waits up to timeout ms (0: do not block, -1: forever) and returns how many
// events it stored in s.poll.events.
func (s *Scheduler) epollWait(timeout int) int {
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
