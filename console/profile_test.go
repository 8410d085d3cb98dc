package console

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

// TestConsoleProfile drives the debug console like a user: profile start FILE, let
// the loop work, profile stop, exit. The file must read back and hold the loop's
// coroutines, with ticks conserved.
func TestConsoleProfile(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "console.sock")
	file := filepath.Join(dir, "live.bin")
	s := coro.NewScheduler()
	s.SetLatencyWarning(0)
	type result struct {
		replies [][]string
		err     error
	}
	done := make(chan result, 1)
	s.SpawnNamed("setup", func() {
		coro.SpawnNamed("console-sleeper", func() {
			for {
				coro.Sleep(2 * time.Millisecond)
			}
		})
		if err := Serve("unix", sock); err != nil {
			done <- result{err: err}
			coro.Exit()
			return
		}
		go func() {
			var res result
			res.replies, res.err = consoleScript(sock,
				"profile stop", "profile start "+file, "profile start "+file+".2",
				"#pause", "ps", "profile stop", "exit")
			done <- res
		}()
	})
	watchdog := time.AfterFunc(time.Minute, s.Exit)
	s.EventLoop()
	watchdog.Stop()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{
		"error: profile stop: " + profiler.ErrNotActive.Error(),
		"profiling; profile stop writes " + file,
		"error: profile start: " + profiler.ErrActive.Error(),
		"", // ps: checked below
		"profile written to " + file,
		"exiting: the event loop ends and its coroutines are unwound",
	}
	for i, w := range want {
		if w != "" && (len(res.replies[i]) != 1 || res.replies[i][0] != w) {
			t.Errorf("reply %d: %q, want %q", i, res.replies[i], w)
		}
	}
	p, err := format.ReadFile(file)
	if err != nil {
		t.Fatalf("reading the profile written from the console: %v", err)
	}
	checkLoopConservation(t, p)
	for _, n := range []string{"console-sleeper", "coro.console session 1"} {
		if c := coroByName(t, p, n); c.Resumes == 0 || c.Counters[wire.Ticks] == 0 {
			t.Errorf("coroutine %q never ran in the profile: %+v", n, c)
		}
	}
	if w := coroByName(t, p, "console-sleeper"); w.Waits[coro.WaitSleep].Count == 0 {
		t.Errorf("the sleeper's sleeps are not in the profile: %+v", w.Waits)
	}
}

// The debug console's "profile start" records every loop running at that moment.
func TestConsoleProfilesAllLoops(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "console.sock")
	file := filepath.Join(dir, "live.bin")
	s, other := coro.NewScheduler(), coro.NewScheduler()
	s.SetLatencyWarning(0)
	other.SpawnNamed("other-worker", func() {
		for coro.Sleep(time.Millisecond) == nil {
		}
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); other.EventLoop() }()
	defer func() { other.Exit(); wg.Wait() }()
	for !other.Running() {
		time.Sleep(time.Millisecond)
	}
	type result struct {
		replies [][]string
		err     error
	}
	done := make(chan result, 1)
	s.SpawnNamed("setup", func() {
		if err := Serve("unix", sock); err != nil {
			done <- result{err: err}
			coro.Exit()
			return
		}
		go func() {
			var res result
			res.replies, res.err = consoleScript(sock, "profile start "+file, "#pause", "profile stop", "exit")
			done <- res
		}()
	})
	watchdog := time.AfterFunc(time.Minute, s.Exit)
	s.EventLoop()
	watchdog.Stop()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.replies) < 2 || len(res.replies[1]) != 1 || res.replies[1][0] != "profile written to "+file {
		t.Fatalf("console replies %q", res.replies)
	}
	p, err := format.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, l := range p.Loops {
		ids[l.ID] = true
	}
	if !ids[int64(s.LoopID())] || !ids[int64(other.LoopID())] {
		t.Fatalf("loops in the console's profile: %v; want %d (the console's) and %d", ids, s.LoopID(), other.LoopID())
	}
	checkLoopConservation(t, p)
	if w := coroByName(t, p, "other-worker"); w.Loop != int64(other.LoopID()) || w.Resumes == 0 {
		t.Errorf("other-worker: loop %d, %d resumes", w.Loop, w.Resumes)
	}
}

