package profiler

import (
	"bytes"
	"io"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	coro "github.com/coroprof/coroprof/runtime"
)

//go:noinline
func sampledBurn(d time.Duration) { burnCPU(d) }

// TestSamplesLabelled: CPU samples taken while a coroutine runs carry its identity,
// and their stacks are symbolised (the burning function appears in them).
func TestSamplesLabelled(t *testing.T) {
	for _, hz := range []int{100, 500} {
		p := runProfiled(t, []Option{SampleRate(hz)}, func() {
			for i := 0; i < 30; i++ {
				sampledBurn(10 * time.Millisecond)
				coro.Yield()
			}
		})
		checkConservation(t, p)
		c := coroByName(t, p, "body0")
		var count, nanos uint64
		var sawBurn bool
		for _, s := range p.Samples {
			if s.CoroID != c.ID {
				continue
			}
			count += s.Count
			nanos += s.Nanos
			for _, l := range s.Stack {
				if strings.HasSuffix(p.Funcs[p.Locations[l-1].Func].Name, ".sampledBurn") {
					sawBurn = true
				}
			}
		}
		// 300 ms of CPU at hz: expect about 0.3*hz samples, but the kernel sends at most
		// one profiling signal per timer tick (CONFIG_HZ: 250 here, 100 on some kernels),
		// so above 100 Hz the ceiling is the kernel's, not hz: at 500 Hz with HZ=250 at
		// most 75 samples can come, and under load 37 were seen (the old demand of 50 was
		// two thirds of that ceiling, not a third). Demand a third of what 100 Hz gives
		// on any kernel; that the rate asked for is the one in effect is checked exactly
		// below, by the weight of each sample.
		if want := uint64(min(hz, 100)) * 3 / 10 / 3; count < want {
			t.Errorf("%d Hz: %d samples for the burning coroutine, want at least %d", hz, count, want)
			continue
		}
		if !sawBurn {
			t.Errorf("%d Hz: no sample stack contains sampledBurn", hz)
		}
		// Each sample stands for one period of the rate actually in effect.
		if per, want := float64(nanos)/float64(count), 1e9/float64(hz); per < want*0.9 || per > want*1.1 {
			t.Errorf("%d Hz: %.0f ns per sample, want %.0f", hz, per, want)
		}
		if p.Measured&format.MeasSamples == 0 || p.Meta.SampleRate != hz {
			t.Errorf("%d Hz: measured %#x, rate %d", hz, p.Measured, p.Meta.SampleRate)
		}
		if hz > 100 && !strings.Contains(strings.Join(p.Meta.Notes, "\n"), "SetCPUProfileRate") {
			t.Errorf("%d Hz: notes do not explain the rate: %q", hz, p.Meta.Notes)
		}
	}
}

// TestCPUProfileAlreadyRunning: the program's own CPU profile wins; the session says
// so and keeps the exact ledger.
func TestCPUProfileAlreadyRunning(t *testing.T) {
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Skipf("cannot start a CPU profile here: %v", err)
	}
	defer pprof.StopCPUProfile()
	p := runProfiled(t, nil, func() {
		for i := 0; i < 10; i++ {
			coro.Yield()
		}
	})
	checkConservation(t, p)
	if len(p.Samples) != 0 || p.Measured&format.MeasSamples != 0 {
		t.Errorf("samples recorded although another CPU profile ran")
	}
	if !strings.Contains(strings.Join(p.Meta.Notes, "\n"), "already running") {
		t.Errorf("notes do not say a CPU profile was already running: %q", p.Meta.Notes)
	}
	if c := coroByName(t, p, "body0"); c.Resumes != 11 {
		t.Errorf("ledger: resumes %d, want 11", c.Resumes)
	}
}

// TestAddSamplesBadInput: a corrupt CPU profile is reported, not a panic.
func TestAddSamplesBadInput(t *testing.T) {
	s := newSession(defaultOptions(), false)
	p := &format.Profile{}
	err := s.addSamples(newSymtab(p), p, bytes.Repeat([]byte{0xff}, 64))
	if err == nil || !strings.Contains(err.Error(), "CPU profile") {
		t.Errorf("corrupt profile: %v", err)
	}
}
