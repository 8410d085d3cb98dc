// Command instrumented is the example of cmd/coro-instrument: three coroutines whose
// functions are called a known number of times with known work (light, medium and
// heavy cost 1:2:3; unit and spin are called 6 times per round, fib(15) makes 1973
// calls), built with
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

// unit is one unit of work: the leaf every task calls.
func unit(rounds int) uint64 { return spin(rounds) }

// light, medium and heavy call unit once, twice and three times: their cumulative
// costs are 1:2:3.
func light(rounds int) uint64 { return unit(rounds) }

func medium(rounds int) uint64 { return unit(rounds) ^ unit(rounds) }

func heavy(rounds int) uint64 { return unit(rounds) ^ unit(rounds) ^ unit(rounds) }

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
	for _, task := range []struct {
		name string
		fn   func(int) uint64
	}{{"light", light}, {"medium", medium}, {"heavy", heavy}} {
		coro.SpawnNamed(task.name, func() {
			for i := 0; i < *iters; i++ {
				sum ^= task.fn(*rounds)
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
