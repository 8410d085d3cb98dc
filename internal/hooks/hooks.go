// Package hooks is the runtime's private door: the scheduler events the profiler
// attaches to, and the few runtime internals that the profiler (package profiler) and
// the debug console (package console) need and users never should. Package coro
// (runtime/) shows none of it in its documentation.
//
// # Why generic, and why a table
//
// The hooks receive the runtime's own *coro.Coro, but package coro imports this
// package (it stores the attached Hooks and calls them), so this package cannot name
// coro's types. Hooks and Runtime are therefore generic in the scheduler type S and
// the coroutine type C; package coro instantiates them with *Scheduler and *Coro, and
// registers a filled Runtime table from its init with Register. A client gets the
// table, typed, with Get:
//
//	var rt = hooks.Get[*coro.Scheduler, *coro.Coro]()
//
// Package coro's init runs before any importer's, so the table is always there; Get
// panics (a programming error, at init) if asked with other type arguments. A Hooks
// value is an ordinary interface: the scheduler's call sites are one nil check and one
// interface call per event, as before the move.
//
// # The events
//
// Every hook is called on the event loop's locked OS thread. Resume, Yield, Exit and
// WaitBegin are called on the coroutine's own goroutine (so a hook may set pprof
// goroutine labels on the coroutine with pprof.SetGoroutineLabels); Spawn, WaitEnd,
// BeforePoll and AfterPoll are called wherever the event happens on the loop thread
// (the scheduler goroutine or another coroutine).
//
// Bucket boundaries, for a profiler that stamps the clocks at each hook (see
// docs/DESIGN.md, Buckets, for the contract):
//
//	Resume(c)      ... c runs ...       Yield(c, ...) or Exit(c, ...)   -> charged to c
//	Yield/Exit     ... scheduler ...    Resume(next) or BeforePoll()    -> <main>
//	BeforePoll()   ... epoll_wait ...   AfterPoll()                     -> <wait>
//	AfterPoll()    ... scheduler ...    Resume(next) or BeforePoll()    -> <main>
//
// BeforePoll/AfterPoll bracket only epoll_wait calls that may block (timeout != 0);
// a non-blocking poll is scheduler work. Stamps taken in consecutive hooks are
// contiguous, so every tick between attach and detach lands in exactly one bucket.
package hooks

import (
	"fmt"
	"net"
	"time"

	"github.com/coroprof/coroprof/internal/wire"
)

// Hooks receives scheduler events about coroutines of type C (*coro.Coro). All
// methods must be cheap and must not block, switch coroutines or call back into the
// scheduler.
type Hooks[C any] interface {
	// Spawn: c was created and is runnable. parent is the spawning coroutine, nil when
	// spawned from outside any coroutine. Runtime.SpawnPC(c) is the caller of Spawn.
	Spawn(c, parent C)
	// Resume: c has just gained control (first statement on c's goroutine after the switch).
	Resume(c C)
	// Yield: c is about to give up control (last statement on c's goroutine before the
	// switch). state says whether it stays runnable (Yield, selfishness) or parks
	// (StateWaiting, after WaitBegin). pc is the program counter of the user call that
	// yielded (first frame outside package coro); 0 if unknown.
	Yield(c C, state wire.State, pc uintptr)
	// Exit: c's function returned or panicked; c will never run again. Called on c's
	// goroutine as its last act, instead of Yield.
	Exit(c C, panicked bool)
	// WaitBegin: c is about to park for reason at the user call site pc. Followed by
	// Yield(c, StateWaiting, pc).
	WaitBegin(c C, reason wire.WaitReason, pc uintptr)
	// WaitEnd: c, parked since WaitBegin, is runnable again (woken, timed out or
	// interrupted). Not called for coroutines that merely Yield.
	WaitEnd(c C)
	// BeforePoll and AfterPoll bracket a blocking epoll_wait on the loop thread.
	BeforePoll()
	AfterPoll()
}

// Switcher is implemented by hooks that take a direct switch as one event. The
// scheduler makes a direct switch when a coroutine gives up control and the next one
// is already at the head of the run queue, with nothing for the scheduler to do in
// between (no poll, timer or inbox work): then, instead of Yield(from, state, pc) on
// from's goroutine and Resume(to) on to's, it calls Switch(from, state, pc, to) on
// from's goroutine, just before the switch. If Switch returns true it has done both,
// and Resume(to) is not called; if false it has done nothing, and the scheduler calls
// Yield now and Resume(to) when to runs (as for hooks without Switch). to may be from
// itself (a Yield with nothing else runnable).
//
// So a profiler stamps once per direct switch instead of twice, and <main> gets
// stamps of its own only where the scheduler did work. Bucket boundary:
//
//	Switch(from, ..., to)   ... to runs ...   the next Switch, Yield or Exit of to
type Switcher[C any] interface {
	Switch(from C, state wire.State, pc uintptr, to C) bool
}

