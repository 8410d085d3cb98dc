//go:build coro_poll || darwin || dragonfly || freebsd || netbsd || openbsd

package coro

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// poller is the portable poller: poll(2) over the descriptors a coroutine waits on, and
// a self-pipe through which other goroutines wake the loop (see inbox). It is the
// poller on every Unix but Linux, and on Linux under -tags coro_poll, which is how CI
// tests it. The pipe is created at the first EventLoop and kept for the scheduler's
// life, so a loop that is run again reuses it.
//
// fds[0] is the pipe's read end; fds[1:] are the descriptors polled now, pds[i] the
// pollDesc of fds[i] (whose pidx is i). poll(2) is level-triggered, so a direction is
// polled only while a coroutine waits in it (armPoll adds it, ready removes it), else a
// writable socket would end every poll at once; and the table holds only descriptors
// being polled, because poll refuses (EINVAL) a table longer than RLIMIT_NOFILE. Each
// poll costs time in the number of waiting descriptors, where epoll costs time in the
// number of ready ones: docs/PERFORMANCE.md has the echo benchmark on both.
type poller struct {
	fds  []unix.PollFd
	pds  []*pollDesc
	wr   int // the pipe's write end, -1 until open
	nfds int // registered descriptors, besides the pipe

	pollSlots
}

// init marks the poller unopened; NewScheduler calls it.
func (p *poller) init() { p.wr = -1 }

// wakeFD is the descriptor other goroutines write to wake the loop (see inbox).
func (p *poller) wakeFD() int { return p.wr }

func (p *poller) open() error {
	if p.wr >= 0 {
		return nil
	}
	var fds [2]int
	// No pipe2 on darwin: create and mark close-on-exec under ForkLock, as package os
	// does, so no fork+exec in between can inherit the pipe.
	syscall.ForkLock.RLock()
	err := unix.Pipe(fds[:])
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return os.NewSyscallError("pipe", err)
	}
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return os.NewSyscallError("fcntl", err)
		}
	}
	p.fds = append(p.fds[:0], unix.PollFd{Fd: int32(fds[0]), Events: unix.POLLIN})
	p.pds = append(p.pds[:0], nil)
	p.wr = fds[1]
	return nil
}

// waitIO polls up to timeout ms (0: do not block, -1: forever) and returns how many
// entries of s.poll.fds have events. A non-blocking poll with no direction armed is
// skipped: it could report nothing but the pipe, which pick watches through armed.
func (s *Scheduler) waitIO(timeout int) int {
	p := &s.poll
	if timeout == 0 && len(p.fds) == 1 {
		return 0
	}
	n, err := unix.Poll(p.fds, timeout)
	if err != nil {
		if err == unix.EINTR || err == unix.EAGAIN {
			return 0
		}
		// EFAULT, EINVAL: the loop's own table is broken; nothing sane can continue.
		panic(os.NewSyscallError("poll", err))
	}
	return n
}

// dispatch wakes the waiters of the n entries of s.poll.fds that have events. It walks
// the table from the end, so an entry that ready removes is replaced by one already seen.
func (s *Scheduler) dispatch(n int) {
	p := &s.poll
	if n <= 0 {
		return
	}
	if p.fds[0].Revents != 0 {
		p.fds[0].Revents = 0
		p.drainPipe() // the inbox itself is drained by pick, which sees armed
		n--
	}
	for i := len(p.fds) - 1; n > 0 && i >= 1; i-- {
		if p.fds[i].Revents != 0 {
			n--
			p.ready(i)
		}
	}
}

// drainPipe empties the wake-up pipe, which is level-triggered: left full it would end
// every poll at once.
func (p *poller) drainPipe() {
	var buf [128]byte
	for {
		n, err := unix.Read(int(p.fds[0].Fd), buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(buf) {
			return // EAGAIN: empty
		}
	}
}

// wakeLoop wakes the loop blocked in poll: one byte into its pipe.
func wakeLoop(fd int) {
	one := [1]byte{1}
	for {
		_, err := unix.Write(fd, one[:])
		if err != unix.EINTR {
			return // EAGAIN means the pipe is full: the loop wakes anyway
		}
	}
}

// pollOpen registers fd with s's poller, which polls it once a coroutine waits on it.
func (s *Scheduler) pollOpen(fd int) (*pollDesc, error) {
	p := &s.poll
	if err := p.open(); err != nil {
		return nil, err
	}
	pd := p.alloc()
	pd.s, pd.fd = s, fd
	p.nfds++
	return pd, nil
}

// armPoll adds direction mode to what the poll of pd's descriptor asks for, adding the
// descriptor to the table if it is not there; wait calls it before parking.
//
// Accept's backoff after EMFILE is not armed (timerOnly): it waits for its timer or a
// new connection, and a level-triggered poll would report the connection that could
// not be accepted at once, again and again. (With epoll a new connection is a new edge
// and ends the backoff early; here only the timer or a Close does.)
func armPoll(pd *pollDesc, mode byte) {
	if pd.timerOnly {
		return
	}
	p := &pd.s.poll
	if pd.pidx == 0 {
		pd.pidx = int32(len(p.fds))
		p.fds = append(p.fds, unix.PollFd{Fd: int32(pd.fd)})
		p.pds = append(p.pds, pd)
	}
	e := &p.fds[pd.pidx]
	if mode == modeWrite {
		e.Events |= unix.POLLOUT
	} else {
		e.Events |= unix.POLLIN
	}
}

// ready handles the events poll reported in entry i: it wakes the waiter of each ready
// direction (or sets its ready flag when the waiter has gone, interrupted or timed out),
// stops polling that direction, and drops the entry when nothing is left to poll.
func (p *poller) ready(i int) {
	e, pd := &p.fds[i], p.pds[i]
	r := e.Revents
	e.Revents = 0
	if r&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
		pd.hup = true
		r |= unix.POLLIN | unix.POLLOUT
		e.Events = 0 // hung up: polling on would report it again at once
	}
	if r&unix.POLLIN != 0 {
		e.Events &^= unix.POLLIN
		if c := pd.rg; c != nil {
			pd.rg = nil
			c.ready()
		} else {
			pd.rready = true
		}
	}
	if r&unix.POLLOUT != 0 {
		e.Events &^= unix.POLLOUT
		if c := pd.wg; c != nil {
			pd.wg = nil
			c.ready()
		} else {
			pd.wready = true
		}
	}
	if e.Events == 0 {
		p.unpoll(pd)
	}
}

// unpoll removes pd's entry from the table, moving the last entry into its place.
func (p *poller) unpoll(pd *pollDesc) {
	i := pd.pidx
	if i == 0 {
		return
	}
	last := int32(len(p.fds) - 1)
	if i != last {
		p.fds[i] = p.fds[last]
		p.pds[i] = p.pds[last]
		p.pds[i].pidx = i
	}
	p.fds = p.fds[:last]
	p.pds[last] = nil
	p.pds = p.pds[:last]
	pd.pidx = 0
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
	p.unpoll(pd)
	p.free = append(p.free, pd.slot)
	pd.wakeBoth()
	return nil
}
