package coro

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// waitUntil sleeps (the coroutine) until cond holds, or fails after a generous limit.
func waitUntil(t *testing.T, what string, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("%s: not reached in 20s", what)
			return false
		}
		Sleep(time.Millisecond)
	}
	return true
}

// TestBridgeChannelStress: 20000 values each way across the border, from four
// goroutines to a coroutine and from a coroutine to a goroutine, each stream in order,
// nothing lost or duplicated, under the race detector.
func TestBridgeChannelStress(t *testing.T) {
	s, _ := newTestSched(t)
	const n, producers = 20000, 4
	var in, out Channel[int]
	var wg sync.WaitGroup
	received := make(chan []int, 1)
	s.Spawn(func() {
		in.Balance() // bind both channels to this loop
		out.Balance()
		for p := 0; p < producers; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < n/producers; i++ {
					if err := in.Send(p<<32 | i); err != nil {
						t.Errorf("goroutine Send: %v", err)
						return
					}
				}
			}()
		}
		go func() {
			var r []int
			for i := 0; i < n; i++ {
				v, err := out.Receive()
				if err != nil {
					t.Errorf("goroutine Receive: %v", err)
					break
				}
				r = append(r, v)
			}
			received <- r
		}()
		next := make([]int, producers)
		for i := 0; i < n; i++ {
			v, err := in.Receive()
			if err != nil {
				t.Errorf("coroutine Receive: %v", err)
				return
			}
			p, k := v>>32, v&(1<<32-1)
			if k != next[p] {
				t.Errorf("value %d of producer %d received when %d was due", k, p, next[p])
				return
			}
			next[p]++
		}
		for i := 0; i < n; i++ {
			if err := out.Send(i); err != nil {
				t.Errorf("coroutine Send: %v", err)
				return
			}
		}
	})
	runLoop(t, s, 120*time.Second)
	wg.Wait()
	r := <-received
	if len(r) != n {
		t.Fatalf("goroutine received %d values, want %d", len(r), n)
	}
	for i, v := range r {
		if v != i {
			t.Fatalf("goroutine received %d at position %d", v, i)
		}
	}
}

// TestBridgeFifoStress: four goroutines push 5000 values each (posted without waiting)
// while a coroutine pops; every value arrives exactly once, each producer's in order.
func TestBridgeFifoStress(t *testing.T) {
	s, _ := newTestSched(t)
	const n, producers = 20000, 4
	var f Fifo[int]
	s.Spawn(func() {
		f.Len()
		for p := 0; p < producers; p++ {
			go func() {
				for i := 0; i < n/producers; i++ {
					f.Push(p<<32 | i)
				}
			}()
		}
		next := make([]int, producers)
		for got := 0; got < n; got++ {
			v, err := f.Pop()
			if err != nil {
				t.Errorf("Pop: %v", err)
				return
			}
			p, k := v>>32, v&(1<<32-1)
			if k != next[p] {
				t.Errorf("producer %d: value %d popped when %d was due", p, k, next[p])
				return
			}
			next[p]++
		}
		if f.Len() != 0 {
			t.Errorf("%d values left over", f.Len())
		}
	})
	runLoop(t, s, 120*time.Second)
}

