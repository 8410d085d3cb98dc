package profiler

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/render"
	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/wire"
	coro "github.com/coroprof/coroprof/runtime"
)

// checkLoopConservation asserts, for every loop of p, Σ its coroutines + <main> +
// <wait> == its Total, to the unit, for every exact quantity.
func checkLoopConservation(t *testing.T, p *format.Profile) {
	t.Helper()
	for _, l := range p.Loops {
		n := 0
		for _, q := range quantities {
			sum := q.get(&l.Main) + q.get(&l.Wait)
			for i := range p.Coroutines {
				if c := &p.Coroutines[i]; c.Loop == l.ID {
					sum += q.get(&c.Counters)
					n++
				}
			}
			if total := q.get(&l.Total); sum != total {
				t.Errorf("loop %d %s: coroutines+main+wait = %d, total %d (closure error %d)", l.ID, q.name, sum, total, int64(sum)-int64(total))
			}
		}
		if n == 0 {
			t.Errorf("loop %d: no coroutine", l.ID)
		}
		if l.Total[wire.Ticks] == 0 || l.Total[wire.Ticks] > p.Meta.StopTick-p.Meta.StartTick {
			t.Errorf("loop %d: total ticks %d, the run spans %d", l.ID, l.Total[wire.Ticks], p.Meta.StopTick-p.Meta.StartTick)
		}
	}
}

