// Package coro is a cooperative coroutine runtime: many coroutines run on one OS
// thread, switching only where they block (sleep, lock, socket I/O, Yield), on an
// epoll event loop. It is Shrapnel's coro, in Go.
//
//	func main() {
//		coro.Spawn(serve)
//		coro.EventLoop() // runs until Exit, or until no coroutine is left
//	}
//
// # Coroutines
//
// Spawn and SpawnNamed start a coroutine. Each runs on a goroutine of its own for its
// whole life (goroutines are reused by later coroutines), which the runtime switches
// to and from with the Go runtime's coroutine switch (the mechanism under iter.Pull),
// always on the loop's thread, so exactly one coroutine runs at a time and
// code between two blocking calls runs without interleaving: no data race is possible
// between coroutines of one loop, and most code needs no locks at all. An idle
// coroutine costs about 3 KiB, a Yield to another coroutine about 50 ns (1.6 times an
// iter.Pull step), a Spawn with its run and exit about 250 ns (docs/PERFORMANCE.md).
//
// EventLoop runs the loop on the calling goroutine, locked to its OS thread for the
// whole run. Spawn may be called from any goroutine, before or while the loop runs: a
// spawn from outside the loop is queued and started by the loop (the Go runtime
// requires a coroutine to be created on the thread that runs it). When EventLoop
// returns after Exit, the coroutines still alive are unwound: their pending blocking
// call panics with a value the runtime recovers, so their deferred calls run, and the
// loop may then be run again.
//
// A deferred call that blocks during that unwind (Sleep, Lock, a read, Join, Offload,
// Call) fails at once with ErrExiting instead of waiting: nothing would ever wake it,
// and the loop must end. Offload and Call then do not run their function. A Yield
// there lets the other coroutines unwind and returns normally, so the deferred call
// runs to its end; do not retry a failed call in a loop there, it would never end.
//
// # The rule: never block the loop thread
//
// Everything a coroutine does between two switches holds up every other coroutine.
// Anything that blocks the OS thread blocks the whole loop, and so does anything that
// blocks the goroutine in the Go scheduler, since the loop thread then sleeps too:
//
//   - Go channels and select: use Channel, Fifo or Event. (A locked thread that waits
//     on a Go channel also pays 8-25µs per hand-off; golang/go#18023.)
//   - sync.Mutex, sync.RWMutex, sync.Cond, sync.WaitGroup: use Mutex, RWMutex,
//     Semaphore, Cond, InvertedSemaphore, or (*Coro).Join.
//   - time.Sleep, time.After, time.Timer: use Sleep and WithTimeout.
//   - package net, net/http's client and server loops: use Listen and Dial, whose
//     Conn is a net.Conn (bufio, crypto/tls and net/http.ReadRequest work on it).
//   - file I/O, cgo, DNS through the C library, any library that blocks: wrap the
//     call in Offload, which runs it on its own goroutine and parks the coroutine.
//   - runtime.LockOSThread and runtime.Goexit (t.FailNow) inside a coroutine: the
//     first breaks the switch, the second leaves the coroutine parked for good.
//
// A coroutine that computes for a long time should call Yield now and then. The
// latency warning (SetLatencyWarning, default 200ms) prints one line naming any
// coroutine whose run slice was longer than that, so a blocked loop is visible.
//
// # Waiting, timeouts and interrupts
//
// Every blocking call of this package returns an error: nil, or the reason the wait
// was cut short. (*Coro).Interrupt makes a coroutine's current blocking call return
// the given error (or its next one, if it is not blocked). WithTimeout(d, fn) runs fn
// with a deadline: when it passes, the blocking call fn is in returns an error that is
// errors.Is ErrTimeout, fn returns it, and WithTimeout returns ErrTimeout. Timeouts
// nest: an outer deadline passes through inner WithTimeouts to its own. Every waiter
// queue removes a coroutine whose wait was interrupted, so nothing is left behind.
//
// # Panics
//
// A panic in a coroutine ends that coroutine only: the runtime recovers it and calls
// the panic notifier (SetPanicNotifier), which by default prints one line: the time,
// the coroutine's ID and name, the panic value and a compact traceback. Join on a
// coroutine that panicked returns a *PanicError.
//
// # Calling in from other goroutines
//
// The synchronisation primitives (Mutex, RWMutex, Semaphore, InvertedSemaphore, Cond,
// Event, Fifo, Channel) and the sockets (Conn, Listener, UDPConn) work from any
// goroutine, with the same methods: a worker pool, a library's own goroutines, a cgo
// callback or signal-driven code can hand values to coroutines and take values from
// them (the Stackless model of channels between threads and tasklets).
//
//   - Each object belongs to one loop, its home: the loop of the first coroutine that
//     uses it, or the default loop if a goroutine uses it first; a socket belongs to the
//     loop whose coroutine made it. Coroutines of the home loop use it in place, without
//     locks, as always.
//   - Every other caller is foreign: a plain goroutine, an Offload's function, a
//     coroutine of another loop. Its call is run on the home loop, posted through the
//     loop's inbox (one eventfd write per batch of posts, no polling) and executed
//     between two coroutine slices, and the caller waits for the outcome. A goroutine
//     blocks itself (on a Go channel), never the loop; a coroutine of another loop parks
//     and is woken through its own loop's inbox, and may be interrupted or time out
//     (WithTimeout) like any wait: it then leaves the queue, unless the grant came first
//     (then the grant stands and the interrupt goes to its next blocking call). If its
//     own loop ends while it waits, it leaves the queue too; a Mutex granted to it just
//     then stays locked, as one held by a coroutine that ended does.
//   - The semantics hold across the border. A Send blocks until a receiver, coroutine or
//     goroutine, has the value; coroutines and goroutines wait in one FIFO queue, are
//     served in arrival order and are counted by Balance and Waiters; nothing is lost,
//     duplicated or reordered. A goroutine may own a Mutex (re-entrantly, as a
//     coroutine does) and must unlock it itself. A Channel's Preference orders the
//     coroutines of its loop only: a goroutine runs on its own thread regardless.
//   - A socket used from goroutines keeps the net.Conn contract: concurrent Reads queue
//     and run one after another, so do concurrent Writes, deadlines (past, future,
//     changed or cleared while a call waits) apply as in package net, and Close from
//     anywhere wakes every waiting call with net.ErrClosed (the first Close wins, later
//     ones fail with net.ErrClosed; from off the loop it hands the teardown to the loop
//     and does not wait for it, so a shutdown path holding a lock cannot deadlock with
//     the loop's coroutines). A goroutine's socket call is
//     run by a coroutine made for it on the socket's loop. A coroutine of another loop
//     may Close a socket or set its deadlines, but its Read, Write and Accept fail with
//     ErrWrongLoop (the descriptor is registered with one loop's poller; use Call).
//     Listen, ListenPacket and Dial from a goroutine outside every loop make the socket
//     on the default loop.
//   - When a run of the home loop ends (Exit, or no coroutine left), every foreign
//     caller still waiting on its objects is released with ErrLoopExited: nothing is
//     left hanging. While the loop is not running, nothing runs on its thread, and a
//     foreign call is run by the caller itself, under a lock the loop also takes as it
//     starts and ends: objects then work between goroutines alone, and a wait lasts
//     until a partner comes or the loop runs; a socket call that would have to wait
//     fails with ErrNotCoroutine, since only the running loop can wait on a socket.
//   - Calls that park the calling coroutine itself (Sleep, Yield, WithTimeout,
//     Offload, Join) are for coroutines only: from elsewhere they panic with a message
//     naming the function and the rule. Spawn, Call, Interrupt and Exit work anywhere
//     (a goroutine's Call returns ErrLoopExited if the loop's run ends first).
//
// Costs. A coroutine of the home loop pays one atomic load (a plain load on x86) and
// a compare of a local's address with the running coroutine's stack bounds per call,
// no function call: within noise of the figures before (docs/PERFORMANCE.md). A
// foreign call is a round trip through the loop: a post to its inbox, the loop's
// wake-up when it sleeps in epoll_wait, and the caller's wake-up; so it costs
// microseconds (a goroutine → coroutine → goroutine round trip: p50 5 µs on the
// project's machine, against 0.5 µs between two goroutines on Go channels) where a
// coroutine's call costs tens of nanoseconds, and a goroutine's socket call adds a
// coroutine's creation. Calls that never wait and return nothing
// (Fifo.Push and PushFront, Event.Set and Clear, Semaphore.Release, InvertedSemaphore's
// Acquire and Release, Channel.Close) are posted without waiting for the loop, in order
// with the caller's later calls, and a burst of them costs one eventfd write: a Fifo is
// the cheap way to stream values from goroutines to coroutines. Where throughput
// matters otherwise, cross the border with batches (a slice per Send) rather than
// single small values. Example_workerPool shows a pool of goroutines fed by
// coroutines through a Channel.
//
// # Blocking work
//
// Offload(fn) runs fn on a new goroutine and parks the calling coroutine until fn
// returns; the result comes back through the loop's inbox, one eventfd write per batch
// of completions, so the loop keeps serving the other coroutines meanwhile. That
// goroutine does not inherit the caller's pprof labels (the profiler's coro_id and
// coro_name, which would charge CPU spent on other threads to the coroutine): it is
// labelled coro_offload=<caller's ID> alone. The runtime's other goroutines (latency
// ticker, signal dispatcher) carry no labels.
//
// # Looking inside
//
// Coroutines lists a loop's live coroutines (Shrapnel's get_all_threads) and Lookup
// finds one by ID, each as a CoroInfo: ID, name, loop, parent, state, why it waits,
// where it runs or waits (file:line and function of its innermost user frame) and
// where it was spawned; Lookup adds its goroutine stack. Both are safe from any
// goroutine, while the loop runs or not: from the loop's own coroutines they read at
// once, from elsewhere the loop answers at its next scheduling point. Current returns
// the running coroutine, (*Coro).State its state.
//
// The debug console, package console (github.com/coroprof/coroprof/console), is built
// on these: console.Serve("unix", path) serves ps, stack, stats, profile, latency and
// the program's own commands (console.Handle) on a unix socket; docs/console.md.
//
// The profiler (package profiler) sees every switch through hooks that are not part
// of this package's API (internal/hooks); with none attached each event costs one
// predictable branch.
//
// # Several loops
//
// A Scheduler is one loop. The package-level functions use the default one; more can
// be made with NewScheduler, each run by its own EventLoop on its own goroutine (and
// so its own locked OS thread): one loop per core is how a program uses several
// cores. Spawn, Exit, Coroutines and Lookup called from a coroutine act on that
// coroutine's loop, so a coroutine and everything it spawns stay on the loop that
// started them.
//
// Sharing a port: each loop listens on the same address with ListenConfig{ReusePort:
// true} from one of its own coroutines, and the kernel spreads incoming connections
// over the sockets (SO_REUSEPORT); a connection is then served entirely by the loop
// that accepted it.
//
// Handing work over: (*Scheduler).Spawn starts a coroutine on another loop (safe from
// anywhere: it is queued in that loop's inbox and created on its thread), and Call
// runs a function there and brings its result back through the caller's inbox, the
// calling coroutine parked meanwhile. Across loops:
//
//   - A socket belongs to the loop whose coroutine made it (or accepted it). Read,
//     Write and Accept from a coroutine of another loop fail with ErrWrongLoop; its
//     other methods work from anywhere ("Calling in from other goroutines").
//   - A synchronisation primitive (Mutex, Fifo, Channel, ...) belongs to the loop of
//     its first coroutine user; coroutines of other loops use it as foreign callers,
//     each call a round trip to its loop ("Calling in from other goroutines"). Give
//     each loop its own where the cost matters.
//   - A *Coro may be Interrupted from anywhere; Join from another loop returns an
//     error.
//
// RunningLoops lists the loops that run now (the profiler's AllLoops uses it).
// docs/loops.md has the whole story with examples.
//
// # How switching works
//
// Each coroutine is an iter.Pull coroutine, but control does not bounce through a
// scheduler goroutine: the coroutine that gives up control picks the next one itself
// and switches straight to it through the runtime coroutine that one is blocked on
// (see Scheduler and switch.go). A Yield between two coroutines is thus one runtime
// switch. When a coroutine ends, its goroutine waits in a pool for the next Spawn, so
// spawning rarely creates a goroutine. The scheduler's own work (the run queue, expired
// timers, epoll) runs on whichever goroutine gives up control, on the loop thread. The loop blocks in
// epoll_wait when nothing is runnable, with the time to the next timer as timeout;
// timers live in a binary heap on the monotonic clock. Goroutines hand work to the loop
// (spawns, interrupts, offload results, foreign calls) through a mutex-protected inbox
// and an eventfd.
//
// That is Linux. On macOS and the BSDs (and on Linux built with -tags coro_poll) the
// loop blocks in poll(2) instead, polling only the descriptors a coroutine waits on, and
// the inbox wakes it through a self-pipe (poll_portable.go); the README's Platforms
// section says what works where and what it costs.
package coro
