package coro

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Balance counts blocked senders (positive) and receivers (negative).
func TestChannelBalance(t *testing.T) {
	syncRun(t, func() {
		var ch Channel[int]
		if ch.Balance() != 0 {
			t.Fatal("zero channel has a balance")
		}
		var senders []*Coro
		for i := range 3 {
			senders = append(senders, Spawn(func() {
				if err := ch.Send(i); err != nil {
					t.Errorf("Send(%d): %v", i, err)
				}
			}))
		}
		Yield()
		if ch.Balance() != 3 {
			t.Fatalf("balance with 3 senders = %d", ch.Balance())
		}
		for i := range 3 {
			v, err := ch.Receive()
			if err != nil || v != i {
				t.Fatalf("Receive = %d, %v, want %d (senders in arrival order)", v, err, i)
			}
			if ch.Balance() != 2-i {
				t.Errorf("balance = %d, want %d", ch.Balance(), 2-i)
			}
		}
		joinAll(t, senders)
		var recv []*Coro
		got := make([]int, 2)
		for i := range 2 {
			recv = append(recv, Spawn(func() { got[i], _ = ch.Receive() }))
		}
		Yield()
		if ch.Balance() != -2 {
			t.Fatalf("balance with 2 receivers = %d", ch.Balance())
		}
		ch.Send(10)
		ch.Send(11)
		if ch.Balance() != 0 {
			t.Errorf("balance after 2 sends = %d", ch.Balance())
		}
		joinAll(t, recv)
		if fmt.Sprint(got) != "[10 11]" {
			t.Errorf("receivers got %v, want [10 11] (receivers in arrival order)", got)
		}
	})
}

// Send blocks until a receiver takes the value (rendezvous), and the sender resumes
// only after the exchange.
func TestChannelRendezvous(t *testing.T) {
	syncRun(t, func() {
		var ch Channel[string]
		var log []string
		s := Spawn(func() {
			log = append(log, "send")
			ch.Send("x")
			log = append(log, "sent")
		})
		Yield()
		Yield()
		if strings.Join(log, " ") != "send" {
			t.Fatalf("sender went on without a receiver: %v", log)
		}
		v, _ := ch.Receive()
		log = append(log, "recv "+v)
		s.Join()
		if got := strings.Join(log, " "); got != "send recv x sent" {
			t.Errorf("order %q", got)
		}
	})
}

// Preference decides who runs first after the exchange.
func TestChannelPreference(t *testing.T) {
	for _, tc := range []struct {
		p    Preference
		want string
	}{
		{PreferNone, "sender-continues receiver-runs"},
		{PreferReceiver, "receiver-runs sender-continues"},
	} {
		syncRun(t, func() {
			var ch Channel[int]
			ch.SetPreference(tc.p)
			var log []string
			r := Spawn(func() {
				ch.Receive()
				log = append(log, "receiver-runs")
			})
			Yield()
			ch.Send(1)
			log = append(log, "sender-continues")
			r.Join()
			if got := strings.Join(log, " "); got != tc.want {
				t.Errorf("preference %d: %q, want %q", tc.p, got, tc.want)
			}
		})
	}
	syncRun(t, func() {
		var ch Channel[int]
		ch.SetPreference(PreferSender)
		var log []string
		s := Spawn(func() {
			ch.Send(1)
			log = append(log, "sender-runs")
		})
		Yield()
		ch.Receive()
		log = append(log, "receiver-continues")
		s.Join()
		if got := strings.Join(log, " "); got != "sender-runs receiver-continues" {
			t.Errorf("PreferSender: %q", got)
		}
	})
}

// A timed-out or interrupted Send delivers nothing; a timed-out Receive takes nothing;
// the balance comes back to zero and later exchanges are unaffected.
func TestChannelTimeouts(t *testing.T) {
	syncRun(t, func() {
		var ch Channel[int]
		err := WithTimeout(2*time.Millisecond, func() error { return ch.Send(1) })
		if !errors.Is(err, ErrTimeout) || ch.Balance() != 0 {
			t.Fatalf("Send: %v, balance %d", err, ch.Balance())
		}
		if _, ok, _ := ch.TryReceive(); ok {
			t.Fatal("the timed-out send's value was still there")
		}
		err = WithTimeout(2*time.Millisecond, func() error { _, err := ch.Receive(); return err })
		if !errors.Is(err, ErrTimeout) || ch.Balance() != 0 {
			t.Fatalf("Receive: %v, balance %d", err, ch.Balance())
		}
		if ch.TrySend(5) {
			t.Fatal("TrySend found the timed-out receiver")
		}

		// Senders 1 and 2 queue; 1 is interrupted while still queued; the receiver
		// must get 2, and 1's value is never delivered.
		var e1, e2 error
		s1 := Spawn(func() { e1 = ch.Send(1) })
		s2 := Spawn(func() { e2 = ch.Send(2) })
		Yield()
		s1.Interrupt(errSyncStop)
		v, err := ch.Receive()
		joinAll(t, []*Coro{s1, s2})
		if v != 2 || err != nil || e1 != errSyncStop || e2 != nil {
			t.Errorf("got %d (%v); s1 %v s2 %v", v, err, e1, e2)
		}
		if ch.Balance() != 0 {
			t.Errorf("balance %d", ch.Balance())
		}
	})
}

