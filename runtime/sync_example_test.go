package coro_test

import (
	"fmt"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// A waiter with a deadline gives up and leaves the queue; one without waits its turn.
func ExampleMutex() {
	var m coro.Mutex
	coro.Spawn(func() {
		m.Lock()
		coro.Sleep(10 * time.Millisecond) // hold the lock across a wait
		m.Unlock()
	})
	coro.Spawn(func() {
		err := coro.WithTimeout(time.Millisecond, m.Lock)
		fmt.Println("impatient:", err)
		if m.Lock() == nil {
			fmt.Println("patient: got it")
			m.Unlock()
		}
	})
	coro.EventLoop()
	// Output:
	// impatient: coro: timeout
	// patient: got it
}

// Send waits for a receiver (a rendezvous); Balance shows who is waiting; Close ends
// the receiving loop once the blocked senders are served.
func ExampleChannel() {
	var ch coro.Channel[string]
	coro.Spawn(func() {
		for _, w := range []string{"ping", "pong"} {
			ch.Send(w)
		}
		ch.Close()
	})
	coro.Spawn(func() {
		fmt.Println("balance before receiving:", ch.Balance()) // the sender is blocked
		for {
			v, err := ch.Receive()
			if err != nil {
				fmt.Println("receiver:", err)
				return
			}
			fmt.Println("got", v)
		}
	})
	coro.EventLoop()
	// Output:
	// balance before receiving: 1
	// got ping
	// got pong
	// receiver: coro: channel closed
}

// The Shrapnel idiom: a producer pushes, a consumer pops until a sentinel. (Had the
// consumer been waiting already, the first Push would have gone straight to it.)
func ExampleFifo() {
	var f coro.Fifo[string]
	coro.Spawn(func() {
		f.Push("b")
		f.PushFront("a") // jumps the queue
		f.Push("c")
		f.Push("") // sentinel
	})
	coro.Spawn(func() {
		for {
			batch, err := f.PopAll()
			if err != nil {
				return
			}
			for _, s := range batch {
				if s == "" {
					fmt.Println("done")
					return
				}
				fmt.Println(s)
			}
		}
	})
	coro.EventLoop()
	// Output:
	// a
	// b
	// c
	// done
}
