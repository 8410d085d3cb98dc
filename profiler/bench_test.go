package profiler

import (
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	coro "github.com/coroprof/coroprof/runtime"
	"github.com/coroprof/coroprof/tsc"
)

// profileModes are the rows of the profiler's benchmark matrix (docs/PERFORMANCE.md):
// off, no-op hooks (the runtime's side of the hook calls), ticks only, ticks and the
// CPU clock, the full ledger (the default), and the reconciled CPU mode. Sampling is
// off in all of them so the figures are the ledger's cost alone.
var profileModes = []struct {
	name string
	opts []Option
}{
	{"off", nil},
	{"nop-hooks", nil},
	{"ticks", []Option{TicksOnly()}},
	{"ticks+cpu", []Option{noRusage}},
	{"full", []Option{}},
	{"reconciled", []Option{ReconciledCPU()}},
}

// benchProfiled runs the default loop once under mode name, with the CPU meter around the
// loop; the file write is outside the timer.
func benchProfiled(b *testing.B, name string, opts []Option) {
	var cpu cpuMeter
	loop := func() {
		b.ResetTimer()
		cpu.start()
		coro.EventLoop()
		cpu.stop(b)
	}
	if opts == nil {
		if name == "nop-hooks" {
			// The runtime's own cost of calling hooks (and finding the user's pc for
			// Yield and WaitBegin), without any profiler work.
			rt.SetHooks(coro.Default(), nopHooks{})
			defer rt.SetHooks(coro.Default(), nil)
		}
		loop()
		return
	}
	opts = append([]Option{File(filepath.Join(b.TempDir(), "p.bin")), SampleRate(0)}, opts...)
	if err := Go(loop, opts...); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkYield is the Yield round trip (two coroutines alternate; one op is A -> B
// -> A, two Yields, so two switches) in each mode of the matrix.
func BenchmarkYield(b *testing.B) {
	for _, m := range profileModes {
		b.Run(m.name, func(b *testing.B) {
			n := b.N
			for j := 0; j < 2; j++ {
				coro.Spawn(func() {
					for i := 0; i < n; i++ {
						coro.Yield()
					}
				})
			}
			benchProfiled(b, m.name, m.opts)
		})
	}
}

// BenchmarkChannel is a channel hand-off round trip in each mode of the matrix: one
// coroutine sends on a coro.Channel and receives the reply, the other receives and
// replies; one op is one round trip (two parks, two wake-ups, two switches).
func BenchmarkChannel(b *testing.B) {
	for _, m := range profileModes {
		b.Run(m.name, func(b *testing.B) {
			n := b.N
			var ping, pong coro.Channel[int]
			coro.Spawn(func() {
				for {
					v, err := ping.Receive()
					if err != nil {
						return
					}
					pong.Send(v)
				}
			})
			coro.Spawn(func() {
				for i := 0; i < n; i++ {
					ping.Send(i)
					pong.Receive()
				}
				ping.Close()
			})
			benchProfiled(b, m.name, m.opts)
		})
	}
}

// BenchmarkStamp is the cost of one stamp of each kind, and of its parts.
func BenchmarkStamp(b *testing.B) {
	var c struct{ k clocks }
	var ts unix.Timespec
	var ru unix.Rusage
	b.Run("tsc", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			spinSink += int(tsc.Now())
		}
	})
	b.Run("clock_gettime-thread-cpu", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = unix.ClockGettime(clockThreadCPU, &ts)
		}
	})
	b.Run("getrusage-thread", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = unix.Getrusage(rusageThread, &ru)
		}
	})
	b.Run("getpid", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			spinSink += unix.Getpid()
		}
	})
	b.Run("stamp-ticks", func(b *testing.B) {
		c.k.ticksOnly = true
		var l ledger
		for i := 0; i < b.N; i++ {
			c.k.read(&l.now)
		}
	})
	b.Run("stamp-full", func(b *testing.B) {
		c.k.ticksOnly = false
		var l ledger
		for i := 0; i < b.N; i++ {
			c.k.read(&l.now)
		}
	})
}

// noRusage is the unexported middle mode: ticks and the CPU clock, no getrusage.
func noRusage(o *options) error { o.noRusage = true; return nil }

// nopHooks does nothing: it measures the runtime's side of the hook calls.
type nopHooks struct{}

func (nopHooks) Spawn(c, parent *coro.Coro) {}
func (nopHooks) Resume(c *coro.Coro)        {}
func (nopHooks) Switch(c *coro.Coro, st coro.State, pc uintptr, to *coro.Coro) bool {
	return true
}
func (nopHooks) Yield(c *coro.Coro, state coro.State, pc uintptr)      {}
func (nopHooks) Exit(c *coro.Coro, panicked bool)                      {}
func (nopHooks) WaitBegin(c *coro.Coro, r coro.WaitReason, pc uintptr) {}
func (nopHooks) WaitEnd(c *coro.Coro)                                  {}
func (nopHooks) BeforePoll()                                           {}
func (nopHooks) AfterPoll()                                            {}

