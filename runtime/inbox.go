package coro

import (
	"sync"
	"sync/atomic"
)

// inbox carries work from other goroutines to the loop: spawns, interrupts, exit
// requests and offload completions. Producers append under mu; the first producer of a
// batch sets armed and writes the loop's wake-up descriptor (the poller's eventfd, or
// the write end of its self-pipe) once, the rest only append, so a burst of N posts
// costs one write(2). The loop checks armed (a plain load on x86) at every
// scheduling decision and drains the whole batch at once.
type inbox struct {
	mu     sync.Mutex
	armed  atomic.Bool
	items  []inboxItem
	spare  []inboxItem // the previous batch's array, reused
	wakefd int         // the loop's wake-up descriptor while it runs, else -1 (nothing to wake)
}

type itemKind uint8

const (
	itemSpawn itemKind = iota
	itemInterrupt
	itemExit
	itemOffload
	itemInspect     // read the loop's state for another goroutine (introspect.go)
	itemForeign     // a foreign caller's operation on one of the loop's objects (bridge.go)
	itemForeignDone // a foreign operation of one of the loop's coroutines is over
)

type inboxItem struct {
	kind itemKind
	c    *Coro
	err  error
	op   *offloadOp
	gen  uint64           // itemExit: the run of the loop it was meant for
	fn   func()           // itemInspect
	ffn  func(bridgeMode) // itemForeign
	bw   *bridgeWait      // itemForeignDone
}

func (b *inbox) post(it inboxItem) {
	fd := b.push(it)
	// The write is made after unlocking: the loop wakes within microseconds and takes
	// mu to drain; had we still held it, the loop thread would sleep on the mutex and
	// need a Go-scheduler hand-off to wake again (measured: +30µs per wake-up). The
	// descriptor lives as long as the scheduler, so fd cannot be closed under us.
	if fd >= 0 {
		wakeLoop(fd) // poll_linux.go or poll_portable.go
	}
}

// push appends it and returns the wake-up descriptor to write (after unlocking), or -1.
func (b *inbox) push(it inboxItem) int {
	b.mu.Lock()
	b.items = append(b.items, it)
	fd := -1
	if !b.armed.Load() {
		b.armed.Store(true)
		fd = b.wakefd
	}
	b.mu.Unlock()
	return fd
}

// takeForeign takes the foreign operations out of the pending batch, leaving the rest
// (spawns wait for the next run).
func (b *inbox) takeForeign() []inboxItem {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []inboxItem
	keep := b.items[:0]
	for _, it := range b.items {
		if it.kind == itemForeign {
			out = append(out, it)
		} else {
			keep = append(keep, it)
		}
	}
	clear(b.items[len(keep):])
	b.items = keep
	return out
}

// attach is called by the loop when it starts: from now on posts wake it.
func (b *inbox) attach(fd int) {
	b.mu.Lock()
	b.wakefd = fd
	if len(b.items) > 0 {
		b.armed.Store(true) // posted before the loop ran: drain at the first pick
	}
	b.mu.Unlock()
}

// detach is called by the loop when its run ends: posts no longer wake it. The
// introspection requests still queued are answered now, under the lock: the run has
// ended and the next cannot start, so nothing changes what they read.
func (b *inbox) detach() {
	b.mu.Lock()
	b.wakefd = -1
	kept := b.items[:0]
	for _, it := range b.items {
		if it.kind == itemInspect {
			it.fn()
			continue
		}
		kept = append(kept, it)
	}
	clear(b.items[len(kept):])
	b.items = kept
	b.mu.Unlock()
}

// take returns the pending batch. The eventfd needs no reading (it is registered
// edge-triggered; the portable poller drains its pipe when poll reports it); a post
// that comes after the swap sets armed again and writes again.
func (b *inbox) take() []inboxItem {
	b.mu.Lock()
	items := b.items
	b.items = b.spare[:0]
	b.spare = nil
	b.armed.Store(false)
	b.mu.Unlock()
	return items
}

// drainInbox runs the posted work on the loop thread.
func (s *Scheduler) drainInbox() {
	items := s.inbox.take()
	for i := range items {
		it := &items[i]
		switch it.kind {
		case itemSpawn:
			s.start(it.c, nil)
		case itemInterrupt:
			it.c.interrupt(it.err, 0)
		case itemExit:
			if it.gen == s.runsEnded.Load() {
				s.exitReq = true
			} // else: posted for a run of the loop that has ended
		case itemOffload:
			it.op.complete()
		case itemInspect:
			it.fn()
		case itemForeign:
			it.ffn(modeOnLoop)
		case itemForeignDone:
			it.bw.homeDone()
		}
		*it = inboxItem{}
	}
	s.inbox.mu.Lock()
	if s.inbox.spare == nil {
		s.inbox.spare = items[:0]
	}
	s.inbox.mu.Unlock()
}
