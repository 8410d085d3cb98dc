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
