package profiler

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// signalWait bounds how long an interrupted program waits for the loop to write its
// profile. The loop can only stop the session between two coroutine slices, so a
// coroutine that never yields (the bug being profiled, perhaps) would hold it forever.
const signalWait = 5 * time.Second

// catchSignals (the CatchSignals option) makes SIGINT and SIGTERM write a complete
// profile before the program ends, for programs that turned off the runtime's own
// handling of them (which calls Exit, so EventLoop returns and Go writes the file). On a
// signal the loop is asked to stop the session (a stopper coroutine, as for Stop from
// another goroutine); once the file is written the handler is removed and the signal
// raised again, so the program then ends as it would have without the profiler.
func (s *session) catchSignals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	quit := make(chan struct{})
	s.sigStop = func() { // called once, by finish
		signal.Stop(ch)
		close(quit)
	}
	go func() {
		var sig os.Signal
		select {
		case <-quit:
			return
		case <-s.done:
			return
		case sig = <-ch:
		}
		switch err := s.stopFromOutside(signalWait, false); {
		case err == errLoopBusy:
			fmt.Fprintf(os.Stderr, "profiler: on %v: the event loop did not reach a scheduling point within %v; no profile written\n", sig, signalWait)
		case err != nil:
			fmt.Fprintf(os.Stderr, "profiler: on %v: %v\n", sig, err)
		default:
			fmt.Fprintf(os.Stderr, "profiler: on %v: profile written to %s\n", sig, s.opts.file)
		}
		signal.Stop(ch)
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			_ = p.Signal(sig)
		}
	}()
}

// holdSignals keeps SIGINT and SIGTERM caught for the whole session, when the runtime
// handles them (its default: they call Exit), until the file is written. Without it
// the runtime gives them back their default action as the last loop ends, before Go
// writes the file, and a second Ctrl-C then (the user pressing it twice) killed the
// process with no profile and no word. Now a signal that arrives while no loop runs
// (the runtime has no loop to hand it to) comes here: the profile is written first,
// with a line saying so, and the signal is then raised again with its default action
// (raiseAfterWrite, called by finish), so the process ends as asked; the same signal
// once more abandons the write, with a line saying that, and ends the process at once.
// A program that gave a signal back its default action (coro.OnSignal(nil, sig)) is
// not held: it asked to be killed.
func (s *session) holdSignals() {
	late, release := coro.HoldSignals()
	s.sigRelease = release
	go func() {
		var sig os.Signal
		select {
		case <-s.done:
			return
		case sig = <-late:
		}
		s.lateSig.Store(&sig)
		fmt.Fprintf(os.Stderr, "profiler: %v: writing the profile to %s before exiting (%v again abandons it)\n", sig, s.opts.file, sig)
		go s.stopFromOutside(signalWait, false) // if finish already runs, this waits for it
		select {
		case <-s.done:
		case again := <-late:
			fmt.Fprintf(os.Stderr, "profiler: %v again: abandoned the profile %s, not written (the next write of that path removes its temporary file)\n", again, s.opts.file)
			raise(again)
		}
	}()
}

// raiseAfterWrite is called by finish once the file is written (or failed): if a
// signal arrived meanwhile, it says how the write went and ends the process with that
// signal, before Go or Stop return to a program that would otherwise go on.
func (s *session) raiseAfterWrite() {
	p := s.lateSig.Load()
	if p == nil {
		return
	}
	if s.err != nil {
		fmt.Fprintf(os.Stderr, "profiler: on %v: %v; exiting\n", *p, s.err)
	} else {
		fmt.Fprintf(os.Stderr, "profiler: on %v: profile written to %s; exiting\n", *p, s.opts.file)
	}
	raise(*p)
}

// raise ends the process with sig's default action, as if the signal had not been
// caught. It returns only if that does not happen within a second.
func raise(sig os.Signal) {
	signal.Reset(sig)
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Signal(sig)
	}
	time.Sleep(time.Second) // the signal is delivered asynchronously
}