// Three loops on three threads under one Go session: each loop's ledger is stamped on
// its own thread, so each closes exactly on its own; each coroutine is tagged with the
// loop that ran it; the CPU each burned lands on its loop; a region used on two loops
// is merged by name; a Call from one loop to another shows as an offload wait on the
// caller's side and a coroutine on the callee's; and print-profile's model and HTML
// view render it with the loops apart and in total.
func TestSeveralLoops(t *testing.T) {
	loops := []*coro.Scheduler{coro.NewScheduler(), coro.NewScheduler(), coro.NewScheduler()}
	burn := map[int]time.Duration{} // by loop: CPU each loop's burner must use
	for i, s := range loops {
		id := s.LoopID()
		d := time.Duration(10*(i+1)) * time.Millisecond
		burn[id] = d
		s.SpawnNamed(fmt.Sprintf("burner-L%d", id), func() {
			for k := 0; k < 5; k++ {
				func() {
					defer Region("work")()
					burnOwn(d / 5)
				}()
				coro.Yield()
			}
		})
		s.SpawnNamed(fmt.Sprintf("sleeper-L%d", id), func() { coro.Sleep(20 * time.Millisecond) })
	}
	// The first loop asks the second for a value: a cross-loop hand-off.
	var got int
	var callErr error
	loops[0].SpawnNamed("caller", func() {
		got, callErr = coro.Call(loops[1], func() (int, error) {
			burnOwn(2 * time.Millisecond)
			return 7, nil
		})
	})

	path := filepath.Join(t.TempDir(), "multi.bin")
	err := Go(func() {
		var wg sync.WaitGroup
		for _, s := range loops[1:] {
			wg.Add(1)
			go func() { defer wg.Done(); s.EventLoop() }()
		}
		loops[0].EventLoop()
		wg.Wait()
	}, File(path), Loop(loops[0]), Loops(loops[1], loops[2], loops[1]))
	if err != nil {
		t.Fatalf("Go: %v", err)
	}
	if callErr != nil || got != 7 {
		t.Fatalf("Call = %d, %v", got, callErr)
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the profile back: %v", err)
	}
	if len(p.Loops) != len(loops) {
		t.Fatalf("%d loops in the profile, want %d", len(p.Loops), len(loops))
	}
	for i, s := range loops {
		if p.Loops[i].ID != int64(s.LoopID()) {
			t.Errorf("loop %d in the file has ID %d, want %d", i, p.Loops[i].ID, s.LoopID())
		}
	}
	checkLoopConservation(t, p)

	for _, s := range loops {
		id := int64(s.LoopID())
		for _, name := range []string{fmt.Sprintf("burner-L%d", id), fmt.Sprintf("sleeper-L%d", id)} {
			c := coroByName(t, p, name)
			if c.Loop != id {
				t.Errorf("%s ran on loop %d, the file says %d", name, id, c.Loop)
			}
		}
		b := coroByName(t, p, fmt.Sprintf("burner-L%d", id))
		if b.Counters[wire.CPU] < uint64(burn[int(id)]) {
			t.Errorf("burner of loop %d: %v CPU charged, it burned %v", id, time.Duration(b.Counters[wire.CPU]), burn[int(id)])
		}
		if b.Resumes != 6 { // the first run and one after each of 5 Yields
			t.Errorf("burner of loop %d: %d resumes, want 6", id, b.Resumes)
		}
		s := coroByName(t, p, fmt.Sprintf("sleeper-L%d", id))
		if w := s.Waits[coro.WaitSleep]; w.Count != 1 || w.Ticks == 0 {
			t.Errorf("sleeper of loop %d: sleep waits %+v", id, w)
		}
	}
	caller := coroByName(t, p, "caller")
	if w := caller.Waits[coro.WaitOffload]; caller.Loop != int64(loops[0].LoopID()) || w.Count != 1 {
		t.Errorf("caller: loop %d, offload waits %+v; want loop %d and one", caller.Loop, w, loops[0].LoopID())
	}
	callee := -1
	for i := range p.Coroutines {
		if c := &p.Coroutines[i]; strings.Contains(c.Name, "TestSeveralLoops") && c.Loop == int64(loops[1].LoopID()) {
			callee = i
		}
	}
	if callee < 0 {
		t.Error("no coroutine of the Call on the callee's loop")
	} else if c := p.Coroutines[callee]; c.Counters[wire.CPU] < uint64(2*time.Millisecond) {
		t.Errorf("the Call's coroutine on loop %d was charged %v CPU, it burned 2ms", c.Loop, time.Duration(c.Counters[wire.CPU]))
	}
	var work *format.Region
	for i := range p.Regions {
		if p.Regions[i].Name == "work" {
			if work != nil {
				t.Error(`region "work" appears twice: the loops' regions were not merged`)
			}
			work = &p.Regions[i]
		}
	}
	if work == nil || work.Calls != 15 {
		t.Errorf(`region "work": %+v, want 15 calls (5 on each of 3 loops)`, work)
	}
	loopsInSlices := map[int64]bool{}
	for i, sl := range p.Slices {
		loopsInSlices[sl.Loop] = true
		if i > 0 && sl.Start < p.Slices[i-1].Start {
			t.Fatalf("slice %d starts at %d, before slice %d (%d): not oldest first", i, sl.Start, i-1, p.Slices[i-1].Start)
		}
	}
	if len(loopsInSlices) != len(loops) {
		t.Errorf("the timeline has slices of %d loops, want %d", len(loopsInSlices), len(loops))
	}

	// What print-profile renders: the model closes exactly on every loop, its total is
	// the loops' sum, and the page shows each loop.
	m, err := report.Build(p)
	if err != nil {
		t.Fatalf("report.Build: %v", err)
	}
	if len(m.Closure) == 0 {
		t.Error("the report checked no closure")
	}
	exact := map[string]bool{}
	for _, q := range quantities {
		exact[q.name] = true
	}
	for _, c := range m.Closure {
		if exact[c.Quantity] && c.Diff != 0 { // utime and stime are estimates
			t.Errorf("report closure on loop %d, %s: diff %d", c.Loop, c.Quantity, c.Diff)
		}
	}
	var sum uint64
	for _, l := range p.Loops {
		sum += l.Total[wire.Ticks]
	}
	if uint64(m.Total.Ticks()) != sum {
		t.Errorf("report total %v ticks, the loops sum to %d", m.Total.Ticks(), sum)
	}
	var html bytes.Buffer
	if err := render.Write(&html, render.HTML, render.Input{Model: m}, render.Options{HTML: render.HTMLOptions{Echarts: "/**/"}}); err != nil { // the page, not the echarts runtime, is under test
		t.Fatalf("WriteHTML: %v", err)
	}
	for _, s := range loops {
		if want := fmt.Sprintf("burner-L%d", s.LoopID()); !strings.Contains(html.String(), want) {
			t.Errorf("the HTML report does not mention %s", want)
		}
	}
}

