package coro

import (
	"errors"
	"net"
)

// pollDesc is a descriptor registered with the loop's poller, for the socket layer. It
// holds at most one parked reader and one parked writer.
//
// Protocol (the Go netpoller's): do the system call until it returns EAGAIN, then call
// wait(modeRead or modeWrite) and retry. A readiness report that arrives while nobody
// waits sets the direction's ready flag, and the next wait consumes the flag and returns
// at once; so a report is never lost, and at worst costs one extra EAGAIN.
//
// With epoll (pollfd_linux.go) the descriptor is registered once, edge-triggered, for
// both directions. With poll(2) (pollfd_portable.go) a direction is polled only while a
// coroutine waits in it (wait arms it), since poll is level-triggered: a writable socket
// polled with nobody waiting would wake the loop at every poll.
//
// An error or hang-up (EPOLLERR/EPOLLHUP, POLLERR/POLLHUP) wakes both directions and sets
// hup; the retried system call then reports the real error (or EOF), which is how they
// surface to the caller.
//
// All methods run on the loop thread.
type pollDesc struct {
	s    *Scheduler
	fd   int
	slot int32
	gen  uint32 // bumped when the slot is reused, so a stale event finds nothing
	pidx int32  // poll(2) only: this descriptor's entry in poller.fds, 0 while not polled

	rg, wg         *Coro // parked reader and writer
	rready, wready bool  // an edge arrived while nobody waited
	hup            bool  // an error or hang-up was reported
	rdhup          bool  // EPOLLRDHUP was reported: the peer shut down its side (sticky; see netFD.drained; never set by poll(2))
	closed         bool
	timerOnly      bool // poll(2) only: the waiter waits for its timer, not for readiness (accept's backoff)
}

const (
	modeRead  = 'r'
	modeWrite = 'w'
)

// errPollBusy is returned by wait when another coroutine already waits in that
// direction; the socket layer turns it into a descriptive error.
var errPollBusy = errors.New("coro: another coroutine is already waiting on this descriptor in this direction")

func (pd *pollDesc) key() uint64 { return uint64(uint32(pd.slot)) | uint64(pd.gen)<<32 }

// pollSlots holds the registered descriptors by slot; both pollers embed it.
type pollSlots struct {
	descs []*pollDesc // registered descriptors by slot (see pollDesc.key)
	free  []int32     // free slots
}

// alloc returns a fresh pollDesc in a free or new slot.
func (p *pollSlots) alloc() *pollDesc {
	if n := len(p.free); n > 0 {
		// A fresh pollDesc in a reused slot: the closed one may still be referenced
		// by its socket, which must keep seeing it closed.
		slot := p.free[n-1]
		p.free = p.free[:n-1]
		pd := &pollDesc{slot: slot, gen: p.descs[slot].gen + 1}
		p.descs[slot] = pd
		return pd
	}
	pd := &pollDesc{slot: int32(len(p.descs))}
	p.descs = append(p.descs, pd)
	return pd
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
	armPoll(pd, mode)
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

// wakeBoth readies the parked reader and writer, if any (on close).
func (pd *pollDesc) wakeBoth() {
	if c := pd.rg; c != nil {
		pd.rg = nil
		c.ready()
	}
	if c := pd.wg; c != nil {
		pd.wg = nil
		c.ready()
	}
}