// TestBridgeBalanceAndOrder: goroutine waiters are counted by Balance and Waiters, and
// served in one FIFO with coroutine waiters.
func TestBridgeBalanceAndOrder(t *testing.T) {
	s, _ := newTestSched(t)
	var ch Channel[string]
	var f Fifo[string]
	results := make(chan string, 4)
	s.Spawn(func() {
		ch.Balance()
		f.Len()
		// Senders: goroutine g1, coroutine c1, goroutine g2, in that order.
		go func() { ch.Send("g1") }()
		waitUntil(t, "g1 queued", func() bool { return ch.Balance() == 1 })
		Spawn(func() { ch.Send("c1") })
		waitUntil(t, "c1 queued", func() bool { return ch.Balance() == 2 })
		go func() { ch.Send("g2") }()
		waitUntil(t, "g2 queued", func() bool { return ch.Balance() == 3 })
		var got []string
		for i := 0; i < 3; i++ {
			v, _ := ch.Receive()
			got = append(got, v)
		}
		if strings.Join(got, ",") != "g1,c1,g2" {
			t.Errorf("received %v, want g1,c1,g2 (arrival order)", got)
		}
		// Receivers: a goroutine waiting in Pop is counted and gets the value.
		go func() {
			v, err := f.Pop()
			results <- fmt.Sprintf("%v %v", v, err)
		}()
		waitUntil(t, "goroutine in Pop", func() bool { return f.Waiters() == 1 })
		f.Push("x")
		// and a goroutine blocked in Receive makes the balance negative.
		go func() {
			v, err := ch.Receive()
			results <- fmt.Sprintf("%v %v", v, err)
		}()
		waitUntil(t, "goroutine in Receive", func() bool { return ch.Balance() == -1 })
		ch.Send("y")
	})
	runLoop(t, s, 60*time.Second)
	for _, want := range []string{"x <nil>", "y <nil>"} {
		if got := <-results; got != want {
			t.Errorf("goroutine got %q, want %q", got, want)
		}
	}
	// From a goroutine, with the loop ended: the accessors still answer.
	if b := ch.Balance(); b != 0 {
		t.Errorf("Balance after the loop: %d", b)
	}
}

// TestBridgeMutexShared: goroutines and coroutines increment one counter under one
// Mutex; the race detector sees the Mutex order every access.
func TestBridgeMutexShared(t *testing.T) {
	s, _ := newTestSched(t)
	const per, each = 500, 4
	var mu Mutex
	var rw RWMutex
	var running InvertedSemaphore // goroutines still at work: the loop lives until 0
	counter, rwCounter := 0, 0
	s.Spawn(func() {
		mu.Locked()
		rw.Readers()
		running.Acquire(each)
		for g := 0; g < each; g++ {
			go func() {
				defer running.Release(1)
				for i := 0; i < per; i++ {
					if err := mu.Lock(); err != nil {
						t.Errorf("goroutine Lock: %v", err)
						return
					}
					mu.Lock() // reentrant for its owner, as for a coroutine
					counter++
					mu.Unlock()
					mu.Unlock()
					if i%50 == 0 {
						rw.Lock()
						rwCounter++
						rw.Unlock()
						rw.RLock()
						_ = rwCounter
						rw.RUnlock()
					}
				}
			}()
		}
		for c := 0; c < each; c++ {
			Spawn(func() {
				for i := 0; i < per; i++ {
					mu.Lock()
					v := counter
					if i%7 == 0 {
						Yield() // hold it across a switch
					}
					counter = v + 1
					mu.Unlock()
					if i%50 == 0 {
						rw.RLock()
						_ = rwCounter
						Yield()
						rw.RUnlock()
						rw.Lock()
						rwCounter++
						rw.Unlock()
					}
				}
			})
		}
		running.WaitZero()
	})
	runLoop(t, s, 120*time.Second)
	if counter != 2*per*each || rwCounter != 2*each*per/50 {
		t.Fatalf("counters %d and %d, want %d and %d", counter, rwCounter, 2*per*each, 2*each*per/50)
	}
	if mu.Locked() {
		t.Errorf("mutex still locked by %v", mu.Owner())
	}
}

// TestBridgeUnlockMisuse: a goroutine unlocking a mutex it does not own panics in the
// goroutine, with the rule, and the loop carries on.
func TestBridgeUnlockMisuse(t *testing.T) {
	s, _ := newTestSched(t)
	var mu Mutex
	var done Event
	msg := make(chan string, 1)
	s.Spawn(func() {
		mu.Lock()
		go func() {
			defer done.Set()
			defer func() { msg <- fmt.Sprint(recover()) }()
			mu.Unlock()
		}()
		done.Wait()
		mu.Unlock()
	})
	runLoop(t, s, 30*time.Second)
	if m := <-msg; !strings.Contains(m, "Mutex.Unlock by <goroutine>, but the mutex is owned by coroutine") {
		t.Errorf("panic %q", m)
	}
}

