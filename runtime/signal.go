package coro

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Signals are delivered into the loop: os/signal hands them to a goroutine, which
// spawns the handler as a coroutine on every running loop (Spawn from a goroutine is
// one inbox post and, per batch, one eventfd write). The handler thus runs on the loop
// thread like any coroutine: it may log, close listeners, and call Exit. By default
// SIGINT and SIGTERM call Exit, so Ctrl-C ends EventLoop cleanly: the coroutines left
// are unwound (their deferred calls run) and EventLoop returns, which is what lets
// profiler.Go write its file on Ctrl-C.
//
// The signals are caught only while at least one loop runs; otherwise they keep the
// process's usual disposition.

// signalState is process-wide, like signal dispositions.
var sigs struct {
	mu       sync.Mutex
	handlers map[os.Signal]func(os.Signal)
	loops    []*Scheduler // loops now running
	ch       chan os.Signal
	done     chan struct{}
}

func init() {
	sigs.handlers = map[os.Signal]func(os.Signal){
		os.Interrupt:    exitOnSignal,
		syscall.SIGTERM: exitOnSignal,
	}
}

// exitOnSignal is the default handler: end the loop it runs on.
func exitOnSignal(os.Signal) { Exit() }

// OnSignal sets the handler for sigs: while an event loop runs, each arrival of one of
// them spawns fn(sig) as a coroutine (named "signal NAME") on every running loop. A nil
// fn stops catching sigs: they get the process's default disposition again (for
// SIGINT, the process dies). The default is Exit for os.Interrupt and SIGTERM.
//
//	coro.OnSignal(nil, os.Interrupt)   // Ctrl-C kills the process outright
//	coro.OnSignal(func(os.Signal) { log.Print("draining"); ln.Close() }, syscall.SIGTERM)
func OnSignal(fn func(os.Signal), sig ...os.Signal) {
	sigs.mu.Lock()
	defer sigs.mu.Unlock()
	for _, s := range sig {
		if fn == nil {
			delete(sigs.handlers, s)
		} else {
			sigs.handlers[s] = fn
		}
	}
	if sigs.ch != nil {
		// Re-subscribe our channel only: signal.Reset would also undo other
		// packages' Notify calls (a profiler that writes its file on SIGINT).
		signal.Stop(sigs.ch)
		if list := handledSignals(); len(list) > 0 { // Notify with none means all
			signal.Notify(sigs.ch, list...)
		}
	}
}

// handledSignals lists the signals with a handler; sigs.mu is held.
func handledSignals() []os.Signal {
	list := make([]os.Signal, 0, len(sigs.handlers))
	for sig := range sigs.handlers {
		list = append(list, sig)
	}
	return list
}

// startSignals is called by EventLoop as the loop starts; the function it returns is
// called as the loop ends.
func (s *Scheduler) startSignals() (stop func()) {
	sigs.mu.Lock()
	defer sigs.mu.Unlock()
	sigs.loops = append(sigs.loops, s)
	if sigs.ch == nil && len(sigs.handlers) > 0 {
		sigs.ch = make(chan os.Signal, 8)
		sigs.done = make(chan struct{})
		signal.Notify(sigs.ch, handledSignals()...)
		go dispatchSignals(sigs.ch, sigs.done)
	}
	return s.stopSignals
}

// stopSignals takes s off the running loops; the last one to stop releases the signals.
func (s *Scheduler) stopSignals() {
	sigs.mu.Lock()
	defer sigs.mu.Unlock()
	for i, l := range sigs.loops {
		if l == s {
			sigs.loops = append(sigs.loops[:i], sigs.loops[i+1:]...)
			break
		}
	}
	if len(sigs.loops) == 0 && sigs.ch != nil {
		signal.Stop(sigs.ch)
		close(sigs.done)
		sigs.ch, sigs.done = nil, nil
	}
}

// dispatchSignals runs on its own goroutine while loops run.
func dispatchSignals(ch chan os.Signal, done chan struct{}) {
	unlabelled() // started by whoever runs EventLoop: offload.go
	for {
		select {
		case <-done:
			return
		case sig := <-ch:
			sigs.mu.Lock()
			fn := sigs.handlers[sig]
			if fn != nil {
				for _, l := range sigs.loops {
					l.SpawnNamed("signal "+sig.String(), func() { fn(sig) })
				}
			}
			sigs.mu.Unlock()
		}
	}
}