// Runtime is the table of runtime internals, filled by package coro for S =
// *coro.Scheduler and C = *coro.Coro. Each entry states from where it may be called.
type Runtime[S, C any] struct {
	// SetHooks attaches h to s (nil detaches) and returns the previous hooks. Call it
	// on s's loop thread while the loop runs (from a coroutine), or while it does not
	// run (then UpdateHooksIdle is the safe way from another goroutine).
	SetHooks func(s S, h Hooks[C]) Hooks[C]

	// UpdateHooksIdle attaches f(current hooks), if s's loop is not running, and
	// reports whether it did (false: the loop runs; attach from one of its coroutines
	// with SetHooks instead). Safe from any goroutine at any moment: it holds the lock
	// the loop takes as a run starts (before its first hook call) and as it ends
	// (after its last), so f never overlaps a run and the next run sees what f
	// returned. f must be quick and must not call into s.
	UpdateHooksIdle func(s S, f func(cur Hooks[C]) Hooks[C]) bool

	// RunsEnded counts the runs of s's EventLoop that have ended. Safe from any
	// goroutine. Every run locks one OS thread for its whole length, but two runs may
	// use two threads, whose CPU clocks and getrusage counters must never be
	// subtracted from each other: a hook that sees the count differ from the one its
	// previous stamp saw knows the loop has ended and run again.
	RunsEnded func(s S) uint64

	// EachLive calls f for every live coroutine of s (started and not yet exited; one
	// spawned from another goroutine counts once the loop has taken it from its
	// inbox), newest first. Call it on s's loop thread or while s's loop is not
	// running; f must not spawn or switch.
	EachLive func(s S, f func(c C))

	// HookData and SetHookData get and set the per-coroutine slot owned by the
	// attached hooks; the runtime never reads it. On the loop thread only.
	HookData    func(c C) any
	SetHookData func(c C, v any)

	// SpawnPC is the program counter of the Spawn call that created c (a return
	// address, as runtime.Callers gives). Safe from any goroutine.
	SpawnPC func(c C) uintptr

	// LoopStats reads s's counters for the console's "stats". Safe from any
	// goroutine (it reads them on s's loop, or under the loop's lock while it does
	// not run).
	LoopStats func(s S) (LoopStats, error)

	// ListenUnixOwner listens on a unix socket file that only the owner can connect
	// to (mode 0600 from before bind), as the caller's loop's listener, removed at
	// Close. A stale socket file at path (no listener) is replaced; a live one, or a
	// file that is not a socket, is an error. For the debug console.
	ListenUnixOwner func(path string) (net.Listener, error)
}

// LoopStats is one reading of a loop's counters.
type LoopStats struct {
	Loop       int
	Coroutines int // live: started and not yet exited
	States     [wire.NumStates]int
	Waiting    [wire.NumWaitReasons]int // waiting coroutines by reason
	RunQueue   int
	Timers     int
	FDs        int // sockets registered with the loop's poller (epoll, or poll(2))

	// Slices are counted, and the longest measured, only while the latency check is
	// on (SliceCounting), to within SliceResolution.
	SliceCounting   bool
	Slices          uint64
	LongestSlice    time.Duration // 0: none measured yet
	LongestID       uint64
	LongestName     string
	SliceResolution time.Duration

	LatencyWarning time.Duration // 0: off
}

var table any

// Register installs the runtime's table. Package coro calls it once, from init.
func Register[S, C any](rt *Runtime[S, C]) {
	if table != nil {
		panic("hooks: Register called twice")
	}
	table = rt
}

// Get returns the table package coro registered, for S = *coro.Scheduler and C =
// *coro.Coro. It panics when called with other type arguments.
func Get[S, C any]() *Runtime[S, C] {
	rt, ok := table.(*Runtime[S, C])
	if !ok {
		panic(fmt.Sprintf("hooks: no runtime table for %T (registered: %T)", rt, table))
	}
	return rt
}
