package console

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// TestHandleRules: each broken rule is refused with an error naming it, and nothing
// is registered.
func TestHandleRules(t *testing.T) {
	nop := func(io.Writer, []string) error { return nil }
	cases := []struct {
		name, help string
		fn         func(io.Writer, []string) error
		want       string
	}{
		{"", "h", nop, "1 to 32 characters"},
		{strings.Repeat("a", 33), "h", nop, "1 to 32 characters"},
		{"Upper", "h", nop, "lower-case letters"},
		{"9lives", "h", nop, "starting with a letter"},
		{"two words", "h", nop, "lower-case letters"},
		{"bad\x1bname", "h", nop, "lower-case letters"},
		{"ps", "h", nop, "ps is a built-in command"},
		{"exit", "h", nop, "exit is a built-in command"},
		{"rules-a", "", nop, "one non-empty line"},
		{"rules-a", "two\nlines", nop, "one non-empty line"},
		{"rules-a", "esc \x1b[2J", nop, "one non-empty line"},
		{"rules-a", "bad \xff utf8", nop, "one non-empty line"},
		{"rules-a", strings.Repeat("h", 201), nop, "more than 200"},
		{"rules-a", "h", nil, "nil function"},
	}
	for _, c := range cases {
		err := Handle(c.name, c.help, c.fn)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "console: Handle(") {
			t.Errorf("Handle(%q, %q): %v, want an error containing %q", c.name, c.help, err, c.want)
		}
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "\x1b") {
			t.Errorf("error is not one line of text: %q", err)
		}
	}
	if findHandler("rules-a") != nil {
		t.Fatal("a refused command was registered")
	}
	if err := Handle("rules-a", "fine", nop); err != nil {
		t.Fatal(err)
	}
	if err := Handle("rules-a", "again", nop); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("second registration: %v", err)
	}
}

// TestHandleConcurrent registers from many goroutines while a console serves help
// (run with -race): every registration lands once.
func TestHandleConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	stopHelp := make(chan struct{})
	consoleTest(t, nil, func(path string) error {
		cl := dialConsole(t, "unix", path)
		defer cl.close()
		helpDone := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stopHelp:
					helpDone <- cl.err
					return
				default:
					cl.cmd("help")
				}
			}
		}()
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					if err := Handle(fmt.Sprintf("conc-%d-%d", g, i), "x", func(io.Writer, []string) error { return nil }); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		close(stopHelp)
		if err := <-helpDone; err != nil {
			return err
		}
		help := cl.cmd("help")
		n := 0
		for _, l := range help {
			if strings.HasPrefix(strings.TrimSpace(l), "conc-") {
				n++
			}
		}
		if n != 160 {
			return fmt.Errorf("help lists %d of the 160 commands registered", n)
		}
		cl.cmd("exit")
		return cl.err
	})
}

