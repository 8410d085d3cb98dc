package profiler_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

// Profile several loops, one per OS thread, in one session: Go runs the first loop on
// its own thread, fn starts the others, and each loop is recorded in its own ledger.
func ExampleLoops() {
	loops := []*coro.Scheduler{coro.NewScheduler(), coro.NewScheduler()}
	for _, s := range loops {
		s.Spawn(func() {
			for i := 0; i < 5; i++ {
				coro.Sleep(time.Millisecond)
			}
		})
	}
	dir, err := os.MkdirTemp("", "loops")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "coro_profile.bin")
	err = profiler.Go(func() {
		var wg sync.WaitGroup
		for _, s := range loops[1:] {
			wg.Add(1)
			go func() { defer wg.Done(); s.EventLoop() }()
		}
		loops[0].EventLoop()
		wg.Wait()
	}, profiler.File(path), profiler.Loop(loops[0]), profiler.Loops(loops[1:]...))
	if err != nil {
		log.Fatal(err)
	}

	p, err := format.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	for i, l := range p.Loops {
		sum := l.Main[wire.Ticks] + l.Wait[wire.Ticks]
		n := 0
		for _, c := range p.Coroutines {
			if c.Loop == l.ID {
				sum += c.Counters[wire.Ticks]
				n++
			}
		}
		fmt.Printf("loop #%d: %d coroutine(s), Σ buckets == total ticks: %v\n", i, n, sum == l.Total[wire.Ticks])
	}
	// Output:
	// loop #0: 1 coroutine(s), Σ buckets == total ticks: true
	// loop #1: 1 coroutine(s), Σ buckets == total ticks: true
}
