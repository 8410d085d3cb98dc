package profiler

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	coro "github.com/coroprof/coroprof/runtime"
)

// TestConsoleProfile drives "profile start FILE" and "profile stop" through a real
// console socket, as a person would with nc -U.
func TestConsoleProfile(t *testing.T) {
	dir := t.TempDir()
	sock, file := filepath.Join(dir, "console.sock"), filepath.Join(dir, "p.bin")
	if err := coro.ServeConsole("unix", sock); err != nil {
		t.Fatal(err)
	}
	coro.SpawnNamed("worker", func() {
		for {
			if coro.Sleep(time.Millisecond) != nil {
				return
			}
		}
	})
	replies := make(chan []string, 1)
	go func() {
		var got []string
		defer func() { replies <- got }()
		c, err := net.Dial("unix", sock)
		if err != nil {
			got = append(got, "dial: "+err.Error())
			coro.Default().Exit()
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		ask := func(cmd string) {
			c.Write([]byte(cmd + "\n"))
			var block []string
			for {
				line, err := r.ReadString('\n')
				line = strings.TrimRight(line, "\n")
				if err != nil || line == "" {
					break
				}
				block = append(block, line)
			}
			got = append(got, strings.Join(block, " | "))
		}
		ask("profile start " + file)
		time.Sleep(50 * time.Millisecond)
		ask("profile stop")
		ask("exit")
	}()
	coro.EventLoop()
	got := <-replies
	if len(got) < 2 || !strings.Contains(got[0], "profiling") || !strings.Contains(got[1], "written") {
		t.Fatalf("console replies %q", got)
	}
	p, err := format.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	checkConservation(t, p)
	if w := coroByName(t, p, "worker"); w.Waits[coro.WaitSleep].Count < 5 {
		t.Errorf("worker slept %d times in 50ms of profile", w.Waits[coro.WaitSleep].Count)
	}
}
