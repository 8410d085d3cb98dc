package coro

import "github.com/coroprof/coroprof/internal/wire"

// This file is the contract between the scheduler and the profiler (package profiler).
// The scheduler calls the attached Hooks at every event below; when none is attached
// the cost is one predictable nil-check branch per event.
//
// Threading: every hook is called on the event loop's locked OS thread. Resume,
// Yield, Exit and WaitBegin are called on the coroutine's own goroutine (so a hook
// may set pprof goroutine labels on the coroutine with pprof.SetGoroutineLabels);
// Spawn, WaitEnd, BeforePoll and AfterPoll are called wherever the event happens on
// the loop thread (the scheduler goroutine or another coroutine).
//
// Bucket boundaries, for a profiler that stamps the clocks at each hook:
//
//	Resume(c)      ... c runs ...       Yield(c, ...) or Exit(c, ...)   -> charged to c
//	Yield/Exit     ... scheduler ...    Resume(next) or BeforePoll()    -> <main>
//	BeforePoll()   ... epoll_wait ...   AfterPoll()                     -> <wait>
//	AfterPoll()    ... scheduler ...    Resume(next) or BeforePoll()    -> <main>
//
// BeforePoll/AfterPoll bracket only epoll_wait calls that may block (timeout != 0);
// a non-blocking poll is scheduler work. Stamps taken in consecutive hooks are
// contiguous, so every tick between attach and detach lands in exactly one bucket.

// Hooks receives scheduler events. All methods must be cheap and must not block,
// switch coroutines or call back into the scheduler.
type Hooks interface {
	// Spawn: c was created and is runnable. parent is the spawning coroutine, nil when
	// spawned from outside any coroutine. c.SpawnPC() is the caller of Spawn.
	Spawn(c, parent *Coro)
	// Resume: c has just gained control (first statement on c's goroutine after the switch).
	Resume(c *Coro)
	// Yield: c is about to give up control (last statement on c's goroutine before the
	// switch). state says whether it stays runnable (Yield, selfishness) or parks
	// (StateWaiting, after WaitBegin). pc is the program counter of the user call that
	// yielded (first frame outside this package); 0 if unknown.
	Yield(c *Coro, state State, pc uintptr)
	// Exit: c's function returned or panicked; c will never run again. Called on c's
	// goroutine as its last act, instead of Yield.
	Exit(c *Coro, panicked bool)
	// WaitBegin: c is about to park for reason at the user call site pc. Followed by
	// Yield(c, StateWaiting, pc).
	WaitBegin(c *Coro, reason WaitReason, pc uintptr)
	// WaitEnd: c, parked since WaitBegin, is runnable again (woken, timed out or
	// interrupted). Not called for coroutines that merely Yield.
	WaitEnd(c *Coro)
	// BeforePoll and AfterPoll bracket a blocking epoll_wait on the loop thread.
	BeforePoll()
	AfterPoll()
}

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

// The runtime also provides, for the profiler (implemented in the scheduler files):
//
//	func SetHooks(h Hooks) Hooks                 // default scheduler; returns the previous hooks
//	func (s *Scheduler) SetHooks(h Hooks) Hooks  // must be called on the loop thread while the loop
//	                                             // runs (from a coroutine), or before/after it runs
//	func (c *Coro) ID() uint64
//	func (c *Coro) Name() string
//	func (c *Coro) ParentID() uint64             // 0 when spawned from outside a coroutine
//	func (c *Coro) SpawnPC() uintptr             // pc of the Spawn call site
//	func (c *Coro) HookData() any                // per-coroutine slot owned by the attached Hooks;
//	func (c *Coro) SetHookData(v any)            // the runtime never reads it
//	func (s *Scheduler) LoopID() int             // 0 for the default loop
//	func CurrentScheduler() *Scheduler           // the scheduler of the calling loop thread, or nil
//	func Default() *Scheduler                    // the default loop (loop 0)
//	func (s *Scheduler) Spawn(fn func()) *Coro   // spawn on s, from any goroutine
//	func (s *Scheduler) Running() bool           // defined below

// Running reports whether s's EventLoop is running. Safe from any goroutine. (Added
// for the profiler: Start and Stop called from outside the loop must know whether the
// loop can run a coroutine for them, or whether no hook can fire any more.)
func (s *Scheduler) Running() bool { return s.running.Load() }

// RunsEnded counts the runs of s's EventLoop that have ended. Safe from any goroutine.
// (Added for the profiler: every run of a loop locks one OS thread for its whole
// length, but two runs may use two threads, whose CPU clocks and getrusage counters
// must never be subtracted from each other. A hook that sees the count differ from
// the one its previous stamp saw knows the loop has ended and run again.)
func (s *Scheduler) RunsEnded() uint64 { return s.runsEnded.Load() }

// EachLive calls f for every live coroutine of s (started and not yet exited; one
// spawned from another goroutine counts once the loop has taken it from its inbox).
// Call it on s's loop thread (from a coroutine) or while s's loop is not running; f
// must not spawn or switch. (Added for the profiler: a session started while the loop
// runs records the coroutines already parked or runnable, through c.State().)
func (s *Scheduler) EachLive(f func(c *Coro)) {
	for c := s.liveList.head; c != nil; c = c.nextLive {
		f(c)
	}
}

// UpdateHooksIdle attaches f(current hooks), if s's loop is not running, and reports
// whether it did (false: the loop runs; attach from one of its coroutines with
// SetHooks instead). Unlike SetHooks it is safe from any goroutine at any moment: it
// holds the inbox lock, which EventLoop takes as a run starts (before its first hook
// call) and as it ends (after its last), so f never overlaps a run and the next run
// sees what f returned. f must be quick and must not call into s. (Added for the
// profiler, whose Start and Stop may be called from any goroutine while the loop may
// be starting or ending.)
func (s *Scheduler) UpdateHooksIdle(f func(cur Hooks) Hooks) bool {
	s.inbox.mu.Lock()
	defer s.inbox.mu.Unlock()
	if s.inbox.wakefd >= 0 { // attached: between a run's start and its end
		return false
	}
	s.hooks = f(s.hooks)
	return true
}
