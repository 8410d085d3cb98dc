package coro

import "github.com/coroprof/coroprof/internal/wire"

// State is a coroutine's scheduling state (see (*Coro).State). The values are
// written into profile files; package internal/wire defines them for the runtime and
// the readers alike.
type State = wire.State

const (
	StateRunnable = wire.StateRunnable // in the run queue
	StateRunning  = wire.StateRunning  // the one coroutine executing now
	StateWaiting  = wire.StateWaiting  // parked; see WaitReason
	StateExited   = wire.StateExited   // finished
)

// WaitReason says why a coroutine is parked. The values are stable: they are written
// into profile files (package internal/wire defines them once for both sides).
type WaitReason = wire.WaitReason

const (
	WaitNone    = wire.WaitNone
	WaitSleep   = wire.WaitSleep   // Sleep, and timers
	WaitRead    = wire.WaitRead    // socket read / accept
	WaitWrite   = wire.WaitWrite   // socket write / connect
	WaitLock    = wire.WaitLock    // Mutex, RWMutex, Semaphore, Cond, Event
	WaitChannel = wire.WaitChannel // Channel, Fifo
	WaitJoin    = wire.WaitJoin    // (*Coro).Join
	WaitOffload = wire.WaitOffload // blocking work run on another goroutine
	WaitOther   = wire.WaitOther   // anything else

	NumWaitReasons = wire.NumWaitReasons // the number of wait reasons
)
