package coro

import (
	"fmt"
	"net"
)

// SimultaneousError is returned (inside a *net.OpError) when a coroutine tries to wait
// on a socket in a direction in which another coroutine is already waiting: two
// readers, or two writers, of one socket. The poller keeps one waiter per direction,
// as Shrapnel's did; the second would otherwise silently steal or lose wake-ups.
//
// The cure is one reader and one writer coroutine per socket, and a Fifo (or a Mutex)
// in front of the socket where several coroutines produce data for it.
type SimultaneousError struct {
	Op     string // "read" or "write" (accept waits as "read", connect as "write")
	FD     int    // the socket's descriptor
	Waiter uint64 // ID of the coroutine already waiting
	Name   string // its name
	Caller uint64 // ID of the coroutine that tried to wait too
}

func (e *SimultaneousError) Error() string {
	return fmt.Sprintf("simultaneous %s on fd %d: coroutine %d (%s) is already waiting, coroutine %d may not wait too",
		e.Op, e.FD, e.Waiter, e.Name, e.Caller)
}

// Timeout reports false: waiting longer does not help; the program has two waiters.
func (e *SimultaneousError) Timeout() bool { return false }

// Temporary reports false (kept for net.Error).
func (e *SimultaneousError) Temporary() bool { return false }

var _ net.Error = (*SimultaneousError)(nil)

// notCoroutineError is the type of ErrNotCoroutine.
type notCoroutineError struct{}

func (notCoroutineError) Error() string {
	return "coro: the socket call has to wait, but its caller is not a coroutine of the socket's event loop"
}
func (notCoroutineError) Timeout() bool   { return false }
func (notCoroutineError) Temporary() bool { return false }

// ErrNotCoroutine is the error, inside a *net.OpError, of a socket call that would
// have to wait but was made outside a coroutine of the loop the socket belongs to
// (from an ordinary goroutine, or before EventLoop): only such a coroutine can park.
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
// inline by the callers), so a plain goroutine keeps the behaviour it had.
//
//go:noinline
func (fd *netFD) otherLoop() bool {
	s := CurrentScheduler()
	return s != nil && s != fd.pd.s
}
