package profiler

import (
	"strings"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// TestCPUClockNote: a profile that measured CPU time says how the CPU clock was read
// and what the perf_event page offered; a ticks-only one says nothing about it.
func TestCPUClockNote(t *testing.T) {
	ok, caps, err := perfUserTime()
	t.Logf("perf_event page: cap_user_time %v, capabilities %#x, err %v", ok, caps, err)
	note := func(opts ...Option) string {
		p := runProfiled(t, append(opts, SampleRate(0)), func() { coro.Sleep(time.Millisecond) })
		for _, n := range p.Meta.Notes {
			if strings.HasPrefix(n, "thread CPU clock:") {
				return n
			}
		}
		return ""
	}
	n := note()
	if !strings.Contains(n, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)") {
		t.Fatalf("full ledger: note %q, want the clock read named", n)
	}
	switch {
	case err != nil:
		if !strings.Contains(n, "no perf_event page") {
			t.Errorf("note %q does not say the page could not be read (%v)", n, err)
		}
	case ok:
		if !strings.Contains(n, "offers cap_user_time") {
			t.Errorf("note %q does not say the page offers cap_user_time (capabilities %#x)", n, caps)
		}
	default:
		if !strings.Contains(n, "no cap_user_time") {
			t.Errorf("note %q does not say the page lacks cap_user_time (capabilities %#x)", n, caps)
		}
	}
	if n := note(TicksOnly()); n != "" {
		t.Errorf("ticks-only profile notes %q", n)
	}
}