// TestHandleOverSocket drives a program's commands through a real unix socket: the
// reply is what the command wrote, escaped line by line; an error or a panic is one
// error line and the session goes on; bad input never reaches the command.
func TestHandleOverSocket(t *testing.T) {
	var calls []string // appended by the commands, on the loop
	var onLoop bool
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(Handle("sock-args", "echo the arguments, one per line", func(w io.Writer, args []string) error {
		calls = append(calls, "args")
		onLoop = coro.Current() != nil
		for i, a := range args {
			fmt.Fprintf(w, "%d=%s\n", i, a)
		}
		return nil
	}))
	must(Handle("sock-fail", "always fails", func(w io.Writer, args []string) error {
		calls = append(calls, "fail")
		fmt.Fprintln(w, "partial output that must not be sent")
		return errors.New("it broke\non two lines")
	}))
	must(Handle("sock-boom", "panics", func(w io.Writer, args []string) error {
		calls = append(calls, "boom")
		panic("kaboom")
	}))
	must(Handle("sock-hostile", "writes hostile bytes", func(w io.Writer, args []string) error {
		calls = append(calls, "hostile")
		io.WriteString(w, "a\x1b[2Jb\n\n\nc\u009bd\xffe\r\n\x00tail")
		return nil
	}))
	must(Handle("sock-big", "writes more than a reply holds", func(w io.Writer, args []string) error {
		calls = append(calls, "big")
		for i := 0; i < 12000; i++ { // 1.2 MB, over the 1 MB cap
			fmt.Fprintf(w, "line %05d %s\n", i, strings.Repeat("x", 89))
		}
		return nil
	}))
	must(Handle("sock-sleep", "parks in the runtime, then answers", func(w io.Writer, args []string) error {
		calls = append(calls, "sleep")
		if err := coro.Sleep(1); err != nil {
			return err
		}
		_, err := io.WriteString(w, "slept")
		return err
	}))
	consoleTest(t, nil, func(path string) error {
		cl := dialConsole(t, "unix", path)
		defer cl.close()
		check := func(line string, want ...string) error {
			got := cl.cmd(line)
			if cl.err != nil {
				return cl.err
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				return fmt.Errorf("%q: reply %q, want %q", line, got, want)
			}
			return nil
		}
		for _, c := range []struct {
			line string
			want []string
		}{
			{"sock-args  one\ttwo   three ", []string{"0=one", "1=two", "2=three"}},
			{"sock-args", []string{"ok"}},
			{"sock-fail x", []string{"error: sock-fail: it broke; on two lines"}},
			{"sock-boom", []string{"error: sock-boom: panicked: kaboom"}},
			{"sock-hostile", []string{`a\x1b[2Jb`, `c\u009bd\xffe`, `\x00tail`}},
			{"sock-sleep", []string{"slept"}},
			// Bad input is refused before any command runs.
			{"sock-args \x01", []string{"error: line 7 is not text: control byte 0x01 at byte 11"}},
			{"sock-args \xc3\x28", []string{"error: line 8 is not text: invalid UTF-8 at byte 11"}},
			{"sock-args " + strings.Repeat("z", maxLine), []string{"error: line 9 is longer than 4096 bytes (dropped)"}},
			{"sock-Args", []string{`error: unknown command "sock-Args": type help for the commands`}},
		} {
			if err := check(c.line, c.want...); err != nil {
				return err
			}
		}
		big := cl.cmd("sock-big")
		if n := len(big); n < 2 || !strings.HasPrefix(big[n-1], "... ") || !strings.HasSuffix(big[n-1], "(a reply is capped at 1048576 bytes)") {
			return fmt.Errorf("sock-big: %d lines, last %q", n, big[max(n-1, 0):])
		}
		var dropped int
		fmt.Sscanf(big[len(big)-1], "... %d more lines", &dropped)
		if shown := len(big) - 1; shown+dropped != 12000 {
			return fmt.Errorf("sock-big: %d lines shown + %d noted as left out, want 12000", shown, dropped)
		}
		size := 0
		for _, l := range big[:len(big)-1] {
			size += len(l) + 1
		}
		if size > 1<<20 || size < 1<<20-200 || big[0] != "line 00000 "+strings.Repeat("x", 89) {
			return fmt.Errorf("sock-big: %d bytes before the note, first %q", size, big[0])
		}
		help := cl.cmd("help")
		if find(help, `^this program's commands:$`) == "" || find(help, `^  sock-args\s+echo the arguments, one per line$`) == "" {
			return fmt.Errorf("help does not list the program's commands: %q", help)
		}
		cl.cmd("exit")
		return cl.err
	})
	want := "args args fail boom hostile sleep big"
	if got := strings.Join(calls, " "); got != want {
		t.Errorf("commands called: %s, want %s (bad lines must not reach them)", got, want)
	}
	if !onLoop {
		t.Error("a program's command did not run as a coroutine of the loop")
	}
}

// TestHandleBlockedAtExit: a program's command parked in the runtime when another
// session says exit is unwound like any coroutine (its recover passes the runtime's
// unwind on), so the loop ends and no panic is reported.
func TestHandleBlockedAtExit(t *testing.T) {
	var unwound, returned bool
	if err := Handle("exit-block", "sleeps for an hour", func(w io.Writer, args []string) error {
		defer func() { unwound = true }()
		coro.Sleep(time.Hour)
		returned = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var panics *[]*coro.PanicInfo
	consoleTest(t, func(s *coro.Scheduler) {
		panics = new([]*coro.PanicInfo)
		s.SetPanicNotifier(func(p *coro.PanicInfo) { *panics = append(*panics, p) })
	}, func(path string) error {
		blocked := dialConsole(t, "unix", path)
		defer blocked.close()
		blocked.send([]byte("exit-block\n"))
		cl := dialConsole(t, "unix", path)
		defer cl.close()
		for i := 0; ; i++ {
			if find(cl.cmd("ps"), `coro\.console session 1\s+waiting\s+sleep\s+handle_test\.go:\d+ `) != "" {
				break
			}
			if cl.err != nil || i == 500 {
				return fmt.Errorf("the command never showed as parked in its sleep (%v)", cl.err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cl.cmd("exit")
		return cl.err
	})
	if !unwound || returned {
		t.Errorf("the blocked command: unwound %v, returned from its sleep %v", unwound, returned)
	}
	if len(*panics) != 0 {
		t.Errorf("panics reported: %v", (*panics)[0])
	}
}
