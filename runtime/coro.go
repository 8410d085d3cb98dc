package coro

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// Coro is a coroutine: a function running cooperatively on its loop's thread. The
// zero value is not usable; coroutines come from Spawn.
type Coro struct {
	s        *Scheduler
	bridge   *bridgeWait // set in the proxy of a foreign caller (bridge.go), never in a coroutine
	id       uint64
	parent   uint64
	name     string // "" until asked for; then the function's name unless given
	fn       func()
	fnPC     uintptr // fn's code address, for the default name after fn is dropped
	spawnPC  uintptr
	hookData any // owned by the attached hooks (internal/hooks); never read here

	state    State
	reason   WaitReason
	panicked bool
	panicVal any
	unwound  bool // the loop's exit has started unwinding it (it panics only once)

	w  *worker        // the worker running it, from start to exit
	g  uintptr        // the worker goroutine's g, once it has run
	gp unsafe.Pointer // the same, as a pointer (onStackOf)

	// park results and interrupts
	wakeErr      error // what park returns when woken (nil after ready)
	pending      error // interrupt that arrived while not parked, returned by the next park
	pendingDepth int   // nesting depth of the WithTimeout that owns pending; 0 for Interrupt
	timeouts     int   // WithTimeout nesting depth

	sleep timer // Sleep's timer, reused

	joiners []*Coro

	prevLive, nextLive *Coro // the scheduler's list of live coroutines
}

// ID returns the coroutine's ID, unique in the process; IDs start at 1.
func (c *Coro) ID() uint64 { return c.id }

// ParentID returns the ID of the coroutine that spawned c, 0 when it was spawned from
// outside a coroutine.
func (c *Coro) ParentID() uint64 { return c.parent }

// Scheduler returns the loop c runs on.
func (c *Coro) Scheduler() *Scheduler { return c.s }

// Name returns the name given to SpawnNamed, or the spawned function's name. It is
// computed on first use so Spawn does not pay for a symbol lookup. Safe from any
// goroutine: from elsewhere than c's loop it is read there, as
// (*Scheduler).Coroutines reads ("" if a waiting coroutine of another loop is
// interrupted meanwhile).
func (c *Coro) Name() string {
	if CurrentScheduler() == c.s {
		return c.loopName()
	}
	var n string
	if !c.s.onLoop(func() { n = c.loopName() }) {
		return ""
	}
	return n
}

// loopName is Name on c's loop thread (or under onLoop).
func (c *Coro) loopName() string {
	if c.name == "" {
		c.name = funcName(c.fnPC, c.spawnPC)
	}
	return c.name
}

func (c *Coro) String() string { return fmt.Sprintf("coroutine %d (%s)", c.id, c.Name()) }

// funcName names the function at pc, or failing that the Spawn call site's function.
func funcName(pc, spawnPC uintptr) string {
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Name()
	}
	if f := runtime.FuncForPC(spawnPC); f != nil {
		return f.Name() + ".spawned"
	}
	return "coroutine"
}

// funcPC returns the entry pc of fn's code (a func value points to a closure whose
// first word is the code pointer).
func funcPC(fn func()) uintptr {
	return **(**uintptr)(unsafe.Pointer(&fn))
}

// userPC returns the pc of the first caller outside this package: the user call that
// is about to block (a return address, like runtime.Callers gives). Only called when
// hooks are attached; it walks frame pointers and remembers per pc whether it is in
// this package, so it costs tens of nanoseconds rather than microseconds.
//
//go:noinline
func (s *Scheduler) userPC() uintptr {
	// Four frames first: a Yield called by the user is found in the first, and most
	// parks within four; only a deeper chain (a socket read under Conn.Read, say)
	// pays the walk of sixteen. Walking sixteen every time touched up to sixteen
	// frames of stack and cost ~10 % of a profiled Yield round trip.
	var short [4]uintptr
	n := fpCallers(short[:]) // short[0] is in userPC's caller (Yield, park)
	for _, pc := range short[:n] {
		if !s.inPkg(pc) {
			return pc
		}
	}
	if n < len(short) {
		return 0
	}
	var pcs [16]uintptr
	n = fpCallers(pcs[:])
	for _, pc := range pcs[len(short):n] {
		if !s.inPkg(pc) {
			return pc
		}
	}
	return 0
}

// pcCacheSize is the number of slots of userPC's direct-mapped cache: a program's
// yield and park sites are few, and a collision only costs one FuncForPC.
const pcCacheSize = 256

