package profiler

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	coro "github.com/coroprof/coroprof/runtime"
)

// TestSignalChild is the child process of TestSignals; it does nothing when run
// directly.
func TestSignalChild(t *testing.T) {
	path := os.Getenv("PROFILER_SIGNAL_CHILD")
	if path == "" {
		t.Skip("child of TestSignals only")
	}
	opts := []Option{File(path)}
	if os.Getenv("PROFILER_SIGNAL_MODE") == "catch" {
		coro.OnSignal(nil, os.Interrupt, syscall.SIGTERM) // the runtime lets SIGINT kill
		opts = append(opts, CatchSignals())
	}
	coro.SpawnNamed("sleeper", func() {
		for n := 1; ; n++ {
			if err := coro.Sleep(time.Millisecond); err != nil {
				return
			}
			if n == minSleeps {
				fmt.Println("ready") // the parent signals only now: see testSignal
			}
		}
	})
	err := Go(coro.EventLoop, opts...)
	fmt.Println("Go returned:", err)
}

// TestSignals: SIGINT and SIGTERM (what kill, systemd and container runtimes send)
// while profiling still produce a complete file, both through the runtime's default
// handling (the loop exits, Go writes, the process exits cleanly) and through
// CatchSignals (the session writes, then the signal is raised again and kills the
// process as it would have).
func TestSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for _, mode := range []string{"runtime", "catch"} {
			t.Run(sig.String()+"/"+mode, func(t *testing.T) { testSignal(t, sig, mode) })
		}
	}
}

// minSleeps is how many sleeps the child's sleeper has finished when it reports ready,
// so its profile must count at least that many. (The parent used to signal 100ms
// after the first line and want 10 sleeps; on a loaded machine the child did 5-9.)
const minSleeps = 10

func testSignal(t *testing.T, sig syscall.Signal, mode string) {
	path := filepath.Join(t.TempDir(), "p.bin")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PROFILER_SIGNAL_CHILD="+path, "PROFILER_SIGNAL_MODE="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not start: %q", sc.Text())
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	switch mode {
	case "runtime":
		if err != nil {
			t.Errorf("child exited with %v, want a clean exit (the loop ends on %v); output %q", err, sig, lines)
		}
		// Go itself must have returned without error: the clean exit alone would
		// also follow a Go that failed to write and a test that ignored it.
		if !slices.Contains(lines, "Go returned: <nil>") {
			t.Errorf("child output %q, want Go returned: <nil>", lines)
		}
	case "catch":
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != sig {
			t.Errorf("child ended with %v, want killed by %v (re-raised); output %q", err, sig, lines)
		}
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatalf("profile after %v: %v", sig, err)
	}
	checkConservation(t, p)
	if p.Meta.PID != int64(cmd.Process.Pid) {
		t.Errorf("profile of pid %d, want the child's %d", p.Meta.PID, cmd.Process.Pid)
	}
	c := coroByName(t, p, "sleeper")
	if c.Waits[coro.WaitSleep].Count < minSleeps {
		t.Errorf("sleeper's profile counts %d sleeps; it had finished %d before the signal", c.Waits[coro.WaitSleep].Count, minSleeps)
	}
}
