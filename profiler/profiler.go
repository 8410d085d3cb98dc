package profiler

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/coroprof/coroprof/internal/atomicfile"
	coro "github.com/coroprof/coroprof/runtime"
)

// DefaultFile is where a profile is written when no File option is given.
const DefaultFile = "coro_profile.bin"

// DefaultSampleRate is the CPU stack sampling rate when no SampleRate option is given:
// the runtime/pprof default, the highest rate the Go runtime accepts without a warning.
const DefaultSampleRate = 100

// DefaultSlices is the size of the ring of recent run slices when no Slices option is given.
const DefaultSlices = 16384

// numLongSlices is how many of the longest run slices are kept with their full counters.
const numLongSlices = 32

// ErrActive is returned by Go and Start while another profiling session runs: a
// process has one CPU profile, and Region finds the session through one global, so
// sessions neither nest nor run side by side.
var ErrActive = errors.New("profiler: a profiling session is already running (one at a time; stop it first)")

// ErrNotActive is returned by Stop when no session started by Start is running.
var ErrNotActive = errors.New("profiler: no profiling session is running")

// Option configures a profiling session.
type Option func(*options) error

type options struct {
	file       string
	ticksOnly  bool
	noRusage   bool // unexported mode (tests and benchmarks): ticks + CPU clock, no getrusage
	reconcile  bool
	sampleRate int
	slices     int
	signals    bool
	loop       *coro.Scheduler   // nil: the default loop
	loops      []*coro.Scheduler // more loops, each with its own ledger (Loops)
	allLoops   bool              // and every loop running at Start (AllLoops)

	// wrap, when set (tests), makes attach install wrap(ledger) as the loop's hooks
	// instead of the ledger: a test's hooks that call the ledger's and measure around
	// them.
	wrap func(*ledger) coroHooks
}

func defaultOptions() options {
	return options{file: DefaultFile, sampleRate: DefaultSampleRate, slices: DefaultSlices}
}

// File sets the path of the profile file (default coro_profile.bin in the working
// directory). Go and Start check at once that it can be written (its directory exists
// and is writable, it is not a directory) and fail otherwise. The file is written as
// the README's "Output files" says: to a temporary name beside it and renamed, so a
// reader never sees half a file; a replaced file keeps its mode, a new one gets 0666
// less the umask; a symbolic link is followed; a device or FIFO is written in place.
func File(path string) Option {
	return func(o *options) error {
		if path == "" {
			return errors.New("profiler: File: empty path")
		}
		o.file = path
		return nil
	}
}

// TicksOnly skips the thread CPU clock and getrusage: only TSC ticks are charged, for
// the lowest overhead per switch (see the package documentation for the costs).
func TicksOnly() Option {
	return func(o *options) error { o.ticksOnly = true; return nil }
}

// ReconciledCPU reads the thread CPU clock only where getrusage shows the thread was
// switched out (and at the first and last stamps and around regions), charging the
// uninterrupted intervals their wall time, and reconciling with the clock at each read.
// The CPU totals still close exactly and a thread that blocked is charged its true
// CPU time, but per slice the CPU figure is an estimate: per coroutine within 1 % in
// this project's replay measurement, though CPU shares 2.4 points off were seen under
// heavy load on a virtual machine (hypervisor steal is wall time without a context
// switch). In return a switch's stamps cost less than half as much. See
// reconcile.go and "What a stamp costs" in the package documentation. No effect with
// TicksOnly.
func ReconciledCPU() Option {
	return func(o *options) error { o.reconcile = true; return nil }
}

// SampleRate sets the CPU stack sampling rate in Hz (default 100); 0 turns sampling
// off. Rates above 100 Hz work but make the Go runtime print one warning line to
// standard error; see "CPU samples" in the package documentation.
func SampleRate(hz int) Option {
	return func(o *options) error {
		if hz < 0 || hz > 10000 {
			return fmt.Errorf("profiler: SampleRate(%d): want 0 (off) to 10000 Hz", hz)
		}
		o.sampleRate = hz
		return nil
	}
}

// Slices sets how many recent run slices the timeline ring keeps (default 16384, 0
// turns the ring off). Older slices are overwritten and counted as dropped.
func Slices(n int) Option {
	return func(o *options) error {
		if n < 0 || n > 1<<24 {
			return fmt.Errorf("profiler: Slices(%d): want 0 to %d", n, 1<<24)
		}
		o.slices = n
		return nil
	}
}

// CatchSignals makes the session catch SIGINT and SIGTERM itself, stop, write the
// profile and raise the signal again. It is for programs that turned the runtime's own
// handling off (coro.OnSignal(nil, os.Interrupt)): by default the runtime answers both
// signals with Exit, EventLoop returns, and Go writes the file on its normal path, so
// the profiler needs no handler (see "Signals" in the package documentation).
func CatchSignals() Option {
	return func(o *options) error { o.signals = true; return nil }
}