// TestBridgeLoopExitReleases: goroutines blocked on a loop's objects when the loop
// ends are released with ErrLoopExited, one for every kind of wait.
func TestBridgeLoopExitReleases(t *testing.T) {
	s, _ := newTestSched(t)
	var (
		ch    Channel[int]
		ch2   Channel[int]
		f     Fifo[int]
		mu    Mutex
		rw    RWMutex
		cv    Cond
		ev    Event
		sem   Semaphore
		isem  InvertedSemaphore
		count atomic.Int32
	)
	waits := map[string]func() error{
		"Channel.Receive":             func() error { _, err := ch.Receive(); return err },
		"Channel.Send":                func() error { return ch2.Send(1) },
		"Fifo.Pop":                    func() error { _, err := f.Pop(); return err },
		"Fifo.PopAll":                 func() error { _, err := f.PopAll(); return err },
		"Mutex.Lock":                  func() error { return mu.Lock() },
		"RWMutex.Lock":                func() error { return rw.Lock() },
		"RWMutex.RLock":               func() error { return rw.RLock() },
		"Cond.Wait":                   func() error { return cv.Wait() },
		"Event.Wait":                  func() error { return ev.Wait() },
		"Semaphore.Acquire":           func() error { return sem.Acquire(1) },
		"InvertedSemaphore.WaitZero":  func() error { return isem.WaitZero() },
		"Semaphore.Acquire (big)":     func() error { return sem.Acquire(5) },
		"Channel.Receive (2nd)":       func() error { _, err := ch.Receive(); return err },
		"InvertedSemaphore.WaitZero2": func() error { return isem.WaitZero() },
	}
	errs := make(chan string, len(waits))
	s.Spawn(func() {
		mu.Lock()
		rw.Lock()
		isem.Acquire(1)
		ch.Balance()
		ch2.Balance()
		f.Len()
		cv.Waiters()
		ev.IsSet()
		sem.Available()
		for name, wait := range waits {
			go func() {
				count.Add(1)
				err := wait()
				errs <- fmt.Sprintf("%s: %v", name, err)
			}()
		}
		waitUntil(t, "every goroutine blocked", func() bool {
			return ch.Balance() == -2 && ch2.Balance() == 1 && f.Waiters() == 2 && mu.Waiters() == 1 &&
				rw.Waiters() == 2 && cv.Waiters() == 1 && ev.Waiters() == 1 && sem.Waiters() == 2 && isem.Waiters() == 2
		})
		Exit()
	})
	runLoop(t, s, 60*time.Second)
	for range waits {
		select {
		case e := <-errs:
			if !strings.HasSuffix(e, ": "+ErrLoopExited.Error()) {
				t.Errorf("released with %s, want ErrLoopExited", e)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("a goroutine blocked on the loop's objects was not released when it ended")
		}
	}
}

// TestBridgeGoroutinesOnlyBeforeLoop: before its loop ever runs, the objects work
// between goroutines alone (operations run on the caller, under the loop's bridge
// lock), and what waits then is served when coroutines come.
func TestBridgeGoroutinesOnlyBeforeLoop(t *testing.T) {
	var ch Channel[int]
	var ev Event
	got := make(chan int, 1)
	go func() {
		v, _ := ch.Receive()
		got <- v
	}()
	for ch.Balance() != -1 {
		time.Sleep(time.Millisecond)
	}
	if err := ch.Send(7); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != 7 {
		t.Fatalf("got %d", v)
	}
	// A goroutine waits before the loop runs; a coroutine sets the event.
	s, _ := newTestSched(t)
	done := make(chan error, 1)
	s.Spawn(func() {})
	go func() { done <- ev.Wait() }()
	for ev.Waiters() != 1 {
		time.Sleep(time.Millisecond)
	}
	Default().Spawn(func() { ev.Set() })
	runLoop(t, Default(), 30*time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runLoop(t, s, 30*time.Second)
}

// TestBridgeOtherLoopCoroutine: a coroutine of another loop uses a channel of this one
// by parking on its own loop; a timeout around its Receive takes it out of the queue,
// and the value sent later goes to the next receiver, not to the one that left.
func TestBridgeOtherLoopCoroutine(t *testing.T) {
	loops, stop := runLoops(t, 2)
	a, b := loops[0], loops[1]
	var ch Channel[int]
	var mu Mutex
	res := make(chan string, 4)
	mustCall := func(s *Scheduler, fn func() (string, error)) {
		v, err := Call(s, fn)
		if err != nil {
			t.Error(err)
		}
		res <- v
	}
	mustCall(a, func() (string, error) { ch.Balance(); mu.Locked(); return "bound", nil })
	<-res
	mu.Lock() // this goroutine holds it
	mustCall(b, func() (string, error) {
		err := WithTimeout(20*time.Millisecond, func() error { _, err := ch.Receive(); return err })
		return fmt.Sprint(err, " balance ", ch.Balance()), nil
	})
	if got := <-res; got != "coro: timeout balance 0" {
		t.Errorf("other loop's timed-out Receive: %q", got)
	}
	go mustCall(b, func() (string, error) {
		v, err := ch.Receive()
		return fmt.Sprintf("%v %v", v, err), nil
	})
	if _, err := Call(a, func() (string, error) {
		waitUntil(t, "receiver of loop b queued", func() bool { return ch.Balance() == -1 })
		return "", ch.Send(42)
	}); err != nil {
		t.Error(err)
	}
	if got := <-res; got != "42 <nil>" {
		t.Errorf("other loop's Receive: %q", got)
	}
	// A Mutex held on loop a, locked by a coroutine of loop b once a unlocks it.
	go mustCall(b, func() (string, error) {
		if err := mu.Lock(); err != nil {
			return "", err
		}
		o := mu.Owner()
		mu.Unlock()
		return fmt.Sprint("owner ", o.ID() == Current().ID()), nil
	})
	for mu.Waiters() != 1 {
		time.Sleep(time.Millisecond)
	}
	mu.Unlock()
	if got := <-res; got != "owner true" {
		t.Errorf("other loop's Lock: %q", got)
	}
	stop()
}

// TestCoroutineOnlyFromGoroutine: the calls that park the caller fail loudly from a
// plain goroutine, naming the function and the rule.
func TestCoroutineOnlyFromGoroutine(t *testing.T) {
	var c *Coro
	s, _ := newTestSched(t)
	c = s.Spawn(func() {})
	runLoop(t, s, 10*time.Second)
	calls := map[string]func(){
		"Sleep":        func() { Sleep(time.Millisecond) },
		"Yield":        func() { Yield() },
		"WithTimeout":  func() { WithTimeout(time.Second, func() error { return nil }) },
		"Offload":      func() { Offload(func() error { return nil }) },
		"(*Coro).Join": func() { c.Join() },
	}
	for name, call := range calls {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			call()
			return "no panic"
		}()
		if !strings.Contains(msg, "coro: "+name+" called outside a coroutine") || !strings.Contains(msg, "Spawn") {
			t.Errorf("%s from a goroutine: %q", name, msg)
		}
	}
	if Current() != nil {
		t.Errorf("Current from a goroutine is not nil")
	}
}

// TestOnStackOf checks the assumption Mutex.Unlock's owner test rests on: the runtime's
// g begins with its stack bounds, so a local's address lies within the bounds of its
// own goroutine and outside another's.
func TestOnStackOf(t *testing.T) {
	s, _ := newTestSched(t)
	var mine, other bool
	s.Spawn(func() {
		c := Current()
		x := 1
		mine = onStackOf(c, unsafe.Pointer(&x))
		done := make(chan bool)
		go func() {
			y := 2
			done <- onStackOf(c, unsafe.Pointer(&y))
		}()
		other = <-done // blocks the loop briefly: fine in a test
	})
	runLoop(t, s, 10*time.Second)
	if !mine || other {
		t.Fatalf("onStackOf: own local %v (want true), another goroutine's %v (want false)", mine, other)
	}
}

// TestBridgeOneWritePerBatch: a burst of goroutine calls on a loop's objects costs one
// wake-up write (eventfd, or the portable poller's pipe) while the loop cannot drain (the inbox's promise, inboxItem
// itemForeign), and the coroutine they wake is then run with every value.
func TestBridgeOneWritePerBatch(t *testing.T) {
	const n = 1000
	s, _ := newTestSched(t)
	var f Fifo[int]
	var ev Event
	start, burstDone := make(chan struct{}), make(chan struct{})
	go func() {
		<-start
		for i := 0; i < n; i++ {
			f.Push(i)
		}
		ev.Set()
		close(burstDone)
	}()
	var before, after uint64
	var err1, err2 error
	sum := 0
	s.Spawn(func() {
		f.Len() // bind both to this loop
		ev.IsSet()
		before, err1 = wakeWrites(s) // gaps_eventfd_test.go or gaps_pipe_test.go
		close(start)
		<-burstDone // the loop thread blocked: nothing is drained meanwhile
		after, err2 = wakeWrites(s)
		ev.Wait()
		for i := 0; i < n; i++ {
			v, _ := f.Pop()
			sum += v
		}
	})
	runLoop(t, s, 20*time.Second)
	if err1 != nil || err2 != nil {
		t.Fatalf("counting the wake-up writes: %v, %v", err1, err2)
	}
	if w := after - before; w != 1 {
		t.Errorf("%d pushes and a Set from a goroutine made %d wake-up writes while the loop could not drain, want 1", n+1, w)
	}
	if sum != n*(n-1)/2 {
		t.Errorf("popped sum %d, want %d", sum, n*(n-1)/2)
	}
}

// TestCallFromGoroutineLoopExit: a goroutine's Call whose coroutine is started in the
// same inbox batch as an Exit (so it never runs fn) returns ErrLoopExited instead of
// blocking for ever (it did), and a Call whose fn is parked when the loop ends returns
// it too (it returned "panicked: 0x...", the unwinding's private value).
func TestCallFromGoroutineLoopExit(t *testing.T) {
	s, _ := newTestSched(t)
	posted := make(chan struct{})
	results := make(chan error, 2)
	inboxLen := func() int {
		s.inbox.mu.Lock()
		defer s.inbox.mu.Unlock()
		return len(s.inbox.items)
	}
	s.Spawn(func() {
		me := Current()
		go func() {
			_, err := Call(s, func() (int, error) { return 1, Sleep(time.Hour) })
			results <- err
		}()
		waitUntil(t, "the first Call's fn parked", func() bool {
			for c := s.liveList.head; c != nil; c = c.nextLive {
				if c != me && c.state == StateWaiting {
					return true
				}
			}
			return false
		})
		go func() {
			s.Exit()
			go func() {
				_, err := Call(s, func() (int, error) { return 2, nil })
				results <- err
			}()
			for inboxLen() < 2 {
				time.Sleep(time.Millisecond)
			}
			close(posted)
		}()
		<-posted // the loop thread blocked: the Exit and the Call land in one batch
		Sleep(time.Hour)
	})
	runLoop(t, s, 30*time.Second)
	for i := 0; i < 2; i++ {
		select {
		case err := <-results:
			if !errors.Is(err, ErrLoopExited) {
				t.Errorf("Call when the loop ended: %v, want ErrLoopExited", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a goroutine's Call still blocked 20s after its loop ended")
		}
	}
}
