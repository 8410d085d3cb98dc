package coro

import (
	"net"
)

// notCoroutineError is the type of ErrNotCoroutine.
type notCoroutineError struct{}

func (notCoroutineError) Error() string {
	return "coro: the socket call has to wait, but the socket's event loop is not running (only a coroutine of a running loop can wait on a socket)"
}
func (notCoroutineError) Timeout() bool   { return false }
func (notCoroutineError) Temporary() bool { return false }

// ErrNotCoroutine is the error, inside a *net.OpError, of a socket call that would
// have to wait but was made while the loop the socket belongs to is not running (from
// main before EventLoop, say): the wait needs the loop. While the loop runs, calls from
// any goroutine are run on it and wait there.
var ErrNotCoroutine net.Error = notCoroutineError{}

// wrongLoopError is the type of ErrWrongLoop.
type wrongLoopError struct{}

func (wrongLoopError) Error() string {
	return "coro: socket used from a coroutine of another event loop: a socket is pinned to the loop that made it; hand the work to that loop (Call, (*Scheduler).Spawn)"
}
func (wrongLoopError) Timeout() bool   { return false }
func (wrongLoopError) Temporary() bool { return false }

// ErrWrongLoop is the error, inside a *net.OpError, of Read, Write, Accept or ReadFrom
// / WriteTo called from a coroutine (or hook) of one loop on a socket that belongs to
// another. Each loop's poller, deadlines and waiters are touched by its own thread
// only, so the call is refused before any of them is, rather than racing.
var ErrWrongLoop net.Error = wrongLoopError{}

// otherLoop reports whether the caller runs on the thread of a loop other than fd's.
// Called only when fd's loop is not the one running the caller (the cheap test, done
// inline by the callers); a plain goroutine then has its call run on fd's loop.
//
//go:noinline
func (fd *netFD) otherLoop() bool {
	s := CurrentScheduler()
	return s != nil && s != fd.pd.s
}
