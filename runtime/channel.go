package coro

import (
	"errors"
	"unsafe"
)

// ErrChannelClosed is returned by Send on a closed Channel, and by Receive on a closed
// Channel with no sender left waiting.
var ErrChannelClosed = errors.New("coro: channel closed")

// Preference says which side of a Channel runs first when a Send or Receive meets a
// waiting partner (Stackless's channel.preference).
type Preference int8

const (
	// PreferNone: the waiting partner is made runnable and the caller carries on. The
	// default, and the cheapest: no extra switch.
	PreferNone Preference = 0
	// PreferReceiver: a Send that finds a receiver waiting yields after handing over
	// the value, so the receiver runs before the sender continues. (Stackless
	// switches to the receiver at once; here the sender goes behind it in the run
	// queue.)
	PreferReceiver Preference = -1
	// PreferSender: a Receive that finds a sender waiting yields after taking the
	// value, so the sender runs before the receiver continues.
	PreferSender Preference = 1
)

// Channel is a Stackless-style rendezvous channel between coroutines: it holds no
// values. Send waits until a receiver takes the value and Receive waits until a sender
// brings one; whichever side comes second completes the exchange at once and makes the
// waiting side runnable, with the value (or its receipt) already in hand.
//
// Blocked senders and blocked receivers queue in arrival order, and only one kind can
// be queued at a time; Balance reports which and how many (positive: senders,
// negative: receivers). The zero value is an open channel with PreferNone (Stackless
// defaults to preferring the receiver; here the cheaper choice is the default, and
// SetPreference picks another).
type Channel[T any] struct {
	home    homeLoop
	q       waitq[T]
	senders bool // q holds senders (else receivers); meaningful when q.len > 0
	closed  bool
	pref    Preference
}

// Send hands v to a receiver, waiting until one takes it. It returns nil once a
// receiver has it, ErrChannelClosed if the channel is closed, or the error that ended
// the wait (interrupt, ErrTimeout) with v not delivered.
func (ch *Channel[T]) Send(v T) error {
	return ch.send(v, nil)
}

// SendError hands err to a receiver in place of a value: that Receive returns err
// (Stackless's send_exception). It waits like Send and returns what Send would.
func (ch *Channel[T]) SendError(err error) error {
	if err == nil {
		err = errors.New("coro: Channel.SendError(nil)")
	}
	var zero T
	return ch.send(zero, err)
}

func (ch *Channel[T]) send(v T, e error) error {
	s := ch.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return ch.sendForeign(v, e)
	}
	if ch.closed {
		return ErrChannelClosed
	}
	if ch.handOff(v, e) {
		if ch.pref == PreferReceiver && s.cur != &s.main {
			Yield()
		}
		return nil
	}
	// Nobody is receiving (first() pruned any receiver already leaving), so the queue
	// is empty or holds senders.
	ch.senders = true
	w := ch.q.enqueue(s.coro(), false)
	w.val, w.err = v, e
	// Granted means a receiver copied the value out (and cleared err) before
	// readying us; otherwise err is why the wait ended.
	_, err, _ := ch.q.park(w, WaitChannel)
	return err
}

// handOff gives v (or e) to the longest-waiting receiver, if there is one. It never
// yields (the caller applies the preference), so foreign operations can use it.
func (ch *Channel[T]) handOff(v T, e error) bool {
	if ch.senders {
		return false
	}
	w := ch.q.next()
	if w == nil {
		return false
	}
	w.val, w.err = v, e
	w.c.ready()
	return true
}

// takeOff takes the value of the longest-waiting sender, if there is one; it never
// yields, like handOff.
func (ch *Channel[T]) takeOff() (v T, err error, ok bool) {
	if !ch.senders {
		return v, nil, false
	}
	w := ch.q.next()
	if w == nil {
		return v, nil, false
	}
	v, err = w.val, w.err
	w.err = nil // the sender's Send returns w.err
	w.c.ready()
	return v, err, true
}

