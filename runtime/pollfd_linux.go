package coro

import (
	"errors"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// pollDesc is a descriptor registered with the loop's epoll, for the socket layer.
// It is registered once, edge-triggered, for both directions (EPOLLIN|EPOLLOUT|
// EPOLLRDHUP|EPOLLET), and holds at most one parked reader and one parked writer.
//
// Protocol (the Go netpoller's): do the system call until it returns EAGAIN, then call
// wait(modeRead or modeWrite) and retry. An edge that arrives while nobody waits sets
// the direction's ready flag, and the next wait consumes the flag and returns at once;
// so an edge is never lost, and at worst costs one extra EAGAIN.
//
// EPOLLERR and EPOLLHUP wake both directions and set hup; the retried system call
// then reports the real error (or EOF), which is how they surface to the caller.
//
// All methods run on the loop thread.
type pollDesc struct {
	s    *Scheduler
	fd   int
	slot int32
	gen  uint32 // bumped when the slot is reused, so a stale event finds nothing

	rg, wg         *Coro // parked reader and writer
	rready, wready bool  // an edge arrived while nobody waited
	hup            bool  // EPOLLERR or EPOLLHUP was reported
	rdhup          bool  // EPOLLRDHUP was reported: the peer shut down its side (sticky; see netFD.drained)
	closed         bool
}

const (
	modeRead  = 'r'
	modeWrite = 'w'
)

// errPollBusy is returned by wait when another coroutine already waits in that
// direction; the socket layer turns it into a descriptive error.
var errPollBusy = errors.New("coro: another coroutine is already waiting on this descriptor in this direction")

func (pd *pollDesc) key() uint64 { return uint64(uint32(pd.slot)) | uint64(pd.gen)<<32 }

// pollOpen registers fd with s's epoll.
func (s *Scheduler) pollOpen(fd int) (*pollDesc, error) {
	p := &s.poll
	if err := p.open(); err != nil {
		return nil, err
	}
	var pd *pollDesc
	if n := len(p.free); n > 0 {
		// A fresh pollDesc in a reused slot: the closed one may still be referenced
		// by its socket, which must keep seeing it closed.
		slot := p.free[n-1]
		p.free = p.free[:n-1]
		pd = &pollDesc{slot: slot, gen: p.descs[slot].gen + 1}
		p.descs[slot] = pd
	} else {
		pd = &pollDesc{slot: int32(len(p.descs))}
		p.descs = append(p.descs, pd)
	}
	pd.s, pd.fd = s, fd
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET}
	setEventKey(&ev, pd.key())
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		pd.closed = true
		p.free = append(p.free, pd.slot)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	p.nfds++
	return pd, nil
}

// dispatch handles one epoll event for the descriptor with key k.
func (p *poller) dispatch(k uint64, events uint32) {
	slot := int32(uint32(k))
	if int(slot) >= len(p.descs) {
		return
	}
	pd := p.descs[slot]
	if pd.key() != k || pd.closed {
		return
	}
	if events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		pd.hup = true
		events |= unix.EPOLLIN | unix.EPOLLOUT
	}
	if events&unix.EPOLLRDHUP != 0 {
		pd.rdhup = true
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP) != 0 {
		if c := pd.rg; c != nil {
			pd.rg = nil
			c.ready()
		} else {
			pd.rready = true
		}
	}
	if events&unix.EPOLLOUT != 0 {
		if c := pd.wg; c != nil {
			pd.wg = nil
			c.ready()
		} else {
			pd.wready = true
		}
	}
}

// wait parks the running coroutine until the descriptor is ready in direction mode
// (returns nil: retry the system call), is closed (net.ErrClosed), or the wait is
// interrupted or timed out (that error).
func (pd *pollDesc) wait(mode byte) error {
	if pd.closed {
		return net.ErrClosed
	}
	slot, ready, reason := &pd.rg, &pd.rready, WaitRead
	if mode == modeWrite {
		slot, ready, reason = &pd.wg, &pd.wready, WaitWrite
	}
	if *ready {
		*ready = false
		return nil
	}
	c := current()
	if *slot != nil && *slot != c { // c itself: left there when c was unwound (Exit) out of a wait
		return errPollBusy
	}
	*slot = c
	err := c.park(reason)
	if err != nil {
		if *slot == c {
			*slot = nil
		}
		return err
	}
	if pd.closed {
		return net.ErrClosed
	}
	return nil
}

// waiter returns the coroutine parked in direction mode, or nil.
func (pd *pollDesc) waiter(mode byte) *Coro {
	if mode == modeWrite {
		return pd.wg
	}
	return pd.rg
}

// close deregisters the descriptor (the caller closes the fd afterwards) and wakes its
// waiters, whose wait returns net.ErrClosed.
func (pd *pollDesc) close() error {
	if pd.closed {
		return nil
	}
	pd.closed = true
	p := &pd.s.poll
	p.nfds--
	var err error
	if e := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, pd.fd, nil); e != nil && e != unix.EBADF && e != unix.ENOENT {
		err = os.NewSyscallError("epoll_ctl", e)
	}
	p.free = append(p.free, pd.slot)
	if c := pd.rg; c != nil {
		pd.rg = nil
		c.ready()
	}
	if c := pd.wg; c != nil {
		pd.wg = nil
		c.ready()
	}
	return err
}
