package profiler

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
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
