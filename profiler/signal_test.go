package profiler

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
		fmt.Println("ready")
		for {
			if err := coro.Sleep(time.Millisecond); err != nil {
				return
			}
		}
	})
	err := Go(coro.EventLoop, opts...)
	fmt.Println("Go returned:", err)
}

// TestSignals: SIGINT while profiling still produces a complete file, both through
// the runtime's default handling (the loop exits, Go writes) and through CatchSignals
// (the session writes, then the signal kills the process as it would have).
func TestSignals(t *testing.T) {
	for _, mode := range []string{"runtime", "catch"} {
		t.Run(mode, func(t *testing.T) {
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
				t.Fatalf("child did not start: %q", sc.Text())
			}
			time.Sleep(100 * time.Millisecond)
			cmd.Process.Signal(os.Interrupt)
			for sc.Scan() { // drain
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			switch mode {
			case "runtime":
				if err != nil {
					t.Errorf("child exited with %v, want a clean exit (the loop ends on SIGINT)", err)
				}
			case "catch":
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
					t.Errorf("child ended with %v, want killed by SIGINT (re-raised)", err)
				}
			}
			p, err := format.ReadFile(path)
			if err != nil {
				t.Fatalf("profile after SIGINT: %v", err)
			}
			checkConservation(t, p)
			c := coroByName(t, p, "sleeper")
			if c.Waits[coro.WaitSleep].Count < 10 {
				t.Errorf("sleeper slept %d times in 100ms", c.Waits[coro.WaitSleep].Count)
			}
		})
	}
}