// BenchmarkEcho is a TCP echo over loopback inside one loop: a client coroutine
// writes 64 bytes and reads them back from a server coroutine, b.N times (one op is
// one round trip: two socket writes, two reads, and the parks and polls between).
func BenchmarkEcho(b *testing.B) {
	for _, m := range profileModes {
		b.Run(m.name, func(b *testing.B) {
			n := b.N
			var failed error
			var cpu cpuMeter
			coro.Spawn(func() {
				ln, err := coro.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					failed = err
					return
				}
				defer ln.Close()
				coro.Spawn(func() {
					c, err := ln.Accept()
					if err != nil {
						failed = err
						return
					}
					defer c.Close()
					buf := make([]byte, 64)
					for {
						k, err := c.Read(buf)
						if err != nil {
							return
						}
						if _, err := c.Write(buf[:k]); err != nil {
							return
						}
					}
				})
				c, err := coro.Dial("tcp", ln.Addr().String())
				if err != nil {
					failed = err
					return
				}
				defer c.Close()
				msg := make([]byte, 64)
				buf := make([]byte, 64)
				b.ResetTimer()
				cpu.start()
				for i := 0; i < n; i++ {
					if _, err := c.Write(msg); err != nil {
						failed = err
						return
					}
					for got := 0; got < len(msg); {
						k, err := c.Read(buf[got:])
						if err != nil {
							failed = err
							return
						}
						got += k
					}
				}
				cpu.stop(b)
			})
			if m.opts == nil {
				if m.name == "nop-hooks" {
					rt.SetHooks(coro.Default(), nopHooks{})
					defer rt.SetHooks(coro.Default(), nil)
				}
				coro.EventLoop()
			} else {
				opts := append([]Option{File(filepath.Join(b.TempDir(), "p.bin")), SampleRate(0)}, m.opts...)
				if err := Go(coro.EventLoop, opts...); err != nil {
					b.Fatal(err)
				}
			}
			if failed != nil {
				b.Fatal(failed)
			}
		})
	}
}

// BenchmarkHooks is the profiler's own cost for one switch's pair of hooks (Yield of
// one coroutine, Resume of the next), called directly: no runtime, no switch.
func BenchmarkHooks(b *testing.B) {
	for _, m := range []struct {
		name string
		o    Option
	}{{"ticks", TicksOnly()}, {"ticks+cpu", noRusage}, {"full", func(*options) error { return nil }}, {"reconciled", ReconciledCPU()}} {
		b.Run(m.name, func(b *testing.B) {
			o := defaultOptions()
			m.o(&o)
			l := newLedger(newSession(o, false), nil)
			l.sched = coro.Default() // the hooks check the loop's run count
			l.begin(nil)
			l.sliceStart = l.start
			c1 := coro.Spawn(func() {})
			c2 := coro.Spawn(func() {})
			defer coro.EventLoop() // let the two spawned coroutines run and finish
			l.Resume(c1)
			var cpu cpuMeter
			b.ResetTimer()
			cpu.start()
			for i := 0; i < b.N; i++ {
				l.Yield(c1, coro.StateRunnable, 0)
				l.Resume(c2)
				c1, c2 = c2, c1
			}
			cpu.stop(b)
		})
	}
}

// cpuMeter reports the process CPU time per op (cpu-ns/op) beside the wall time: on a
// machine shared with other work the wall time swings with every preemption, while
// the CPU time is the work actually done, and ratios of it are stable.
type cpuMeter struct{ t0 int64 }

func processCPU() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts)
	return ts.Nano()
}

func (m *cpuMeter) start() { m.t0 = processCPU() }

