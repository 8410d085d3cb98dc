package profiler

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
)

// TestDoubleSignal: two SIGINTs (or SIGTERMs) 10ms apart, a user pressing Ctrl-C
// twice, while a profiled program runs on the runtime's default handling: the first
// ends the loop, the second lands while the profile is being written (the loop has
// returned; stopping CPU sampling alone takes tens of milliseconds). The profile must
// be written whole, and if the second signal ended the process, stderr must say so in
// a line naming the file. Before the profiler held the signals, the second one killed
// the child with no profile and no message. Run a few times: where the second signal
// lands varies; every landing must keep the profile.
func TestDoubleSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for i := range 3 {
			t.Run(sig.String(), func(t *testing.T) { testDoubleSignal(t, sig, i) })
		}
	}
}

func testDoubleSignal(t *testing.T, sig syscall.Signal, round int) {
	path := filepath.Join(t.TempDir(), "p.bin")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PROFILER_SIGNAL_CHILD="+path, "PROFILER_SIGNAL_MODE=runtime")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not start: %q", sc.Text())
	}
	time.Sleep(50 * time.Millisecond) // some samples and sleeps to record
	cmd.Process.Signal(sig)
	time.Sleep(10 * time.Millisecond)
	cmd.Process.Signal(sig)
	for sc.Scan() {
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	killed := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == sig
	t.Logf("round %d: exit %v; stderr %q", round, err, stderr.String())
	switch {
	case err == nil: // the second signal came while the loop was still ending: handled as the first
	case killed:
		// The second signal came while the file was written: it was written first,
		// and the line says so.
		if !strings.Contains(stderr.String(), "profiler: "+sig.String()+": writing the profile to "+path) ||
			!strings.Contains(stderr.String(), "profile written to "+path+"; exiting") {
			t.Errorf("killed by %v with stderr %q; want the lines saying the profile is being written, then was", sig, stderr.String())
		}
	default:
		t.Errorf("child ended with %v, stderr %q", err, stderr.String())
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatalf("no profile after two %vs: %v (stderr %q)", sig, err, stderr.String())
	}
	checkConservation(t, p)
}

// TestSignalAbandons: a signal while the profile is being written (here to a FIFO
// nobody reads, so the write waits) is answered by a line saying the profile is being
// written; the same signal once more abandons it, says so, and ends the process with
// that signal.
func TestSignalAbandons(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "p.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PROFILER_SIGNAL_CHILD="+fifo, "PROFILER_SIGNAL_MODE=runtime")
	out, _ := cmd.StdoutPipe()
	errPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not start: %q", sc.Text())
	}
	errLines := make(chan string, 8)
	go func() {
		errs := bufio.NewScanner(errPipe)
		for errs.Scan() {
			errLines <- errs.Text()
		}
		close(errLines)
	}()
	cmd.Process.Signal(syscall.SIGINT) // ends the loop; the write then waits on the FIFO
	var lines []string
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for len(lines) == 0 {
		// Sent until the profiler answers: one may reach the runtime while the loop is
		// still ending (it is handled as the first one was).
		select {
		case l, ok := <-errLines:
			if !ok {
				t.Fatal("the child closed stderr before answering")
			}
			lines = append(lines, l)
		case <-tick.C:
			cmd.Process.Signal(syscall.SIGINT)
		}
	}
	cmd.Process.Signal(syscall.SIGINT) // again: abandon
	for l := range errLines {
		lines = append(lines, l)
	}
	for sc.Scan() {
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Errorf("child ended with %v, want killed by SIGINT", err)
	}
	want := []string{
		"profiler: interrupt: writing the profile to " + fifo + " before exiting (interrupt again abandons it)",
		"profiler: interrupt again: abandoned the profile " + fifo + ", not written (the next write of that path removes its temporary file)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr %q, want %q", lines, want)
	}
}
