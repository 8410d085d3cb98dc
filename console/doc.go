// Package console is the debug console of a coroprof program: Shrapnel's backdoor,
// as a line protocol on a unix socket (or loopback TCP). It is off unless the program
// calls Serve:
//
//	if err := console.Serve("unix", "/run/myserver/console.sock"); err != nil {
//		log.Fatal(err)
//	}
//	coro.EventLoop()
//
// then `nc -U /run/myserver/console.sock` and type help. One command per line, one
// reply block per line, each block ending in an empty line, so a person can use it by
// hand and a script can pair every line it sends with the block it reads.
//
// The built-in commands list the loop's coroutines with where each one waits (ps),
// show one coroutine's stack (stack ID), the loop's counters (stats), profile the
// running program into a file (profile start [-f] FILE, profile stop: an existing FILE
// is replaced only if it is a profile, or with -f; docs/console.md), show or set the
// latency warning (latency), end the loop (exit) or the session (quit). A program adds
// its own with Handle. docs/console.md is the user's guide.
//
// # Rules
//
// Bad input never ends a session or reaches a command: a line that is not text
// (control bytes, invalid UTF-8), longer than 4096 bytes, empty, unknown or with bad
// arguments gets one line "error: ...". Every reply line is escaped (control
// characters, bidirectional controls and invalid UTF-8 shown as \x1b, \u202e, \xff;
// internal/termtext), so a coroutine's name or a command's
// output cannot break the block or drive the terminal; a reply is capped at 1 MiB with
// a note of the lines left out.
//
// The console never holds up the loop for a client: each session is a coroutine; one
// that reads slowly or not at all parks in its own write, which gives up after 10
// seconds and closes the session; an idle session is a coroutine parked in a read,
// holding nothing the loop needs; at most 16 sessions are open, the idlest closed to
// make room for a new one.
//
// # Built on
//
// ps and stack use the runtime's public introspection (coro.Coroutines, coro.Lookup),
// which programs may call themselves; profile uses package profiler; only stats (the
// loop's counters) and the owner-only unix socket come through the runtime's internal
// table (internal/hooks).
package console
