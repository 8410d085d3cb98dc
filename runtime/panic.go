package coro

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// PanicInfo describes a panic that ended a coroutine.
type PanicInfo struct {
	Time  time.Time
	Coro  *Coro
	Value any
	Stack []uintptr // program counters from the panic site outwards
}

// String is the one-line notice: time, coroutine, the panic, a compact traceback.
func (p *PanicInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s coro: coroutine %d (%s) panicked: %v [", p.Time.Format("2006-01-02T15:04:05.000000Z07:00"),
		p.Coro.ID(), p.Coro.Name(), p.Value)
	b.WriteString(compactTrace(p.Stack, 8))
	b.WriteString("]")
	return b.String()
}

// compactTrace renders up to max user frames as "file.go:12 pkg.fn <- ...", skipping
// the Go runtime's and this package's frames.
func compactTrace(pcs []uintptr, max int) string {
	frames := runtime.CallersFrames(pcs)
	var parts []string
	for {
		f, more := frames.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") && !strings.HasPrefix(f.Function, "iter.") && !inThisPackage(f.Function) {
			name := f.Function
			if i := strings.LastIndex(name, "/"); i >= 0 {
				name = name[i+1:]
			}
			parts = append(parts, fmt.Sprintf("%s:%d %s", filepath.Base(f.File), f.Line, name))
			if len(parts) == max {
				parts = append(parts, "...")
				break
			}
		}
		if !more {
			break
		}
	}
	return strings.Join(parts, " <- ")
}

// SetPanicNotifier sets the function told about panics in the default loop's
// coroutines; nil restores the default, which prints PanicInfo.String to stderr.
func SetPanicNotifier(f func(*PanicInfo)) { defaultSched.SetPanicNotifier(f) }

// SetPanicNotifier sets the function told about panics in s's coroutines (called on
// the loop thread). Safe from any goroutine: the change is made on s's loop, as
// SetLatencyWarning's.
func (s *Scheduler) SetPanicNotifier(f func(*PanicInfo)) { s.onLoop(func() { s.panicFn = f }) }

// notifyPanic is called from the deferred recover of the panicking coroutine, so
// runtime.Callers still sees the frames of the panic site.
func (s *Scheduler) notifyPanic(c *Coro, v any) {
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:])
	p := &PanicInfo{Time: time.Now(), Coro: c, Value: v, Stack: pcs[:n]}
	if f := s.panicFn; f != nil {
		// A panicking notifier must not take the loop down with it.
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintf(os.Stderr, "%s (and the panic notifier panicked: %v)\n", p, r)
			}
		}()
		f(p)
		return
	}
	fmt.Fprintln(os.Stderr, p.String())
}
