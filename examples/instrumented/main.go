// Command instrumented is the example of cmd/coro-instrument: three workers whose
// functions are called a known number of times with known work (1:2:3), built with
//
//	go build -toolexec coro-instrument -o instrumented ./examples/instrumented
//
// and run under the profiler. print-profile then shows every function of this package
// with its exact calls and cost per call (kind "exact").
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

// spin burns n rounds of arithmetic; its result is printed so it is not optimised away.
func spin(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// unit is one unit of work: the leaf every worker calls.
func unit(rounds int) uint64 { return spin(rounds) }

// work calls unit k times: work(1), work(2), work(3) cost 1:2:3.
func work(k, rounds int) uint64 {
	var x uint64
	for i := 0; i < k; i++ {
		x ^= unit(rounds)
	}
	return x
}

// fib is recursive: its cumulative figure counts only outermost calls.
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func main() {
	out := flag.String("o", "coro_profile.bin", "profile file")
	iters := flag.Int("n", 200, "calls of work per worker")
	rounds := flag.Int("rounds", 20000, "rounds of arithmetic per unit")
	flag.Parse()

	var sum uint64
	for k := 1; k <= 3; k++ {
		k := k
		coro.SpawnNamed(fmt.Sprintf("worker%d", k), func() {
			for i := 0; i < *iters; i++ {
				sum ^= work(k, *rounds)
				coro.Yield()
			}
		})
	}
	coro.SpawnNamed("fib", func() { sum ^= uint64(fib(15)) })
	if err := profiler.Go(coro.EventLoop, profiler.File(*out)); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "checksum %x\n", sum)
}
