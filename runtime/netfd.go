package coro

import (
	"errors"
	"io"
	"math"
	"net"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// netFD is a socket on the loop's poller: the descriptor, its pollDesc (the scheduler's
// epoll registration with one reader and one writer slot), its addresses and its
// deadlines. It implements the I/O protocol the poller expects: make the system call
// until EAGAIN, then park on the pollDesc in that direction, then try again.
//
// The I/O methods run on the loop thread, from a coroutine when they may wait; called
// from elsewhere, they have themselves run on the loop (foreign, at the end of this
// file; bridge.go), so the descriptor, its poller slots and deadlines are only touched
// there.
type netFD struct {
	pd     *pollDesc
	ns     *netLoopState // the loop's socket-layer state (selfishness)
	fd     int
	family int
	sotype int
	net    string
	laddr  net.Addr
	raddr  net.Addr

	closed     bool        // torn down (close1); loop thread only
	closing    atomic.Bool // Close was called, from anywhere; the first one tears down
	unlinkPath string      // a unix listener's socket file, removed at Close

	// drained is set when a stream read returned less than asked: the receive queue
	// was empty at that moment, so the next read waits for the poller's edge first
	// (which it consumes at once if one came meanwhile) instead of spending a system
	// call on a certain EAGAIN. Edge-triggered epoll reports every arrival after
	// that point, so nothing is missed. This saves one of the three system calls of
	// a request/response exchange (read, write, read that says EAGAIN).
	drained bool

	rdl, wdl ioDeadline

	// rlk and wlk serialize the calls in each direction, as package net's fdMutex
	// does: concurrent Reads (or Writes, Accepts) queue in arrival order and each
	// runs whole, so two Writes never interleave their bytes.
	rlk, wlk ioLock

	// accept backoff after EMFILE and the like: how many times it happened, for tests
	// and the debug console, and the current delay.
	backoffs   int
	backoffDur time.Duration
}

// ioDeadline is one direction's deadline: when it passes, the coroutine parked in that
// direction (if any) is woken with os.ErrDeadlineExceeded, and later calls fail with
// it at once. The timer is on the loop's timer heap and armed only while a coroutine
// is parked, so an idle connection with a deadline costs no timer.
type ioDeadline struct {
	when int64 // nanotime; 0 when none
	t    timer // armed while a coroutine waits (t.idx >= 0)
	// backoff is set while the timer is a plain wake-up after an accept backoff, not
	// the deadline.
	backoff bool
}

func (d *ioDeadline) expired() bool { return d.when != 0 && nanotime() >= d.when }

// newNetFD registers a fresh non-blocking socket with the poller of the caller's loop
// (the default loop when the caller is not a coroutine, e.g. main before EventLoop).
func newNetFD(fd, family, sotype int, network string) (*netFD, error) {
	s := CurrentScheduler()
	if s == nil {
		s = defaultSched
		if s.running.Load() {
			// The poller belongs to the loop thread while the loop runs; the
			// caller closes fd.
			return nil, errors.New("coro: socket created outside the running event loop: create it from a coroutine (or before EventLoop)")
		}
	}
	pd, err := s.pollOpen(fd)
	if err != nil {
		return nil, err
	}
	nfd := &netFD{pd: pd, ns: netStateOf(s), fd: fd, family: family, sotype: sotype, net: network}
	nfd.rdl.t.idx, nfd.wdl.t.idx = -1, -1
	nfd.rdl.t.fire, nfd.wdl.t.fire = fireDeadline, fireDeadline
	nfd.rdl.t.arg, nfd.wdl.t.arg = nfd, nfd
	return nfd, nil
}

// fireDeadline runs on the loop when a deadline (or an accept backoff) timer expires
// while t.c is parked on the descriptor: it takes t.c out of its slot and wakes it, with
// os.ErrDeadlineExceeded for a deadline and with nil (retry) for a backoff.
func fireDeadline(t *timer) {
	fd := t.arg.(*netFD)
	c := t.c
	t.c = nil
	if c == nil {
		return
	}
	dl, slot := &fd.rdl, &fd.pd.rg
	if t == &fd.wdl.t {
		dl, slot = &fd.wdl, &fd.pd.wg
	}
	if *slot != c || c.state != StateWaiting {
		return // already woken by I/O or Close, or unwound
	}
	*slot = nil
	if dl.backoff {
		c.ready()
		return
	}
	c.wake(os.ErrDeadlineExceeded)
}

// wait parks the running coroutine until fd is ready in direction mode. It returns nil
// (retry the system call), net.ErrClosed, os.ErrDeadlineExceeded, ErrNotCoroutine, or
// the error that interrupted the wait (Interrupt, WithTimeout). The caller holds the
// direction's ioLock, so nobody else waits in that direction.
func (fd *netFD) wait(mode byte) error {
	dl := &fd.rdl
	if mode == modeWrite {
		dl = &fd.wdl
	}
	return fd.waitUntil(mode, dl, dl.when, false)
}

// waitUntil is wait with the timer set to when (0: none); backoff says the timer is a
// plain wake-up rather than a deadline.
func (fd *netFD) waitUntil(mode byte, dl *ioDeadline, when int64, backoff bool) error {
	if fd.closed {
		return net.ErrClosed
	}
	c := currentOrNil()
	if c == nil || c.s != fd.pd.s {
		return ErrNotCoroutine
	}
	if w := fd.pd.waiter(mode); w != nil && w != c && w.state == StateExited {
		// Left by a coroutine unwound while parked here (the loop's Exit unwinds
		// parked coroutines without going through the poller): not a waiter.
		if mode == modeWrite {
			fd.pd.wg = nil
		} else {
			fd.pd.rg = nil
		}
	}
	if when != 0 && !backoff && nanotime() >= when {
		return os.ErrDeadlineExceeded
	}
	// dl.t.c marks the parked coroutine even when there is no deadline now, so that
	// a deadline set while it waits (setDeadline) arms the timer for this wait.
	dl.backoff = backoff
	dl.t.c = c
	if when != 0 {
		c.s.addTimer(&dl.t, when)
	}
	err := fd.pd.wait(mode)
	c.s.delTimer(&dl.t)
	dl.t.c = nil
	dl.backoff = false
	fd.ns.parked()
	return err
}

// setDeadline sets one direction's deadline. A coroutine parked in that direction sees
// the new deadline at once: its timer is moved (or removed, or fired now).
// setDeadlines is what SetDeadline, SetReadDeadline and SetWriteDeadline of Conn and
// UDPConn do: set the read and/or write deadline of an open socket.
func (fd *netFD) setDeadlines(read, write bool, t time.Time) error {
	if fd.pd.s.curG.load() != getg() {
		return fd.setDeadlinesForeign(read, write, t)
	}
	return fd.setDeadlines1(read, write, t)
}

func (fd *netFD) setDeadlinesForeign(read, write bool, t time.Time) (err error) {
	if ferr := fd.foreign(false, func() { err = fd.setDeadlines1(read, write, t) }); ferr != nil {
		return fd.opError("set", ferr)
	}
	return err
}

func (fd *netFD) setDeadlines1(read, write bool, t time.Time) error {
	if fd.closed {
		return fd.opError("set", net.ErrClosed)
	}
	if read {
		fd.setDeadline(&fd.rdl, t)
	}
	if write {
		fd.setDeadline(&fd.wdl, t)
	}
	return nil
}

func (fd *netFD) setDeadline(dl *ioDeadline, t time.Time) {
	when := int64(0)
	if !t.IsZero() {
		now, d := nanotime(), time.Until(t)
		switch {
		case d > 0 && int64(d) > math.MaxInt64-now:
			when = math.MaxInt64 // far future (time.Until saturates): never
		case now+int64(d) <= 0:
			when = 1 // in the past, but not "none"
		default:
			when = now + int64(d)
		}
	}
	dl.when = when
	if dl.t.c == nil || dl.backoff {
		return // nobody parked under this deadline
	}
	s := fd.pd.s
	s.delTimer(&dl.t)
	if when != 0 {
		s.addTimer(&dl.t, when) // fires at the next timer run if already past
	}
}

// read reads once, parking until data, EOF or an error. EOF on a stream is io.EOF.
func (fd *netFD) read(p []byte) (int, error) {
	s := fd.pd.s
	if s.curG.load() != getg() {
		return fd.readForeign(p)
	}
	if err := fd.rlk.lock(s, WaitRead); err != nil {
		return 0, err
	}
	r, err := fd.read1(p) // readLocked, written out: one call level less
	fd.rlk.unlock()
	return r, err
}

// readForeign is read from off the loop's thread (kept out of read, whose
// results it captures: they would move to the heap on every call).
func (fd *netFD) readForeign(p []byte) (n int, err error) {
	if fd.otherLoop() {
		return 0, ErrWrongLoop
	}
	if ferr := fd.foreign(true, func() { n, err = fd.readLocked(p) }); ferr != nil {
		return 0, ferr
	}
	return n, err
}

// readLocked is read on the loop thread (or with the loop not running): it holds the
// direction's lock for the whole call.
func (fd *netFD) readLocked(p []byte) (n int, err error) {
	if err := fd.rlk.lock(fd.pd.s, WaitRead); err != nil {
		return 0, err
	}
	n, err = fd.read1(p)
	fd.rlk.unlock()
	return n, err
}

func (fd *netFD) read1(p []byte) (int, error) {
	if fd.closed {
		return 0, net.ErrClosed
	}
	if fd.rdl.expired() {
		return 0, os.ErrDeadlineExceeded
	}
	if len(p) == 0 && fd.sotype == unix.SOCK_STREAM {
		return 0, nil
	}
	if fd.drained {
		// Unless the peer has shut down or failed already: that state raises no
		// new edge, and the read must see it now (EOF or the error).
		fd.drained = false
		if !fd.pd.rdhup && !fd.pd.hup {
			if err := fd.wait(modeRead); err != nil {
				return 0, err
			}
		}
	}
	for {
		n, err := sysRead(fd.fd, p)
		if err == nil {
			if fd.sotype == unix.SOCK_STREAM {
				if n == 0 {
					return 0, io.EOF
				}
				fd.drained = n < len(p)
			}
			fd.nonBlocking()
			return n, nil
		}
		if err == unix.EAGAIN {
			if err := fd.wait(modeRead); err != nil {
				return 0, err
			}
			continue
		}
		return 0, os.NewSyscallError("read", err)
	}
}

// write writes all of p, parking whenever the socket buffer is full; n < len(p) only
// with an error.
func (fd *netFD) write(p []byte) (int, error) {
	s := fd.pd.s
	if s.curG.load() != getg() {
		return fd.writeForeign(p)
	}
	if err := fd.wlk.lock(s, WaitWrite); err != nil {
		return 0, err
	}
	r, err := fd.write1(p) // writeLocked, written out: one call level less
	fd.wlk.unlock()
	return r, err
}

// writeForeign is write from off the loop's thread (kept out of write, whose
// results it captures: they would move to the heap on every call).
func (fd *netFD) writeForeign(p []byte) (n int, err error) {
	if fd.otherLoop() {
		return 0, ErrWrongLoop
	}
	if ferr := fd.foreign(true, func() { n, err = fd.writeLocked(p) }); ferr != nil {
		return 0, ferr
	}
	return n, err
}

// writeLocked is write on the loop thread (or with the loop not running): it holds the
// direction's lock for the whole call.
func (fd *netFD) writeLocked(p []byte) (n int, err error) {
	if err := fd.wlk.lock(fd.pd.s, WaitWrite); err != nil {
		return 0, err
	}
	n, err = fd.write1(p)
	fd.wlk.unlock()
	return n, err
}

func (fd *netFD) write1(p []byte) (int, error) {
	if fd.closed {
		return 0, net.ErrClosed
	}
	nn := 0
	for {
		if fd.wdl.expired() {
			return nn, os.ErrDeadlineExceeded
		}
		n, err := sysWrite(fd.fd, p[nn:])
		nn += n
		if err == nil {
			if nn == len(p) {
				fd.nonBlocking()
				return nn, nil
			}
			continue // a short write: the next call says EAGAIN or takes more
		}
		if err == unix.EAGAIN {
			if err := fd.wait(modeWrite); err != nil {
				return nn, err
			}
			continue
		}
		return nn, os.NewSyscallError("write", err)
	}
}

// Accept backoff after running out of descriptors or memory, as net/http's server
// does: the pending connection stays queued (and the edge-triggered listener gets no
// new edge for it), so the coroutine sleeps on the listener with a growing delay,
// woken early by a new connection or Close, instead of spinning on accept.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// accept accepts one connection and registers it with the poller.
func (fd *netFD) accept() (*netFD, error) {
	s := fd.pd.s
	if s.curG.load() != getg() {
		return fd.acceptForeign()
	}
	if err := fd.rlk.lock(s, WaitRead); err != nil {
		return nil, err
	}
	r, err := fd.accept1() // acceptLocked, written out: one call level less
	fd.rlk.unlock()
	return r, err
}

// acceptForeign is accept from off the loop's thread (kept out of accept, whose
// results it captures: they would move to the heap on every call).
func (fd *netFD) acceptForeign() (nfd *netFD, err error) {
	if fd.otherLoop() {
		return nil, ErrWrongLoop // the new socket would land on the caller's poller
	}
	if ferr := fd.foreign(true, func() { nfd, err = fd.acceptLocked() }); ferr != nil {
		return nil, ferr
	}
	return nfd, err
}

// acceptLocked is accept on the loop thread (or with the loop not running): it holds the
// direction's lock for the whole call.
func (fd *netFD) acceptLocked() (nfd *netFD, err error) {
	if err := fd.rlk.lock(fd.pd.s, WaitRead); err != nil {
		return nil, err
	}
	nfd, err = fd.accept1()
	fd.rlk.unlock()
	return nfd, err
}

func (fd *netFD) accept1() (*netFD, error) {
	if fd.closed {
		return nil, net.ErrClosed
	}
	for {
		if fd.rdl.expired() {
			return nil, os.ErrDeadlineExceeded
		}
		nfd, rsa, err := sysAccept(fd.fd)
		switch err {
		case nil:
			fd.backoffDur = 0
			fd.nonBlocking()
			c, err := newNetFD(nfd, fd.family, fd.sotype, fd.net)
			if err != nil {
				sysClose(nfd)
				return nil, err
			}
			c.setAddrs(rsa)
			if fd.family != unix.AF_UNIX {
				setsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1, "TCP_NODELAY")
			}
			return c, nil
		case unix.EAGAIN:
			if err := fd.wait(modeRead); err != nil {
				return nil, err
			}
		case unix.ECONNABORTED:
			// The peer gave up while queued: take the next one.
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			fd.backoffs++
			if fd.backoffDur == 0 {
				fd.backoffDur = acceptBackoffMin
			} else if fd.backoffDur *= 2; fd.backoffDur > acceptBackoffMax {
				fd.backoffDur = acceptBackoffMax
			}
			when := nanotime() + int64(fd.backoffDur)
			if fd.rdl.when != 0 && fd.rdl.when < when {
				when = fd.rdl.when
			}
			fd.pd.timerOnly = true // poll(2) is level-triggered: see armPoll
			err := fd.waitUntil(modeRead, &fd.rdl, when, true)
			fd.pd.timerOnly = false
			if err != nil {
				return nil, err
			}
		default:
			return nil, os.NewSyscallError("accept4", err)
		}
	}
}

