package coro

import (
	"context"
	"fmt"
	"runtime/pprof"
	"strconv"

	"github.com/coroprof/coroprof/internal/wire"
)

// The goroutines the runtime starts must not keep the pprof labels of the coroutine
// that started them, which Go copies to every goroutine started: the profiler labels a
// coroutine's goroutine with coro_id and charges the coroutine the CPU samples that
// carry it, so work on other threads (an Offload, the latency ticker) would be added to
// the coroutine's own loop-thread time. An offloaded function is labelled
// coro_offload=<ID of the caller> (wire.LabelOffload) instead, so a CPU profile still
// shows whose it is; the runtime's other goroutines get no labels (unlabelled).

// unlabelled drops the labels the calling goroutine inherited.
func unlabelled() { pprof.SetGoroutineLabels(context.Background()) }

// offloadOp is one Offload in flight.
type offloadOp struct {
	c         *Coro
	err       error
	abandoned bool // the caller was interrupted and no longer waits
}

// Offload runs fn on a separate goroutine, which may block its OS thread freely (file
// I/O, cgo, a blocking library), and parks the calling coroutine (reason WaitOffload)
// until fn returns; the loop keeps running the other coroutines meanwhile. The result
// is delivered to the loop through its inbox (one eventfd write per batch). It returns
// fn's error, a panic in fn as an error, or the error that interrupted the wait (an
// Interrupt or WithTimeout): fn then keeps running to its end on its goroutine and its
// result is dropped, so fn must not write to memory the caller reads after an error.
func Offload(fn func() error) error {
	c := current()
	s := c.s
	if s.killing {
		return ErrExiting // a deferred call during the unwind: fn is not run (doc.go)
	}
	op := &offloadOp{c: c}
	go func() {
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(),
			pprof.Labels(wire.LabelOffload, strconv.FormatUint(c.id, 10))))
		defer func() {
			if r := recover(); r != nil {
				op.err = fmt.Errorf("coro: offloaded function panicked: %v", r)
			}
			s.inbox.post(inboxItem{kind: itemOffload, op: op})
		}()
		op.err = fn()
	}()
	// Whatever way the wait ends (woken, interrupted, or unwound by the loop's exit),
	// a completion that comes later must not wake c from some other wait.
	defer func() { op.abandoned = true }()
	if err := c.park(WaitOffload); err != nil {
		return err
	}
	return op.err
}

// complete runs on the loop when the offloaded function has returned.
func (op *offloadOp) complete() {
	if !op.abandoned {
		op.c.ready()
	}
}
