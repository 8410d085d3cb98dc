package profiler_test

import (
	"log"
	"time"

	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

// Profile a whole event loop: the file is written when EventLoop returns (or on ^C,
// which makes the runtime end the loop).
func ExampleGo() {
	coro.Spawn(func() {
		for i := 0; i < 10; i++ {
			coro.Sleep(time.Millisecond)
		}
	})
	if err := profiler.Go(coro.EventLoop, profiler.File("coro_profile.bin")); err != nil {
		log.Fatal(err)
	}
}

// Mark exact regions inside a coroutine; they nest, and their clocks pause while the
// coroutine is suspended.
func ExampleRegion() {
	handle := func(req []byte) {
		defer profiler.Region("handle")()
		func() {
			defer profiler.Region("parse")()
			_ = len(req)
		}()
	}
	coro.Spawn(func() { handle([]byte("GET / HTTP/1.0\r\n\r\n")) })
	if err := profiler.Go(coro.EventLoop, profiler.TicksOnly()); err != nil {
		log.Fatal(err)
	}
}

// Start and Stop from a coroutine profile a window of a running loop (this is what
// the debug console's "profile start FILE" and "profile stop" do).
func ExampleStart() {
	coro.Spawn(func() {
		if err := profiler.Start(profiler.File("window.bin")); err != nil {
			log.Print(err)
			return
		}
		coro.Sleep(100 * time.Millisecond) // the window
		if err := profiler.Stop(); err != nil {
			log.Print(err)
		}
	})
	coro.EventLoop()
}