// takeFrom is takeOff with the PreferSender yield, for coroutines of the loop s.
func (ch *Channel[T]) takeFrom(s *Scheduler) (v T, err error, ok bool) {
	v, err, ok = ch.takeOff()
	if ok && ch.pref == PreferSender && s.cur != &s.main {
		Yield()
	}
	return v, err, ok
}

// TrySend hands v to a receiver that is already waiting and reports whether there was
// one. It never waits.
func (ch *Channel[T]) TrySend(v T) (sent bool) {
	s, on := ch.home.resolve()
	if !on {
		foreignOp(s, func(*bridgeWait) { sent = !ch.closed && ch.handOff(v, nil) })
		return sent
	}
	if ch.closed || !ch.handOff(v, nil) {
		return false
	}
	if ch.pref == PreferReceiver && s.cur != &s.main {
		Yield()
	}
	return true
}

// Receive takes a value from a sender, waiting until one comes. It returns the value,
// or the error a sender gave SendError, or ErrChannelClosed when the channel is closed
// and no sender is waiting, or the error that ended the wait (interrupt, ErrTimeout)
// with nothing taken.
func (ch *Channel[T]) Receive() (T, error) {
	s := ch.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return ch.receiveForeign()
	}
	if v, err, ok := ch.takeFrom(s); ok {
		return v, err
	}
	if ch.closed {
		var zero T
		return zero, ErrChannelClosed
	}
	ch.senders = false
	v, err, _ := ch.q.wait(s.coro(), WaitChannel, 0)
	return v, err
}

// TryReceive takes a value from a sender that is already waiting and reports whether
// there was one. It never waits; a SendError reaches it as received == true with err
// set.
func (ch *Channel[T]) TryReceive() (v T, received bool, err error) {
	s, on := ch.home.resolve()
	if !on {
		foreignOp(s, func(*bridgeWait) { v, err, received = ch.takeOff() })
		return v, received, err
	}
	v, err, received = ch.takeFrom(s)
	return v, received, err
}

// Close closes the channel: Send fails with ErrChannelClosed from now on, coroutines
// blocked in Receive are woken with ErrChannelClosed, and senders already blocked keep
// their place, so their values can still be received (Stackless's "closing" state; the
// channel is fully closed when they are gone). Closing twice does nothing.
func (ch *Channel[T]) Close() {
	if s, on := ch.home.resolve(); !on {
		foreignPost(s, ch.close1)
		return
	}
	ch.close1()
}

func (ch *Channel[T]) close1() {
	ch.closed = true
	if ch.senders {
		return
	}
	for w := ch.q.next(); w != nil; w = ch.q.next() {
		w.err = ErrChannelClosed
		w.c.ready()
	}
}

// Closed reports whether Close was called.
func (ch *Channel[T]) Closed() bool {
	if s, on := ch.home.resolve(); !on {
		closed := false
		foreignOp(s, func(*bridgeWait) { closed = ch.closed })
		return closed
	}
	return ch.closed
}

// Balance returns the number of coroutines and goroutines blocked in Send (positive) or
// in Receive (negative); zero when nobody waits.
func (ch *Channel[T]) Balance() int {
	if s, on := ch.home.resolve(); !on {
		n := 0
		foreignOp(s, func(*bridgeWait) { n = ch.balance() })
		return n
	}
	return ch.balance()
}

func (ch *Channel[T]) balance() int {
	if ch.senders {
		return ch.q.len
	}
	return -ch.q.len
}

// SetPreference chooses which side runs first after an exchange; see Preference. It
// only orders coroutines of the channel's loop: a goroutine on the other side runs
// on its own thread whatever the preference.
func (ch *Channel[T]) SetPreference(p Preference) {
	if s, on := ch.home.resolve(); !on {
		foreignOp(s, func(*bridgeWait) { ch.pref = p })
		return
	}
	ch.pref = p
}