// setAddrs fills in the local address from the kernel and the remote one from rsa
// (or getpeername when rsa is nil).
func (fd *netFD) setAddrs(rsa unix.Sockaddr) {
	if lsa, err := unix.Getsockname(fd.fd); err == nil {
		fd.laddr = sockaddrToAddr(fd.sotype, lsa)
	}
	if rsa == nil {
		rsa, _ = unix.Getpeername(fd.fd)
	}
	fd.raddr = sockaddrToAddr(fd.sotype, rsa)
}

// connect completes a non-blocking connect: start it, park until the socket is
// writable, then read the outcome from SO_ERROR.
func (fd *netFD) connect(sa unix.Sockaddr) error {
	switch err := sysConnect(fd.fd, sa); err {
	case nil, unix.EISCONN:
		return nil
	case unix.EINPROGRESS, unix.EALREADY:
	default:
		return os.NewSyscallError("connect", err)
	}
	for {
		if err := fd.wait(modeWrite); err != nil {
			return err
		}
		switch err := sysSoError(fd.fd); err {
		case nil:
			// Writable with no error: connected, unless the wake-up was for an
			// edge from before the connect finished; getpeername tells.
			if _, err := unix.Getpeername(fd.fd); err == nil {
				return nil
			}
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
		default:
			if errno, ok := err.(unix.Errno); ok {
				return os.NewSyscallError("connect", errno)
			}
			return err
		}
	}
}