func (m *cpuMeter) stop(b *testing.B) {
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-m.t0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRatios is the matrix as ratios measured in one process: for each workload
// (yield: a Yield round trip between two coroutines; channel: a channel hand-off round
// trip; echo: a 64-byte loopback TCP round trip between a client and a server
// coroutine), blocks of round trips run in turn under every mode, each block with its
// own session (Start and Stop from a coroutine; the file is written outside the timed
// block), and each mode keeps its fastest block, as runtime's BenchmarkSwitchRatio does.
// On a machine shared with other work, a block that ran undisturbed is the cost; the
// figures are ns per round trip and, for each mode, the ratio to "off" of the same
// workload.
func BenchmarkRatios(b *testing.B) {
	rounds := max(b.N, 20)
	dir := b.TempDir()
	// Short blocks (about a millisecond), many of them: on a loaded machine some run
	// without a preemption, and those are the ones kept.
	defer coro.SetLatencyWarning(coro.SetLatencyWarning(0))
	type workload struct {
		name  string
		block int
		setup func() (run func(n int), stop func())
	}
	workloads := []workload{
		{"yield", 4000, func() (func(int), func()) {
			done := false
			partner := coro.Spawn(func() {
				for !done {
					coro.Yield()
				}
			})
			return func(n int) {
					for i := 0; i < n; i++ {
						coro.Yield()
					}
				}, func() {
					done = true
					partner.Join()
				}
		}},
		{"channel", 2000, func() (func(int), func()) {
			var ping, pong coro.Channel[int]
			echo := coro.Spawn(func() {
				for {
					v, err := ping.Receive()
					if err != nil {
						return
					}
					pong.Send(v)
				}
			})
			return func(n int) {
					for i := 0; i < n; i++ {
						ping.Send(i)
						pong.Receive()
					}
				}, func() {
					ping.Close()
					echo.Join()
				}
		}},
		{"echo", 200, func() (func(int), func()) {
			ln, err := coro.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := coro.Spawn(func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				buf := make([]byte, 64)
				for {
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:k]); err != nil {
						return
					}
				}
			})
			c, err := coro.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			msg, buf := make([]byte, 64), make([]byte, 64)
			return func(n int) {
					for i := 0; i < n; i++ {
						if _, err := c.Write(msg); err != nil {
							b.Error(err)
							return
						}
						for got := 0; got < len(msg); {
							k, err := c.Read(buf[got:])
							if err != nil {
								b.Error(err)
								return
							}
							got += k
						}
					}
				}, func() {
					c.Close()
					ln.Close()
					srv.Join()
				}
		}},
	}
	best := make([][]time.Duration, len(workloads))
	for w := range best {
		best[w] = make([]time.Duration, len(profileModes))
		for m := range best[w] {
			best[w][m] = time.Hour
		}
	}
	var failed error
	coro.Spawn(func() {
		for w, wl := range workloads {
			run, stop := wl.setup()
			run(wl.block) // warm up
			for r := 0; r < rounds; r++ {
				for m, mode := range profileModes {
					switch {
					case mode.name == "nop-hooks":
						rt.SetHooks(coro.Default(), nopHooks{})
					case mode.opts != nil:
						opts := append([]Option{File(filepath.Join(dir, "p.bin")), SampleRate(0)}, mode.opts...)
						if err := Start(opts...); err != nil {
							failed = err
							return
						}
					}
					t0 := time.Now()
					run(wl.block)
					d := time.Since(t0)
					switch {
					case mode.name == "nop-hooks":
						rt.SetHooks(coro.Default(), nil)
					case mode.opts != nil:
						if err := Stop(); err != nil {
							failed = err
							return
						}
					}
					best[w][m] = min(best[w][m], d)
				}
			}
			stop()
		}
	})
	b.ResetTimer()
	coro.EventLoop()
	b.StopTimer()
	if failed != nil {
		b.Fatal(failed)
	}
	for w, wl := range workloads {
		off := float64(best[w][0].Nanoseconds()) / float64(wl.block)
		b.ReportMetric(off, wl.name+"-off-ns/rt")
		for m := 1; m < len(profileModes); m++ {
			ns := float64(best[w][m].Nanoseconds()) / float64(wl.block)
			b.ReportMetric(ns/off, wl.name+"-"+profileModes[m].name+"/off")
		}
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkFloor is what the ledger's readings cost at the least, for the floor the
// matrix is measured against (docs/PERFORMANCE.md): blocks of 256 reads of each clock
// in turn, the fastest block of each kept, as tsc's BenchmarkNowVsTime does.
func BenchmarkFloor(b *testing.B) {
	const block = 256
	var ts unix.Timespec
	var ru unix.Rusage
	reads := []struct {
		name string
		f    func()
	}{
		{"rdtsc", func() { spinSink += int(tsc.NowUnordered()) }},
		{"rdtscp", func() { spinSink += int(tsc.Now()) }},
		{"thread-cpu-clock", func() { _ = unix.ClockGettime(clockThreadCPU, &ts) }},
		{"getrusage-thread", func() { _ = unix.Getrusage(rusageThread, &ru) }},
	}
	best := make([]time.Duration, len(reads))
	for i := range best {
		best[i] = time.Hour
	}
	for r := 0; r < max(b.N, 2000); r++ {
		for i, rd := range reads {
			t0 := time.Now()
			for k := 0; k < block; k++ {
				rd.f()
			}
			best[i] = min(best[i], time.Since(t0))
		}
	}
	for i, rd := range reads {
		b.ReportMetric(float64(best[i].Nanoseconds())/block, rd.name+"-ns")
	}
	b.ReportMetric(0, "ns/op")
}
