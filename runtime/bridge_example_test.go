package coro_test

import (
	"fmt"

	coro "github.com/coroprof/coroprof/runtime"
)

// The Stackless notes' first cross-thread case: another thread (here a goroutine)
// sends on a channel that a tasklet (a coroutine) receives from. Each Send blocks the
// goroutine, not the loop, until the coroutine has taken the value.
func ExampleChannel_fromGoroutine() {
	var ch coro.Channel[string]
	coro.Spawn(func() {
		for i := 0; i < 3; i++ {
			v, _ := ch.Receive()
			fmt.Println("coroutine received", v)
		}
	})
	go func() {
		for _, v := range []string{"spam", "eggs", "ham"} {
			if err := ch.Send(v); err != nil {
				fmt.Println(err)
			}
		}
	}()
	coro.EventLoop()
	// Output:
	// coroutine received spam
	// coroutine received eggs
	// coroutine received ham
}

// The Stackless notes' second case: one lock shared by a thread and tasklets. A
// goroutine and a coroutine increment one counter under one coro.Mutex; the coroutine
// even holds it across a switch. The goroutine blocks on its own thread while the
// coroutine owns the lock, and the coroutine parks while the goroutine does.
func ExampleMutex_sharedWithGoroutine() {
	var mu coro.Mutex
	var done coro.Event
	total := 0
	coro.Spawn(func() {
		go func() {
			defer done.Set()
			for i := 0; i < 1000; i++ {
				mu.Lock()
				total++
				mu.Unlock()
			}
		}()
		for i := 0; i < 1000; i++ {
			mu.Lock()
			v := total
			coro.Yield()
			total = v + 1
			mu.Unlock()
		}
		done.Wait()
		fmt.Println("total:", total)
	})
	coro.EventLoop()
	// Output: total: 2000
}

// A worker pool of goroutines doing blocking or CPU-heavy work in parallel, fed by a
// coroutine through one Channel and answering through another: the coroutines never
// block the loop, the workers never touch the loop's thread.
func Example_workerPool() {
	var jobs, results coro.Channel[int]
	coro.Spawn(func() {
		for w := 0; w < 4; w++ {
			go func() {
				for {
					n, err := jobs.Receive() // blocks this goroutine only
					if err != nil {
						return // ErrChannelClosed: no more work
					}
					results.Send(n * n)
				}
			}()
		}
		coro.Spawn(func() {
			for n := 1; n <= 10; n++ {
				jobs.Send(n) // waits until a worker takes it
			}
			jobs.Close()
		})
		sum := 0
		for i := 0; i < 10; i++ {
			v, _ := results.Receive()
			sum += v
		}
		fmt.Println("sum of squares:", sum)
	})
	coro.EventLoop()
	// Output: sum of squares: 385
}