// close deregisters and closes the socket; parked coroutines wake with net.ErrClosed,
// and so do the calls queued behind them. The first Close, from anywhere, wins (closing)
// and the others fail with net.ErrClosed, as with package net. From outside the loop's
// thread, the winner hands the teardown to the loop (through the inbox, ahead of
// anything the caller posts later) and returns without waiting for it: a Close made
// while holding a lock that the loop's coroutines also take (a server's shutdown path)
// must not wait for the loop. With the loop not running, it closes at once.
func (fd *netFD) close() error {
	if !fd.closing.CompareAndSwap(false, true) {
		return net.ErrClosed
	}
	s := fd.pd.s
	if s.curG.load() == getg() {
		return fd.close1()
	}
	b := &s.bridge
	b.mu.Lock()
	if !b.running {
		err := fd.close1()
		b.mu.Unlock()
		return err
	}
	wfd := s.inbox.push(inboxItem{kind: itemForeign, ffn: func(bridgeMode) { fd.close1() }})
	b.mu.Unlock()
	if wfd >= 0 {
		wakeLoop(wfd)
	}
	return nil
}

// close1 is the teardown, on the loop's thread (or with the loop not running), by the
// Close that won.
func (fd *netFD) close1() error {
	s := fd.pd.s
	fd.closed = true
	s.delTimer(&fd.rdl.t)
	s.delTimer(&fd.wdl.t)
	err := fd.pd.close()
	if cerr := sysClose(fd.fd); err == nil {
		err = cerr
	}
	if fd.unlinkPath != "" {
		os.Remove(fd.unlinkPath)
	}
	return err
}

