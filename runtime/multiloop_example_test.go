package coro_test

import (
	"fmt"
	"sync"

	coro "github.com/coroprof/coroprof/runtime"
)

// One loop per core, all serving one port: each loop listens on the same address with
// ReusePort from one of its own coroutines, and the kernel spreads the connections.
// Call hands work to another loop and brings the answer back.
func ExampleListenConfig() {
	loops := []*coro.Scheduler{coro.NewScheduler(), coro.NewScheduler()}
	lc := coro.ListenConfig{ReusePort: true}
	addr := "127.0.0.1:0"
	var wg sync.WaitGroup
	for _, s := range loops {
		s.SpawnNamed("keeper", func() { coro.Sleep(1 << 62) }) // keeps the loop up until Exit
		wg.Add(1)
		go func() { defer wg.Done(); s.EventLoop() }()
	}
	for _, s := range loops {
		// fn runs as a coroutine of s, so the listener belongs to s.
		ln, err := coro.Call(s, func() (*coro.Listener, error) { return lc.Listen("tcp", addr) })
		if err != nil {
			fmt.Println(err)
			return
		}
		addr = ln.Addr().String() // the next loop shares this port
		s.Spawn(func() {
			for {
				c, err := ln.AcceptConn()
				if err != nil {
					return
				}
				coro.Spawn(func() { // on this loop, like everything it spawns
					defer c.Close()
					fmt.Fprintf(c, "served by loop %d\n", coro.CurrentScheduler().LoopID())
				})
			}
		})
	}

	// A coroutine of the first loop asks the second one for a value.
	index := func(s *coro.Scheduler) int {
		for i, l := range loops {
			if l == s {
				return i
			}
		}
		return -1
	}
	answer, err := coro.Call(loops[0], func() (string, error) {
		from := index(coro.CurrentScheduler())
		return coro.Call(loops[1], func() (string, error) {
			return fmt.Sprintf("asked on loop #%d, computed on loop #%d", from, index(coro.CurrentScheduler())), nil
		})
	})
	fmt.Println(answer, err)

	for _, s := range loops {
		s.Exit()
	}
	wg.Wait()
	// Output: asked on loop #0, computed on loop #1 <nil>
}