// consoleScript sends each line to the console at sock and collects the reply blocks;
// a line "#pause" is not sent but waits a little.
func consoleScript(sock string, lines ...string) ([][]string, error) {
	conn, err := net.DialTimeout("unix", sock, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	var out [][]string
	for _, l := range lines {
		if l == "#pause" { // not sent: give the loop time to run its coroutines
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if _, err := fmt.Fprintf(conn, "%s\n", l); err != nil {
			return out, err
		}
		var block []string
		for {
			s, err := r.ReadString('\n')
			if err != nil {
				return out, fmt.Errorf("reply to %q: %w", l, err)
			}
			if s = strings.TrimSuffix(s, "\n"); s == "" {
				break
			}
			block = append(block, s)
		}
		out = append(out, block)
	}
	return out, nil
}

// checkLoopConservation asserts, per loop and for every exact counter (utime and
// stime are estimates that split the CPU clock), Σ coroutines + <main> + <wait> ==
// Total.
func checkLoopConservation(t *testing.T, p *format.Profile) {
	t.Helper()
	if len(p.Loops) == 0 {
		t.Fatal("no loop in the profile")
	}
	for _, l := range p.Loops {
		sum := l.Main
		sum.Add(l.Wait)
		for i := range p.Coroutines {
			if c := &p.Coroutines[i]; c.Loop == l.ID {
				sum.Add(c.Counters)
			}
		}
		for k := range wire.NumCounters {
			if k != wire.Utime && k != wire.Stime && sum[k] != l.Total[k] {
				t.Errorf("loop %d %v: coroutines+main+wait = %d, total %d", l.ID, k, sum[k], l.Total[k])
			}
		}
	}
}

func coroByName(t *testing.T, p *format.Profile, name string) *format.Coroutine {
	t.Helper()
	for i := range p.Coroutines {
		if p.Coroutines[i].Name == name {
			return &p.Coroutines[i]
		}
	}
	t.Fatalf("no coroutine named %q in the profile", name)
	return nil
}

// TestConsoleProfileExisting: profile start refuses an existing file that is not a
// profile (a console user must not be able to make the program overwrite any file it
// can write) unless -f is given; a profile may be replaced; a replaced file keeps its
// mode; a directory or a missing directory fails at start, not at stop.
func TestConsoleProfileExisting(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "console.sock")
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no", "such", "p.bin")
	s := coro.NewScheduler()
	s.SetLatencyWarning(0)
	type result struct {
		replies [][]string
		err     error
	}
	done := make(chan result, 1)
	var notesAfterRefusal []byte
	s.SpawnNamed("setup", func() {
		if err := Serve("unix", sock); err != nil {
			done <- result{err: err}
			coro.Exit()
			return
		}
		go func() {
			var res result
			res.replies, res.err = consoleScript(sock, "profile start "+notes)
			notesAfterRefusal, _ = os.ReadFile(notes)
			if res.err == nil {
				var more [][]string
				more, res.err = consoleScript(sock,
					"profile start "+dir, "profile start "+missing,
					"profile start -f "+notes, "profile stop",
					"profile start "+notes, "profile stop", "exit")
				res.replies = append(res.replies, more...)
			}
			done <- res
		}()
	})
	watchdog := time.AfterFunc(time.Minute, s.Exit)
	s.EventLoop()
	watchdog.Stop()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{
		"error: profile start: " + notes + " exists and is not a coroutine profile: not replacing it (profile start -f " + notes + " replaces it)",
		"error: profile start: profiler: writing " + dir + ": is a directory",
		"error: profile start: profiler: writing " + missing + ": no such file or directory",
		"profiling; profile stop writes " + notes,
		"profile written to " + notes,
		"profiling; profile stop writes " + notes,
		"profile written to " + notes,
		"exiting: the event loop ends and its coroutines are unwound",
	}
	for i, w := range want {
		if i >= len(res.replies) || len(res.replies[i]) != 1 || res.replies[i][0] != w {
			t.Errorf("reply %d: %q, want %q", i, res.replies[min(i, len(res.replies)-1)], w)
		}
	}
	if string(notesAfterRefusal) != "precious" {
		t.Errorf("the refused start changed the file: %q", notesAfterRefusal)
	}
	if _, err := format.ReadFile(notes); err != nil {
		t.Errorf("after -f the file is not a profile: %v", err)
	}
	if st, _ := os.Stat(notes); st.Mode().Perm() != 0o600 {
		t.Errorf("the replaced file has mode %v, want its 0600 kept", st.Mode().Perm())
	}
}