// shutdown half-closes the socket (unix.SHUT_RD or SHUT_WR).
func (fd *netFD) shutdown(how int) error {
	if fd.pd.s.curG.load() != getg() {
		return fd.shutdownForeign(how)
	}
	return fd.shutdown1(how)
}

func (fd *netFD) shutdownForeign(how int) (err error) {
	if ferr := fd.foreign(false, func() { err = fd.shutdown1(how) }); ferr != nil {
		return ferr
	}
	return err
}

func (fd *netFD) shutdown1(how int) error {
	if fd.closed {
		return net.ErrClosed
	}
	if err := unix.Shutdown(fd.fd, how); err != nil {
		return os.NewSyscallError("shutdown", err)
	}
	return nil
}

// opError wraps err the way package net does, so callers can use errors.Is with
// net.ErrClosed and os.ErrDeadlineExceeded, and net.Error's Timeout.
func (fd *netFD) opError(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &net.OpError{Op: op, Net: fd.net, Source: fd.laddr, Addr: fd.raddr, Err: err}
}

// ioLock is one direction's call lock (netFD.rlk, wlk): the coroutine holding it is the
// only one that makes system calls or waits in that direction; the others queue, first
// come first served, and the lock is handed straight to the next one on unlock.
type ioLock struct {
	holder *Coro
	q      waitq[struct{}]
}

