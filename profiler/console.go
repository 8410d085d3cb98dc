package profiler

import coro "github.com/coroprof/coroprof/runtime"

// The debug console (coro.ServeConsole) offers "profile start FILE" and "profile
// stop", but package coro cannot import this package (this package imports it), so the
// profiler registers itself here: any program that links the profiler in can be
// profiled from its console. Called from the console's session coroutine, Start
// attaches to that coroutine's loop and Stop writes the file at once, on the loop.
func init() {
	coro.SetConsoleProfiler(
		func(file string) error { return Start(File(file)) },
		Stop,
	)
}
