package profiler

import (
	"fmt"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	coro "github.com/coroprof/coroprof/runtime"
)

// measuringSwitchHooks is measuringHooks (ledger_test.go) for the direct switch: at a
// Switch it closes the window of the coroutine giving up control, lets the session
// stamp once, and opens the next coroutine's window. If the session declined, it took
// no stamp, and the Yield that follows at once (runtime/sched.go, hookSwitch) charges
// up to its own stamp to the yielding coroutine: so the window opened again is that
// coroutine's. (It was <main>'s: a preemption between the decline and the Yield then
// put milliseconds into <main>'s measured windows that the ledger rightly charged to
// the coroutine, and the full mode, which declines every switch, failed under load.)
type measuringSwitchHooks struct {
	*measuringHooks
	accepted int
}

func (m *measuringSwitchHooks) Switch(c *coro.Coro, st coro.State, pc uintptr, to *coro.Coro) bool {
	m.closeWindow()
	if !m.l.Switch(c, st, pc, to) {
		m.openWindow(openCoro, c.ID())
		return false
	}
	m.accepted++
	m.openWindow(openCoro, to.ID())
	return true
}

// TestSwitchAgainstIndependentClocks holds each bucket to what the test measured
// inside it with its own clock reads, as TestBucketsAgainstIndependentClocks does, for
// a profile made of direct switches (one stamp each; in the modes that read the CPU
// clock, <main> takes the stamp's own ticks): three coroutines hand the
// loop to each other with Yield and through a channel, burning CPU in their slices.
func TestSwitchAgainstIndependentClocks(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"ticks", []Option{TicksOnly()}}, {"full", nil}} {
		t.Run(mode.name, func(t *testing.T) {
			m := &measuringSwitchHooks{measuringHooks: &measuringHooks{coros: map[uint64]*span{}}}
			wrap := func(o *options) error {
				o.wrap = func(l *ledger) coroHooks { m.l = l; return m }
				return nil
			}
			var ch coro.Channel[int]
			burn := func(k int) func() {
				return func() {
					for i := 0; i < 30; i++ {
						burnCPU(time.Duration(k) * 100 * time.Microsecond)
						coro.Yield()
					}
				}
			}
			p := runProfiled(t, append([]Option{wrap, SampleRate(0)}, mode.opts...),
				burn(1), burn(2),
				func() {
					for i := 0; i < 200; i++ {
						ch.Send(i)
					}
					ch.Close()
				},
				func() {
					for {
						if _, err := ch.Receive(); err != nil {
							return
						}
						burnCPU(20 * time.Microsecond)
					}
				})
			checkConservation(t, p)
			if m.accepted < 100 {
				t.Fatalf("%s: only %d direct switches taken as one event", mode.name, m.accepted)
			}
			l := p.Loops[0]
			check := func(name string, got *format.Counters, want *span) {
				t.Helper()
				if want == nil || want.n == 0 {
					return
				}
				if got[wire.Ticks] < want.ticks {
					t.Errorf("%s charged %d ticks, less than the %d measured inside its %d intervals", name, got[wire.Ticks], want.ticks, want.n)
				}
				if mode.opts == nil {
					if time.Duration(got[wire.CPU]) < want.cpu {
						t.Errorf("%s charged %v CPU, less than the %v measured inside its intervals", name, time.Duration(got[wire.CPU]), want.cpu)
					}
					if extra := time.Duration(got[wire.CPU]) - want.cpu; extra > time.Duration(want.n)*30*time.Microsecond+10*time.Millisecond {
						t.Errorf("%s charged %v of CPU more than the %v measured inside its %d intervals", name, extra, want.cpu, want.n)
					}
				}
			}
			check("<main>", &l.Main, &m.main)
			for i := range p.Coroutines {
				c := &p.Coroutines[i]
				check(fmt.Sprintf("coroutine %d (%s)", c.ID, c.Name), &c.Counters, m.coros[c.ID])
			}
			// Every slice that began at a Switch counts as a resume: 31 each for the
			// burners (the first slice and one per Yield).
			for _, name := range []string{"body0", "body1"} {
				if c := coroByName(t, p, name); c.Resumes != 31 {
					t.Errorf("%s: %d resumes, want 31", name, c.Resumes)
				}
			}
		})
	}
}

// TestSwitchStampIsMain: in the modes that read the CPU clock, a direct switch's stamp
// (two system calls, where a loaded kernel also takes the thread away when its time
// slice is up: reading the thread CPU clock updates the task's accounting) is charged
// to <main> in ticks, as the two-stamp path charged it, not to the coroutine resumed.
// Two coroutines that only Yield spend much of the loop's time in the stamps, so
// <main> must hold a good part of the ticks: 0.37-0.56 here under -race (the race
// detector slows the coroutines' side of a switch), 0.66-0.74 without. Without the
// second TSC read in Switch (ledger.go), <main> held 0.003-0.14 (-race, 5000 Yields
// each, load 14-18) and the coroutines the rest, which is what made TestShares'
// wall-burn shares miss under load.
func TestSwitchStampIsMain(t *testing.T) {
	for _, mode := range []struct {
		name string
		opt  Option
	}{{"ticks+cpu", noRusage}, {"full", func(*options) error { return nil }}} {
		t.Run(mode.name, func(t *testing.T) {
			body := func() {
				for i := 0; i < 20000; i++ {
					coro.Yield()
				}
			}
			p := runProfiled(t, []Option{mode.opt, SampleRate(0)}, body, body)
			checkConservation(t, p)
			l := p.Loops[0]
			var coros uint64
			for i := range p.Coroutines {
				coros += p.Coroutines[i].Counters[wire.Ticks]
			}
			share := float64(l.Main[wire.Ticks]) / float64(l.Main[wire.Ticks]+coros)
			t.Logf("<main> holds %.3f of the ticks of <main> and the coroutines", share)
			if share < 0.25 {
				t.Errorf("<main> holds %.3f of the ticks, the coroutines %d of %d: the stamps' cost went to the coroutines", share, coros, l.Main[wire.Ticks]+coros)
			}
		})
	}
}
