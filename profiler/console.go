package profiler

import (
	coro "github.com/coroprof/coroprof/runtime"
)

// The debug console's "profile start FILE" and "profile stop" (coro.ServeConsole) run
// in a console session's coroutine, so they are Start and Stop from a coroutine: the
// session attaches to that loop and begins at once, and the file is written on the
// loop thread when it stops. Every other loop running at that moment is recorded too
// (AllLoops), each in its own ledger. The runtime cannot import this package (it is imported
// by it), hence the registration.
func init() {
	coro.SetConsoleProfiler(func(file string) error { return Start(File(file), AllLoops()) }, Stop)
}
