package coro_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// Two coroutines take turns; the loop returns when both are done.
func Example() {
	for _, name := range []string{"ping", "pong"} {
		coro.SpawnNamed(name, func() {
			for i := 0; i < 3; i++ {
				fmt.Println(coro.Current().Name(), i)
				coro.Yield()
			}
		})
	}
	coro.EventLoop()
	// Output:
	// ping 0
	// pong 0
	// ping 1
	// pong 1
	// ping 2
	// pong 2
}

// A deadline around any blocking code: the call it interrupts returns an error that
// is ErrTimeout, and WithTimeout returns ErrTimeout.
func ExampleWithTimeout() {
	coro.Spawn(func() {
		err := coro.WithTimeout(10*time.Millisecond, func() error {
			return coro.Sleep(time.Second) // stands for a slow read, lock, ...
		})
		fmt.Println(err == coro.ErrTimeout)
	})
	coro.EventLoop()
	// Output: true
}

// File I/O blocks its thread, so it goes through Offload; the loop runs the other
// coroutines meanwhile.
func ExampleOffload() {
	coro.Spawn(func() {
		var data []byte
		err := coro.Offload(func() error {
			var err error
			data, err = os.ReadFile("/nonexistent/file")
			return err
		})
		fmt.Println(len(data), errors.Is(err, os.ErrNotExist))
	})
	coro.EventLoop()
	// Output: 0 true
}

// Join waits for a coroutine; a panic in it is reported as a *PanicError (and, by the
// panic notifier, as one line on stderr).
func ExampleCoro_Join() {
	coro.SetPanicNotifier(func(*coro.PanicInfo) {}) // keep the example's output clean
	defer coro.SetPanicNotifier(nil)
	coro.Spawn(func() {
		c := coro.Spawn(func() { panic("boom") })
		var pe *coro.PanicError
		fmt.Println(errors.As(c.Join(), &pe), pe.Value)
	})
	coro.EventLoop()
	// Output: true boom
}