func TestChannelTryAndSendError(t *testing.T) {
	syncRun(t, func() {
		var ch Channel[int]
		if ch.TrySend(1) {
			t.Error("TrySend without a receiver")
		}
		if _, ok, _ := ch.TryReceive(); ok {
			t.Error("TryReceive without a sender")
		}
		var got int
		r := Spawn(func() { got, _ = ch.Receive() })
		Yield()
		if !ch.TrySend(7) {
			t.Error("TrySend with a receiver waiting failed")
		}
		r.Join()
		if got != 7 {
			t.Errorf("received %d", got)
		}
		boom := errors.New("boom")
		var serr error = errors.New("not run")
		s := Spawn(func() { serr = ch.SendError(boom) })
		Yield()
		v, ok, err := ch.TryReceive()
		s.Join()
		if !ok || err != boom || v != 0 || serr != nil {
			t.Errorf("TryReceive = %d %v %v; SendError returned %v", v, ok, err, serr)
		}
		// SendError(nil) must still be an error for the receiver, or the receiver
		// would take a zero value for a real one.
		s = Spawn(func() { ch.SendError(nil) })
		Yield()
		if _, err := ch.Receive(); err == nil || !strings.Contains(err.Error(), "SendError(nil)") {
			t.Errorf("Receive after SendError(nil): %v", err)
		}
		s.Join()
	})
}

// Close wakes blocked receivers with ErrChannelClosed, lets blocked senders deliver,
// and then refuses both sides.
func TestChannelClose(t *testing.T) {
	syncRun(t, func() {
		var ch Channel[int]
		res := make([]error, 2)
		var rs []*Coro
		for i := range 2 {
			rs = append(rs, Spawn(func() { _, res[i] = ch.Receive() }))
		}
		Yield()
		ch.Close()
		joinAll(t, rs)
		for i, err := range res {
			if err != ErrChannelClosed {
				t.Errorf("receiver %d: %v", i, err)
			}
		}

		var ch2 Channel[int]
		var serr error = errors.New("not run")
		s := Spawn(func() { serr = ch2.Send(9) })
		Yield()
		ch2.Close()
		ch2.Close()
		if err := ch2.Send(1); err != ErrChannelClosed {
			t.Errorf("Send on closed: %v", err)
		}
		if v, err := ch2.Receive(); v != 9 || err != nil {
			t.Errorf("Receive of a sender blocked before Close: %d, %v", v, err)
		}
		s.Join()
		if serr != nil {
			t.Errorf("that sender's Send = %v", serr)
		}
		if _, err := ch2.Receive(); err != ErrChannelClosed || !ch2.Closed() {
			t.Errorf("Receive on drained closed channel: %v", err)
		}
	})
}

// Ping-pong across two channels keeps every value in order.
func TestChannelPingPong(t *testing.T) {
	syncRun(t, func() {
		var ping, pong Channel[int]
		const n = 1000
		p := Spawn(func() {
			for {
				v, err := ping.Receive()
				if err != nil {
					return
				}
				pong.Send(v + 1)
			}
		})
		for i := range n {
			ping.Send(i)
			v, _ := pong.Receive()
			if v != i+1 {
				t.Fatalf("round %d: got %d", i, v)
			}
		}
		ping.Close()
		p.Join()
	})
}

// A value handed to a receiver whose deadline passes before it runs is still
// received: the exchange happened, so Receive returns it and nothing is lost. (See
// TestMutexGrantBeatsLateTimeout for why the round repeats.)
func TestChannelDeliveryBeatsLateTimeout(t *testing.T) {
	syncRun(t, func() {
		seen := 0
		for i := range 20 {
			var ch Channel[int]
			var got int
			var pending bool
			var rerr error = errors.New("not run")
			r := Spawn(func() {
				rerr = WithTimeout(time.Millisecond, func() (err error) {
					got, err = ch.Receive()
					pending = Current().pending != nil
					return err
				})
			})
			Yield()
			time.Sleep(2 * time.Millisecond) // deadline due, timer not yet processed
			if err := ch.Send(i); err != nil {
				t.Fatalf("Send: %v", err)
			}
			r.Join()
			if rerr != nil || got != i {
				t.Fatalf("Receive = %d, %v; want %d, nil", got, rerr, i)
			}
			if pending {
				seen++
			}
		}
		if seen == 0 {
			t.Error("the deadline never fired between delivery and resumption")
		}
	})
}