// lock takes the lock for the running participant of s, queueing while another holds
// it. A holder that has exited holds nothing: it was unwound (Exit) inside a call.
func (l *ioLock) lock(s *Scheduler, reason WaitReason) error {
	if l.holder != nil {
		return l.wait(s.cur, reason)
	}
	l.holder = s.cur
	return nil
}

func (l *ioLock) wait(c *Coro, reason WaitReason) error {
	if h := l.holder; h == c || h.state == StateExited {
		l.holder = c
		return nil
	}
	if c == nil || c == &c.s.main {
		return ErrNotCoroutine
	}
	// Granted means unlock made c the holder.
	_, err, _ := l.q.wait(c, reason, 0)
	return err
}

func (l *ioLock) unlock() {
	l.holder = nil
	if l.q.len != 0 {
		l.handOver()
	}
}

func (l *ioLock) handOver() {
	if w := l.q.next(); w != nil {
		l.holder = w.c
		w.c.ready()
	}
}

// foreignErr is foreign for a call that cannot wait and returns an error.
func (fd *netFD) foreignErr(fn func() error) (err error) {
	if ferr := fd.foreign(false, func() { err = fn() }); ferr != nil {
		return ferr
	}
	return err
}

// foreign runs fn, a socket call made off the loop's thread, on the loop and returns
// once it has run (bridge.go): a call that may wait (park) runs in a coroutine of the
// loop, made for it, so that it can wait like any other; the others run on the loop
// directly. While the loop is not running, fn runs here, where a call that would have
// to wait fails with ErrNotCoroutine. It returns ErrLoopExited when the loop's run
// ended first, or the error that interrupted a coroutine caller of another loop.
func (fd *netFD) foreign(park bool, fn func()) error { return foreignCall(fd.pd.s, park, fn) }

// foreignCall is netFD.foreign for loop s.
func foreignCall(s *Scheduler, park bool, fn func()) error {
	bw := newBridgeWait(s)
	var ferr error
	err := bw.run(WaitOther, func(mode bridgeMode) bool {
		switch {
		case mode == modeExited:
			ferr = ErrLoopExited
			return false
		case mode == modeDirect || !park:
			fn()
			return false
		}
		// The wait is registered like a queued one, so that if the loop ends
		// before the coroutine has run fn (an Exit in the same batch: a
		// coroutine started while the loop unwinds never runs its function), the
		// loop's end releases the caller.
		bw.block(func(err error) { ferr = err })
		c := &Coro{s: s, id: nextID.Add(1), name: "socket call from a goroutine", fnPC: funcPC(fn), gp: unsafe.Pointer(&noStack)}
		c.fn = func() {
			ok := false
			defer func() {
				var err error
				if !ok {
					err = ErrLoopExited // unwound: the loop's run is ending
				}
				if bw.proxy.state == StateWaiting {
					bw.proxy.wake(err)
				}
			}()
			fn()
			ok = true
		}
		s.start(c, nil)
		return true
	})
	if err != nil {
		return err
	}
	return ferr
}