// Start and Stop from outside, with the loops already running: each loop's ledger is
// attached and closed by a coroutine on its own thread, and each closes exactly.
func TestSeveralLoopsStartStopOutside(t *testing.T) {
	loops := []*coro.Scheduler{coro.NewScheduler(), coro.NewScheduler()}
	var wg sync.WaitGroup
	for _, s := range loops {
		s.SpawnNamed(fmt.Sprintf("spinner-L%d", s.LoopID()), func() {
			for {
				burnOwn(200 * time.Microsecond)
				if err := coro.Sleep(time.Millisecond); err != nil {
					return
				}
			}
		})
		wg.Add(1)
		go func() { defer wg.Done(); s.EventLoop() }()
	}
	// Running, so Start attaches through a coroutine on each loop's thread (a loop
	// must not be started while Start attaches to it from outside).
	for _, s := range loops {
		for !s.Running() {
			time.Sleep(time.Millisecond)
		}
	}
	defer func() {
		for _, s := range loops {
			s.Exit()
		}
		wg.Wait()
	}()
	path := filepath.Join(t.TempDir(), "p.bin")
	if err := Start(File(path), Loop(loops[0]), Loops(loops...), SampleRate(0)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Loops) != 2 {
		t.Fatalf("%d loops, want 2", len(p.Loops))
	}
	checkLoopConservation(t, p)
	for _, s := range loops {
		c := coroByName(t, p, fmt.Sprintf("spinner-L%d", s.LoopID()))
		if c.Loop != int64(s.LoopID()) || c.Resumes == 0 || c.Counters[wire.CPU] == 0 {
			t.Errorf("spinner of loop %d: loop %d, %d resumes, %d ns CPU", s.LoopID(), c.Loop, c.Resumes, c.Counters[wire.CPU])
		}
	}
	// The loops still run without hooks: a second session can attach.
	if err := Start(File(path), Loop(loops[1]), Loops(loops[0]), TicksOnly(), SampleRate(0)); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	if err := Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if p, err = format.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	checkLoopConservation(t, p)
}

// A session that cannot attach to one of its loops (hooks already there) fails as a
// whole and leaves no hooks behind on the others.
func TestSeveralLoopsHooksTaken(t *testing.T) {
	a, b := coro.NewScheduler(), coro.NewScheduler()
	rt.SetHooks(b, &ledger{})
	defer rt.SetHooks(b, nil)
	path := filepath.Join(t.TempDir(), "p.bin")
	err := Start(File(path), Loop(a), Loops(b), SampleRate(0))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("loop %d", b.LoopID())) {
		t.Fatalf("Start with loop %d's hooks taken: %v, want an error naming the loop", b.LoopID(), err)
	}
	if prev := rt.SetHooks(a, nil); prev != nil {
		t.Errorf("loop %d kept hooks %T after the failed Start", a.LoopID(), prev)
	}
	if err := Stop(); err != ErrNotActive {
		t.Errorf("Stop after the failed Start: %v, want ErrNotActive", err)
	}
	if err := Loops(nil)(&options{}); err == nil {
		t.Error("Loops(nil): no error")
	}
}

// burnOwn is burnCPU for tests that burn on several threads at once: its sink is
// local, so the loops do not race on burnCPU's shared one.
func burnOwn(d time.Duration) int {
	sink := 0
	end := threadCPU() + d
	for threadCPU() < end {
		for i := 0; i < 1000; i++ {
			sink += i
		}
	}
	return sink
}

