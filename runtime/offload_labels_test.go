package coro

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// offloadBurn computes for d on whatever thread runs it.
//
//go:noinline
func offloadBurn(d time.Duration) int {
	n := 0
	for t0 := time.Now(); time.Since(t0) < d; {
		for i := 0; i < 1000; i++ {
			n += i * i
		}
	}
	return n
}

// The profiler labels each coroutine's goroutine with coro_id and charges the
// coroutine the CPU samples that carry it. Go copies a goroutine's labels to the
// goroutines it starts, so without care the goroutine of an Offload ran under its
// caller's coro_id, and CPU burnt on another thread was charged to the coroutine's
// loop-thread time. The offloaded work carries coro_offload=<id> instead, no coro_id.
func TestOffloadDoesNotInheritCoroutineLabels(t *testing.T) {
	s, _ := newTestSched(t)
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("CPU profile unavailable: %v", err)
	}
	var id uint64
	var offErr error
	sink := 0
	s.Spawn(func() {
		id = Current().ID()
		// What the profiler's Resume hook does for a coroutine.
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(),
			pprof.Labels("coro_id", strconv.FormatUint(id, 10), "coro_name", "burner")))
		offErr = Offload(func() error { sink += offloadBurn(400 * time.Millisecond); return nil })
	})
	runLoop(t, s, 30*time.Second)
	pprof.StopCPUProfile()
	if offErr != nil {
		t.Fatal(offErr)
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := strconv.FormatUint(id, 10)
	burn := 0
	for _, smp := range p.Sample {
		if !sampleIn(smp, "offloadBurn") {
			continue
		}
		burn++
		if v := smp.Label["coro_id"]; len(v) != 0 {
			t.Fatalf("a sample of the offloaded burn carries coro_id %v (labels %v)", v, smp.Label)
		}
		if v := smp.Label["coro_name"]; len(v) != 0 {
			t.Fatalf("a sample of the offloaded burn carries coro_name %v", v)
		}
		if v := smp.Label["coro_offload"]; len(v) != 1 || v[0] != want {
			t.Fatalf("a sample of the offloaded burn has coro_offload %v, want [%s]", v, want)
		}
	}
	if burn < 3 {
		t.Skipf("only %d CPU samples of the burn (starved machine?): nothing to check", burn)
	}
}

func sampleIn(smp *profile.Sample, fn string) bool {
	for _, loc := range smp.Location {
		for _, ln := range loc.Line {
			if ln.Function != nil && strings.HasSuffix(ln.Function.Name, "."+fn) {
				return true
			}
		}
	}
	return false
}

// The latency ticker (started from a coroutine when the console's latency command
// turns the check on) and the signal dispatcher (started by whatever goroutine runs
// EventLoop) carry no labels of their starter.
func TestRuntimeGoroutinesUnlabelled(t *testing.T) {
	if coarse.users != 0 || sigs.ch != nil {
		t.Skip("another loop is running: the helper goroutines were started before")
	}
	s, _ := newTestSched(t)
	var dump string
	s.Spawn(func() {
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(),
			pprof.Labels("coro_id", strconv.FormatUint(Current().ID(), 10))))
		s.SetLatencyWarning(time.Second) // starts the ticker from this coroutine
		// Wait until both new goroutines run (a goroutine not started yet shows its
		// creator's labels and no function): 20ms was not always enough under load.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			Sleep(20 * time.Millisecond)
			var b strings.Builder
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			dump = b.String()
			if strings.Contains(dump, "coroprof/runtime.coarseRun+") && strings.Contains(dump, "coroprof/runtime.dispatchSignals+") {
				break
			}
		}
		s.SetLatencyWarning(0)
	})
	pprof.Do(context.Background(), pprof.Labels("coro_id", "starter"), func(context.Context) {
		runLoop(t, s, 10*time.Second)
	})
	for _, fn := range []string{"coroprof/runtime.coarseRun", "coroprof/runtime.dispatchSignals"} {
		found := false
		for _, block := range strings.Split(dump, "\n\n") {
			if !strings.Contains(block, fn+"+") {
				continue
			}
			found = true
			if strings.Contains(block, "# labels:") {
				t.Errorf("the goroutine of %s carries labels:\n%s", fn, block)
			}
		}
		if !found {
			t.Errorf("no goroutine of %s in the dump:\n%s", fn, dump)
		}
	}
}
