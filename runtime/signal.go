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
// The signals are caught only while at least one loop runs, or a HoldSignals holds
// them; otherwise they keep the process's usual disposition.

// signalState is process-wide, like signal dispositions.
var sigs struct {
	mu       sync.Mutex
	handlers map[os.Signal]func(os.Signal)
	loops    []*Scheduler // loops now running
	holds    []chan os.Signal
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
	catchSignals()
	return s.stopSignals
}

// catchSignals subscribes to the handled signals if nothing has yet; sigs.mu is held.
func catchSignals() {
	if sigs.ch == nil && len(sigs.handlers) > 0 {
		sigs.ch = make(chan os.Signal, 8)
		sigs.done = make(chan struct{})
		signal.Notify(sigs.ch, handledSignals()...)
		go dispatchSignals(sigs.ch, sigs.done)
	}
}

// releaseSignals gives the signals their usual disposition again once no loop runs
// and nothing holds them; sigs.mu is held.
func releaseSignals() {
	if len(sigs.loops) == 0 && len(sigs.holds) == 0 && sigs.ch != nil {
		signal.Stop(sigs.ch)
		close(sigs.done)
		sigs.ch, sigs.done = nil, nil
	}
}

// stopSignals takes s off the running loops; the last one to stop releases the
// signals, unless a HoldSignals keeps them.
func (s *Scheduler) stopSignals() {
	sigs.mu.Lock()
	defer sigs.mu.Unlock()
	for i, l := range sigs.loops {
		if l == s {
			sigs.loops = append(sigs.loops[:i], sigs.loops[i+1:]...)
			break
		}
	}
	releaseSignals()
}

// HoldSignals keeps the signals the runtime handles (SIGINT and SIGTERM unless
// OnSignal changed that) caught while no event loop runs, until release is called.
// One that arrives while no loop runs is sent on late instead of to its handler (there
// is no loop to run it on; the channel holds a few, more are dropped); while a loop
// runs, the handlers get them as usual. It is for work that must finish after the
// loops end: profiler.Go writes its file after EventLoop returned, and without a hold
// a second Ctrl-C would end the process in the middle of it. A signal OnSignal(nil,
// sig) gave back its default disposition is not held. release may be called more than
// once; the last release, once no loop runs, restores the signals' usual disposition.
func HoldSignals() (late <-chan os.Signal, release func()) {
	ch := make(chan os.Signal, 4)
	sigs.mu.Lock()
	defer sigs.mu.Unlock()
	sigs.holds = append(sigs.holds, ch)
	catchSignals()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			sigs.mu.Lock()
			defer sigs.mu.Unlock()
			for i, h := range sigs.holds {
				if h == ch {
					sigs.holds = append(sigs.holds[:i], sigs.holds[i+1:]...)
					break
				}
			}
			releaseSignals()
		})
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
				if len(sigs.loops) == 0 {
					for _, h := range sigs.holds {
						select {
						case h <- sig:
						default:
						}
					}
				}
			}
			sigs.mu.Unlock()
		}
	}
}