// pcClass is one slot of that cache: a return pc and whether it lies in this package.
type pcClass struct {
	pc uintptr
	in bool
}

// inPkg reports whether the return pc lies in this package. It runs at every
// profiled switch, so it looks in a direct-mapped array (an index and a compare, no
// map lookup) and asks the symbol table only on a miss.
func (s *Scheduler) inPkg(pc uintptr) bool {
	slot := &s.pcInPkg[(pc^pc>>8)%pcCacheSize]
	if slot.pc != pc {
		f := runtime.FuncForPC(pc - 1)
		*slot = pcClass{pc: pc, in: f != nil && inThisPackage(f.Name())}
	}
	return slot.in
}

// pkgPrefix is this package's path plus the dot before a function name.
var pkgPrefix = strings.TrimSuffix(runtime.FuncForPC(funcPC(anchor)).Name(), "anchor")

func anchor() {}

func inThisPackage(fn string) bool {
	if !strings.HasPrefix(fn, pkgPrefix) {
		return false
	}
	// Tests of this package (package coro, files *_test.go) count as user code.
	return !strings.Contains(fn, "_test") && !strings.Contains(fn, ".Test") && !strings.Contains(fn, ".Benchmark")
}

// ErrExiting is what a blocking call returns, at once, when it is made while the loop
// unwinds its coroutines after Exit (from a deferred call): the loop is ending, and
// nothing would wake it.
var ErrExiting = errors.New("coro: the event loop is exiting")

// ErrInterrupted is what a blocking call returns when its coroutine was interrupted
// with a nil error.
var ErrInterrupted = errors.New("coro: interrupted")

// Interrupt makes c's current (or next) blocking call return err (ErrInterrupted when
// err is nil). A parked coroutine is woken at once; one that is running or runnable
// keeps the interrupt pending until it next blocks. It has no effect on an exited
// coroutine. Safe from any goroutine.
func (c *Coro) Interrupt(err error) {
	if err == nil {
		err = ErrInterrupted
	}
	s := c.s
	if s.curG.load() != getg() {
		s.inbox.post(inboxItem{kind: itemInterrupt, c: c, err: err})
		return
	}
	c.interrupt(err, 0)
}

// interrupt delivers err to c on the loop thread. depth is the WithTimeout nesting
// depth of a timeout (0 for Interrupt): a pending timeout of an outer WithTimeout
// replaces a pending one of an inner, so the outer deadline is never lost.
func (c *Coro) interrupt(err error, depth int) {
	switch c.state {
	case StateExited:
		return
	case StateWaiting:
		c.wake(err)
		return
	}
	if c.pending == nil || (depth > 0 && c.pendingDepth > 0 && depth < c.pendingDepth) {
		c.pending = err
		c.pendingDepth = depth
	}
}

// PanicError is what Join returns for a coroutine that panicked.
type PanicError struct {
	ID    uint64
	Name  string
	Value any
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("coroutine %d (%s) panicked: %v", e.ID, e.Name, e.Value)
}

// Join waits until c has exited. It returns nil, a *PanicError when c panicked, or
// the error that interrupted the wait (an Interrupt, a WithTimeout).
func (c *Coro) Join() error {
	me := current()
	if me == c {
		return errors.New("coro: a coroutine cannot Join itself")
	}
	if c.s != me.s {
		return errors.New("coro: Join across event loops is not supported")
	}
	if c.state != StateExited {
		c.joiners = append(c.joiners, me)
		if err := me.park(WaitJoin); err != nil {
			for i, j := range c.joiners {
				if j == me {
					c.joiners = append(c.joiners[:i], c.joiners[i+1:]...)
					break
				}
			}
			return err
		}
	}
	if c.panicked {
		return &PanicError{ID: c.id, Name: c.Name(), Value: c.panicVal}
	}
	return nil
}

func (c *Coro) wakeJoiners() {
	for _, j := range c.joiners {
		j.ready()
	}
	c.joiners = nil
}

// State returns c's scheduling state and, when it is waiting, why. Safe from any
// goroutine, like Name (StateRunnable, WaitNone if a waiting coroutine of another
// loop is interrupted meanwhile).
func (c *Coro) State() (State, WaitReason) {
	if CurrentScheduler() == c.s {
		return c.state, c.reason
	}
	var st State
	var r WaitReason
	if !c.s.onLoop(func() { st, r = c.state, c.reason }) {
		return StateRunnable, WaitNone
	}
	return st, r
}

func ptrOf(c *Coro) unsafe.Pointer { return unsafe.Pointer(c) }
