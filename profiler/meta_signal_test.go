package profiler

import (
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/coroprof/coroprof/format"
	coro "github.com/coroprof/coroprof/runtime"
)

// TestMetaMachine checks the Meta fields TestMeta leaves out: who ran, where, on what,
// each against the test's own reading of the same source.
func TestMetaMachine(t *testing.T) {
	p := runProfiled(t, []Option{SampleRate(0)}, func() { coro.Yield() })
	m := p.Meta

	host, err := os.Hostname()
	if err != nil {
		t.Fatalf("os.Hostname: %v", err)
	}
	if m.Host != host || m.Host == "" {
		t.Errorf("host %q, want %q", m.Host, host)
	}

	if m.Program != os.Args[0] || m.Program == "" {
		t.Errorf("program %q, want os.Args[0] %q", m.Program, os.Args[0])
	}
	// The test binary always runs with -test.* flags, so Args is never empty here and
	// an off-by-one (Args holding os.Args[0], or dropping the first flag) shows.
	if len(os.Args) < 2 {
		t.Fatalf("the test binary ran without arguments: %q", os.Args)
	}
	if !reflect.DeepEqual(m.Args, os.Args[1:]) {
		t.Errorf("args %q, want os.Args[1:] %q", m.Args, os.Args[1:])
	}

	// CPU model: the test's own reading of /proc/cpuinfo. On x86 Linux the line is
	// "model name"; elsewhere the test only checks what it can read itself.
	if want := cpuinfoModelName(); want != "" {
		if m.CPUModel != want {
			t.Errorf("cpu model %q, want /proc/cpuinfo's model name %q", m.CPUModel, want)
		}
	} else if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		t.Logf("/proc/cpuinfo has no model name line; cpu model %q", m.CPUModel)
	}

	// CPU features: amd64 mandates SSE2, so it is always set there. (Plain SSE is no
	// x/sys/cpu flag: it is the baseline, never checked for.)
	if runtime.GOARCH == "amd64" {
		if len(m.CPUFeatures) == 0 {
			t.Fatalf("no CPU features on amd64")
		}
		seen := map[string]int{}
		for _, f := range m.CPUFeatures {
			if f == "" || strings.HasPrefix(f, "Has") {
				t.Errorf("feature %q: want the flag name without Has", f)
			}
			seen[strings.ToLower(f)]++
		}
		if seen["sse2"] != 1 {
			t.Errorf("feature SSE2 listed %d times in %q, want once (amd64 mandates it)", seen["sse2"], m.CPUFeatures)
		}
		// Flags named one by one, as x/sys/cpu reports them for this machine: each
		// listed exactly when the machine has it.
		for name, has := range map[string]bool{
			"SSE3": cpu.X86.HasSSE3, "SSE41": cpu.X86.HasSSE41, "SSE42": cpu.X86.HasSSE42,
			"POPCNT": cpu.X86.HasPOPCNT, "AVX": cpu.X86.HasAVX, "AVX2": cpu.X86.HasAVX2,
			"BMI2": cpu.X86.HasBMI2, "AVX512F": cpu.X86.HasAVX512F,
		} {
			if got := seen[strings.ToLower(name)]; has != (got == 1) || got > 1 {
				t.Errorf("feature %s listed %d times, but x/sys/cpu says has=%v", name, got, has)
			}
		}
	}
}

// cpuinfoModelName is the first "model name" value in /proc/cpuinfo, or "".
func cpuinfoModelName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestChannelWait: coroutines blocked in Channel.Receive and in Fifo.Pop are charged
// waits of reason channel, one per park, for about the time they waited, at the line
// of their Receive/Pop call.
func TestChannelWait(t *testing.T) {
	const n = 3
	const gap = 15 * time.Millisecond
	var ch coro.Channel[int]
	var fifo coro.Fifo[int]
	var chLine, fifoLine int
	var chWall, fifoWall time.Duration // measured by each waiter around its calls
	var chGot, fifoGot []int
	p := runProfiled(t, nil,
		func() { // body0 feeds both after a sleep, so both are parked by then
			for i := 0; i < n; i++ {
				coro.Sleep(gap)
				fifo.Push(i)
				if err := ch.Send(i); err != nil {
					t.Errorf("send: %v", err)
				}
			}
		},
		func() { // body1 receives from the channel
			for i := 0; i < n; i++ {
				t0 := time.Now()
				_, _, chLine, _ = runtime.Caller(0)
				v, err := ch.Receive()
				chWall += time.Since(t0)
				if err != nil {
					t.Errorf("receive: %v", err)
				}
				chGot = append(chGot, v)
			}
		},
		func() { // body2 pops the fifo
			for i := 0; i < n; i++ {
				t0 := time.Now()
				_, _, fifoLine, _ = runtime.Caller(0)
				v, err := fifo.Pop()
				fifoWall += time.Since(t0)
				if err != nil {
					t.Errorf("pop: %v", err)
				}
				fifoGot = append(fifoGot, v)
			}
		},
	)
	checkConservation(t, p)
	if want := []int{0, 1, 2}; !reflect.DeepEqual(chGot, want) || !reflect.DeepEqual(fifoGot, want) {
		t.Fatalf("received %v and popped %v, want %v each", chGot, fifoGot, want)
	}
	freq := float64(p.Clock.TicksPerSecond)
	for _, c := range []struct {
		name string
		line int
		wall time.Duration
	}{{"body1", chLine + 1, chWall}, {"body2", fifoLine + 1, fifoWall}} {
		co := coroByName(t, p, c.name)
		w := co.Waits[coro.WaitChannel]
		waited := time.Duration(float64(w.Ticks) / freq * 1e9)
		// Each wait runs from the park to the wake-up, inside the wall time the
		// waiter measured around its call; the feeder's sleeps put at least n gaps
		// (less timer slack) into it.
		if w.Count != n || waited > c.wall || waited < n*gap*2/3 {
			t.Errorf("%s: %d channel waits, %v; want %d, of %v to the %v measured around the calls",
				c.name, w.Count, waited, n, n*gap*2/3, c.wall)
		}
		for r := range co.Waits {
			if r != int(coro.WaitChannel) && co.Waits[r].Count != 0 {
				t.Errorf("%s: %d waits of reason %v, want none", c.name, co.Waits[r].Count, coro.WaitReason(r))
			}
		}
		var sites []format.WaitSite
		for _, s := range p.WaitSites {
			if s.CoroID == co.ID {
				sites = append(sites, s)
			}
		}
		if len(sites) != 1 {
			t.Fatalf("%s: wait sites %+v, want one", c.name, sites)
		}
		s := sites[0]
		if s.Reason != uint8(coro.WaitChannel) || s.Count != n || s.Ticks != w.Ticks {
			t.Errorf("%s: site reason %d count %d ticks %d, want %d, %d, %d", c.name, s.Reason, s.Count, s.Ticks, coro.WaitChannel, n, w.Ticks)
		}
		loc := p.Locations[s.Site-1]
		fn := p.Funcs[loc.Func]
		if !strings.HasSuffix(fn.File, "meta_signal_test.go") || loc.Line != int64(c.line) {
			t.Errorf("%s: wait site %s:%d (%s), want meta_signal_test.go:%d", c.name, fn.File, loc.Line, fn.Name, c.line)
		}
	}
}