// Loop makes Go, or Start called from outside any loop, profile s instead of the
// default loop (Go's fn must then run s.EventLoop). Start called from a coroutine
// always profiles that coroutine's loop.
func Loop(s *coro.Scheduler) Option {
	return func(o *options) error {
		if s == nil {
			return errors.New("profiler: Loop: nil scheduler")
		}
		o.loop = s
		return nil
	}
}

// active is the running session, nil when profiling is off. Region reads it on every
// call, so "off" costs one atomic load.
var active atomic.Pointer[session]

// startMu serialises Start/Stop/Go bookkeeping (not the hooks, which run on the loop thread).
var startMu sync.Mutex

// Go profiles fn, which is normally coro.EventLoop: it locks the calling goroutine to
// its OS thread, takes the start stamp on that thread, runs fn there, takes the stop
// stamp and writes the profile. If fn panics the profile is written first and the
// panic then continues unchanged. Go profiles the default loop (see Loop for another);
// it may be called again after it returns.
func Go(fn func(), opts ...Option) error {
	if fn == nil {
		return errors.New("profiler: Go: nil function")
	}
	if coro.Current() != nil {
		// Go runs a loop on the calling thread; a coroutine is already inside one.
		return errors.New("profiler: Go called from a coroutine: use Start and Stop inside a running loop")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s, err := startSession(opts, true)
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if finished {
			return
		}
		// fn panicked (or called runtime.Goexit): write what was recorded, then let
		// the panic go on with its original stack.
		if err := s.stopFromOutside(0, true); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	fn()
	finished = true
	// Normally the loop has returned on this thread; if fn left it running elsewhere,
	// the loop closes its own ledger.
	return s.stopFromOutside(0, true)
}

// Start begins a profiling session. Called from a coroutine (for example the debug
// console's "profile start"), it attaches to that coroutine's loop and starts at once.
// Called from outside any loop, it attaches to the default loop, and the ledger begins
// at the loop's first scheduling event (the loop thread's clocks cannot be read from
// another thread), or, if the loop runs, through a coroutine on it. Coroutines parked
// or runnable at the start are recorded from then on. The session may span several
// runs of the loop (see "Runs and threads" in the package documentation).
func Start(opts ...Option) error {
	_, err := startSession(opts, false)
	return err
}

// Stop ends the session begun by Start and writes the profile. Called on the loop
// (from a coroutine) it stops at once; the file is written on the loop thread. Called
// from another goroutine it has the loop stop the session and waits for that, or, when
// the loop is not running, closes the ledger at the last scheduling event the loop
// reported.
func Stop() error {
	s := active.Load()
	switch {
	case s == nil:
		return ErrNotActive
	case s.byGo:
		return errStartedByGo
	case coro.CurrentScheduler() == s.primary.sched:
		return s.finish(true)
	}
	if p := s.ledgerOf(coro.CurrentScheduler()); p != nil {
		// On a peer loop's thread: close its ledger here, since the stopper that
		// finish would send could not run while this thread waits below.
		p.close(true)
	}
	return s.stopFromOutside(0, false)
}

// startSession creates, prepares and attaches a session, refusing a second one.
func startSession(opts []Option, byGo bool) (*session, error) {
	o, err := parseOptions(opts)
	if err != nil {
		return nil, err
	}
	startMu.Lock()
	defer startMu.Unlock()
	if active.Load() != nil {
		return nil, ErrActive
	}
	// A path the profile cannot be written to (a missing or read-only directory, a
	// directory as the file) fails now, not after the session it would have held.
	if err := atomicfile.Check(o.file); err != nil {
		return nil, fmt.Errorf("profiler: %w", err)
	}
	s := newSession(o, byGo)
	if err := s.prepare(); err != nil {
		return nil, err
	}
	// Go runs on the thread that will run the loop; Start from a coroutine is on it.
	// Both begin now. Start from anywhere else begins at the loop's first event.
	sch := coro.CurrentScheduler()
	if err := s.primary.attachAndBegin(sch, byGo); err != nil {
		s.abort()
		return nil, err
	}
	if err := s.attachPeers(); err != nil {
		// Undo as Stop would (each ledger closed on its own thread), writing nothing.
		s.discard = true
		if sch != nil && sch == s.primary.sched {
			s.finish(true)
		} else {
			s.stopFromOutside(0, byGo)
		}
		return nil, err
	}
	active.Store(s)
	s.holdSignals()
	if o.signals {
		s.catchSignals()
	}
	return s, nil
}

func parseOptions(opts []Option) (options, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}
