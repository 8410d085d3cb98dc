package wire

// WaitReason says why a coroutine is parked. The values are stable: they are written
// into profile files. Append new reasons before NumWaitReasons; never renumber.
type WaitReason uint8

const (
	WaitNone    WaitReason = iota
	WaitSleep              // Sleep, and timers
	WaitRead               // socket read / accept
	WaitWrite              // socket write / connect
	WaitLock               // Mutex, RWMutex, Semaphore, Cond, Event
	WaitChannel            // Channel, Fifo
	WaitJoin               // (*Coro).Join
	WaitOffload            // blocking work run on another goroutine
	WaitOther              // anything else
)

// NumWaitReasons is the number of wait reasons (WaitOther+1). It is untyped so that
// it sizes arrays and bounds a reason read from a file whatever integer type holds it.
const NumWaitReasons = 9

// WaitReasonNames names the wait reasons by value, as profile readers and the report
// show them.
var WaitReasonNames = [NumWaitReasons]string{"none", "sleep", "read", "write", "lock", "channel", "join", "offload", "other"}

// The build fails unless NumWaitReasons == WaitOther+1 (index out of range, or a
// negative WaitReason).
var _ = [1]struct{}{}[WaitOther+1-NumWaitReasons]

// String returns the reason's name, or "invalid".
func (r WaitReason) String() string {
	if r < NumWaitReasons {
		return WaitReasonNames[r]
	}
	return "invalid"
}

// State is a coroutine's scheduling state. The values are stable: a slice in a
// profile file records the state it ended in.
type State uint8

const (
	StateRunnable State = iota // in the run queue
	StateRunning               // the one coroutine executing now
	StateWaiting               // parked; see WaitReason
	StateExited                // finished
)

// NumStates is the number of states (StateExited+1); untyped, like NumWaitReasons.
const NumStates = 4

// StateNames names the states by value. A slice ends runnable (it yielded), waiting
// (it parked) or exited.
var StateNames = [NumStates]string{"runnable", "running", "waiting", "exited"}

var _ = [1]struct{}{}[StateExited+1-NumStates]

// String returns the state's name, or "invalid".
func (s State) String() string {
	if s < NumStates {
		return StateNames[s]
	}
	return "invalid"
}