// Stop called by a coroutine of a loop other than the session's first closes that
// loop's ledger where it runs (a stopper sent there could not run while its thread
// waits for the first loop), then has the first loop finish.
func TestSeveralLoopsStopFromPeer(t *testing.T) {
	a, b := coro.NewScheduler(), coro.NewScheduler()
	var wg sync.WaitGroup
	for _, s := range []*coro.Scheduler{a, b} {
		s.SpawnNamed(fmt.Sprintf("ticker-L%d", s.LoopID()), func() {
			for coro.Sleep(time.Millisecond) == nil {
			}
		})
		wg.Add(1)
		go func() { defer wg.Done(); s.EventLoop() }()
		for !s.Running() {
			time.Sleep(time.Millisecond)
		}
	}
	defer func() {
		a.Exit()
		b.Exit()
		wg.Wait()
	}()
	path := filepath.Join(t.TempDir(), "p.bin")
	if err := Start(File(path), Loop(a), Loops(b), SampleRate(0)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	res := make(chan error, 1)
	b.SpawnNamed("stopper", func() { res <- Stop() })
	select {
	case err := <-res:
		if err != nil {
			t.Fatalf("Stop from loop %d: %v", b.LoopID(), err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop from a peer loop's coroutine did not return")
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Loops) != 2 {
		t.Fatalf("%d loops, want 2", len(p.Loops))
	}
	checkLoopConservation(t, p)
	stopper := coroByName(t, p, "stopper")
	if stopper.Loop != int64(b.LoopID()) {
		t.Errorf("the stopper ran on loop %d, the file says %d", b.LoopID(), stopper.Loop)
	}
}

// Two loops serve one SO_REUSEPORT address under loopback traffic while profiled: each
// loop's ledger closes exactly, each connection's coroutine is on the loop that
// accepted it, and the socket waits are charged on both loops.
func TestSeveralLoopsServingOnePort(t *testing.T) {
	loops := []*coro.Scheduler{coro.NewScheduler(), coro.NewScheduler()}
	lc := coro.ListenConfig{ReusePort: true}
	addr := "127.0.0.1:0"
	listeners := make([]*coro.Listener, len(loops))
	var wg sync.WaitGroup
	for i, s := range loops {
		s.SpawnNamed("keeper", func() { coro.Sleep(time.Hour) })
		wg.Add(1)
		go func() { defer wg.Done(); s.EventLoop() }()
		ln, err := coro.Call(s, func() (*coro.Listener, error) { return lc.Listen("tcp", addr) })
		if err != nil {
			t.Fatal(err)
		}
		addr, listeners[i] = ln.Addr().String(), ln
		s.SpawnNamed(fmt.Sprintf("acceptor-L%d", s.LoopID()), func() {
			for {
				c, err := ln.AcceptConn()
				if err != nil {
					return
				}
				coro.SpawnNamed(fmt.Sprintf("conn-L%d", s.LoopID()), func() {
					defer c.Close()
					buf := make([]byte, 64)
					for {
						n, err := c.Read(buf)
						if err != nil {
							return
						}
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
				})
			}
		})
	}
	defer func() {
		for _, s := range loops {
			s.Exit()
		}
		wg.Wait()
	}()
	path := filepath.Join(t.TempDir(), "p.bin")
	if err := Start(File(path), Loop(loops[0]), Loops(loops[1])); err != nil {
		t.Fatalf("Start: %v", err)
	}
	// 32 clients, 20 round trips each, from plain goroutines (package net).
	var cwg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 16)
			for k := 0; k < 20; k++ {
				if _, err := c.Write(buf); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	cwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkLoopConservation(t, p)
	conns := map[int64]int{}
	for _, c := range p.Coroutines {
		if !strings.HasPrefix(c.Name, "conn-L") {
			continue
		}
		if want := fmt.Sprintf("conn-L%d", c.Loop); c.Name != want {
			t.Errorf("%s (id %d) is recorded on loop %d", c.Name, c.ID, c.Loop)
		}
		conns[c.Loop]++
		if w := c.Waits[coro.WaitRead]; w.Count == 0 {
			t.Errorf("%s (id %d): no read waits recorded", c.Name, c.ID)
		}
	}
	total := 0
	for _, s := range loops {
		total += conns[int64(s.LoopID())]
		if conns[int64(s.LoopID())] == 0 {
			t.Errorf("loop %d served no connection (32 connections over 2 sockets)", s.LoopID())
		}
	}
	if total != 32 {
		t.Errorf("%d connection coroutines in the profile, want 32", total)
	}
	m, err := report.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := render.Write(&text, render.Text, render.Input{Model: m}, render.Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "Per loop") {
		t.Error("the text view has no per-loop table")
	}
}
