package coro

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLatencyWarningCPU: the latency warning says how much of a long slice the loop
// thread spent on a CPU, so a thread that was off it (here blocked in time.Sleep;
// on a loaded machine, descheduled) is told apart from a coroutine that computed for
// the whole slice. The burner runs until its thread has used 80ms of CPU, so its
// figure does not depend on the machine's load.
func TestLatencyWarningCPU(t *testing.T) {
	if _, ok := ownCPU(); !ok {
		t.Skip("no thread CPU clock")
	}
	s := NewScheduler()
	s.SetLatencyWarning(20 * time.Millisecond)
	s.SetPanicNotifier(nil)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Slices are measured on the coarse clock, which a ticker goroutine sets: under
	// load it lags, so a coroutine that ran 80ms by the monotonic clock could be
	// measured at 78ms (it was, at load 35). Each coroutine therefore holds the loop
	// until the loop's own clock has seen 80ms of its slice, and the test wants the
	// warning to report that much.
	const want = 80 * time.Millisecond
	sliceSeen := func() bool { return coarse.now.Load()-s.latency.stamp >= int64(want) }
	s.SpawnNamed("burner", func() {
		start, _ := ownCPU()
		for now := start; now-start < int64(want) || !sliceSeen(); now, _ = ownCPU() {
		}
		// The blocker's slice starts from the ticker's last reading of this thread's
		// CPU clock: wait (yielding, so the slices are short) until it is one taken
		// after the burn, or the blocker's CPU figure would include the burn's tail.
		end, _ := ownCPU()
		for s.latency.cpuTick.Load() < end {
			Yield()
		}
		s.SpawnNamed("blocker", func() {
			for !sliceSeen() {
				time.Sleep(time.Millisecond)
			}
		})
	})
	old := os.Stderr
	os.Stderr = w // the warning is written on the loop thread while this goroutine waits
	func() {
		defer func() { os.Stderr = old }()
		runLoop(t, s, time.Minute)
	}()
	w.Close()
	out, _ := io.ReadAll(r)
	re := regexp.MustCompile(`coroutine \d+ \((\w+)\) ran (\S+) without yielding, (\S+) of it on the thread's CPU( \(off the CPU for the rest: blocked in a system call, or descheduled\))? \(threshold 20ms\)$`)
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			if got[m[1]] == nil { // the long slice warns first; a loaded machine may add short ones
				got[m[1]] = m[2:]
			}
		} else {
			t.Errorf("line %q does not match %v", line, re)
		}
	}
	dur := func(s string) time.Duration { d, _ := time.ParseDuration(s); return d }
	// The burner's note depends on the machine's load (on a loaded one its thread
	// waited for a CPU too); its CPU figure does not.
	if b := got["burner"]; b == nil || dur(b[0]) < want || dur(b[1]) < want {
		t.Errorf("burner: %q; want a slice of %v or more, all of it on the CPU", b, want)
	}
	if b := got["blocker"]; b == nil || dur(b[0]) < want || dur(b[1]) > dur(b[0])/2 || b[2] == "" {
		t.Errorf("blocker: %q; want a slice of %v or more, under half of it on the CPU, with the note", b, want)
	}
}
