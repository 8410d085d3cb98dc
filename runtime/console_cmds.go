package coro

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// consoleCommand is one console command: its name, its argument synopsis, one line of
// help, and the function that answers it (given the rest of the line, trimmed).
type consoleCommand struct {
	name, args, help string
	run              func(ss *consoleSession, rest string) (*reply, after)
}

// consoleCommands is the command table, in the order help lists it. (Filled in by
// init: help refers to the table itself.)
var consoleCommands []consoleCommand

func init() {
	consoleCommands = []consoleCommand{
		{"help", "", "this list", cmdHelp},
		{"ps", "", "list the loop's coroutines: id, name, state, wait reason, where each one waits", cmdPs},
		{"stack", "ID", "one coroutine's state, spawn site and goroutine stack", cmdStack},
		{"stats", "", "loop statistics: coroutines, run queue, timers, fds, slices, longest slice", cmdStats},
		{"profile", "start FILE | stop", "start the profiler writing to FILE, or stop it and write the file", cmdProfile},
		{"latency", "[DURATION | off]", "show or set the latency warning threshold (e.g. 50ms)", cmdLatency},
		{"exit", "", "end the event loop: the program's EventLoop returns", cmdExit},
		{"quit", "", "close this session (the program goes on)", cmdQuit},
	}
}

func findConsoleCommand(name string) *consoleCommand {
	for i := range consoleCommands {
		if consoleCommands[i].name == name {
			return &consoleCommands[i]
		}
	}
	return nil
}

// noArgs answers a command that takes no argument but got some.
func noArgs(name, rest string) *reply {
	if rest == "" {
		return nil
	}
	return errorReply("%s takes no argument (got %q)", name, clip(rest, 40))
}

func cmdHelp(ss *consoleSession, rest string) (*reply, after) {
	if r := noArgs("help", rest); r != nil {
		return r, afterNothing
	}
	r := &reply{}
	r.line("commands (one per line; every reply ends with an empty line):")
	for _, c := range consoleCommands {
		r.linef("  %-28s %s", strings.TrimSpace(c.name+" "+c.args), c.help)
	}
	r.line("notes:")
	r.line("  ps and stack read every goroutine's stack (runtime.Stack, a brief stop of the world),")
	r.line("  so a parked coroutine's stack is where it waits; a coroutine that has not run yet has none.")
	r.line("  stats counts slices and the longest slice only while the latency check is on, to within its tick.")
	r.line("  profile needs package profiler linked into the program; FILE is relative to its working directory.")
	return r, afterNothing
}

// stackDumpHint is the size of the last full stack dump, so the next one is made with
// a buffer that fits at the first try: runtime.Stack stops the world for each attempt,
// and doubling from a small buffer costs several dumps with many goroutines (measured:
// 10,000 coroutines took five 1-16 MB attempts).
var stackDumpHint atomic.Int64

// dumpAllStacks returns every goroutine's stack as runtime.Stack prints them.
func dumpAllStacks() []byte {
	size := max(int(stackDumpHint.Load())*5/4, runtime.NumGoroutine()*2048, 64<<10)
	for {
		buf := make([]byte, size)
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			stackDumpHint.Store(int64(n))
			return buf[:n]
		}
		size *= 2
	}
}

// forEachCoroStack calls fn with the address of each coroutine's Coro and its stack in
// a dump (matched by the argument of the (*Coro).run frame, as WhereAll does).
func forEachCoroStack(dump []byte, fn func(c uintptr, stack []byte)) {
	for len(dump) > 0 {
		g := dump
		if i := bytes.Index(dump, []byte("\n\n")); i >= 0 {
			g, dump = dump[:i], dump[i+2:]
		} else {
			dump = nil
		}
		i := bytes.Index(g, []byte(runFrame))
		if i < 0 {
			continue
		}
		hex := g[i+len(runFrame):]
		j := bytes.IndexAny(hex, "?,)")
		if j < 0 {
			continue
		}
		p, err := strconv.ParseUint(string(hex[:j]), 16, 64)
		if err != nil {
			continue
		}
		fn(uintptr(p), g)
	}
}

// consoleWheres takes a stack dump and returns where each coroutine is
// (consoleWhere), by the address of its Coro. The dump and its parsing run on another
// goroutine through Offload: runtime.Stack stops the world either way, but the
// parsing (tens of megabytes with many coroutines) then runs while the loop goes on.
func consoleWheres() map[uintptr]string {
	var m map[uintptr]string
	Offload(func() error {
		m = make(map[uintptr]string)
		forEachCoroStack(dumpAllStacks(), func(c uintptr, stack []byte) {
			m[c] = consoleWhere(string(stack))
		})
		return nil
	})
	return m
}

// consoleStackOf returns the stack of the coroutine whose Coro is at addr, "" when the
// dump has none; like consoleWheres, through Offload.
func consoleStackOf(addr uintptr) string {
	var st string
	Offload(func() error {
		forEachCoroStack(dumpAllStacks(), func(c uintptr, stack []byte) {
			if c == addr {
				st = string(stack)
			}
		})
		return nil
	})
	return st
}

// liveOldestFirst lists s's live coroutines, oldest first (the live list is newest first).
func (s *Scheduler) liveOldestFirst() []*Coro {
	out := make([]*Coro, 0, s.liveList.n)
	for c := s.liveList.head; c != nil; c = c.nextLive {
		out = append(out, c)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func cmdPs(ss *consoleSession, rest string) (*reply, after) {
	if r := noArgs("ps", rest); r != nil {
		return r, afterNothing
	}
	wheres := consoleWheres()
	s := ss.con.s
	list := s.liveOldestFirst()
	var n [4]int
	for _, c := range list {
		if int(c.state) < len(n) {
			n[c.state]++
		}
	}
	r := &reply{}
	r.linef("%d coroutines: %d running, %d runnable, %d waiting", len(list),
		n[StateRunning], n[StateRunnable], n[StateWaiting])
	r.linef("%6s  %-32s  %-8s  %-8s  %s", "ID", "NAME", "STATE", "WAIT", "WHERE")
	for _, c := range list {
		reason := "-"
		if c.state == StateWaiting {
			reason = c.reason.String()
		}
		where := wheres[uintptr(ptrOf(c))]
		if where == "" {
			where = "-"
		}
		r.linef("%6d  %-32s  %-8s  %-8s  %s", c.id, c.Name(), c.state, reason, where)
	}
	return r, afterNothing
}

// consoleWhere says where a coroutine is from its stack dump: the innermost frame of
// user code, or, when there is none (the console's own coroutines; and any coroutine
// whose function is in this package), the innermost call of this package's API
// (Sleep, (*Conn).Read, Offload...). It differs from whereIn (WhereAll) in two ways
// that matter for a listing: it skips the system call frames a parked coroutine's
// goroutine shows while it runs the scheduler's epoll_wait (the scheduler runs on the
// goroutine that gave up control), and it never names the "created by" line.
func consoleWhere(stack string) string {
	lines := strings.Split(stack, "\n")
	api := ""
	for i := 1; i+1 < len(lines); i += 2 {
		fn := lines[i]
		if strings.HasPrefix(fn, "created by ") {
			break
		}
		if k := strings.LastIndex(fn, "("); k > 0 && strings.HasSuffix(fn, ")") {
			fn = fn[:k] // the argument list
		}
		if fn == pkgPrefix+"(*Coro).call" || fn == pkgPrefix+"(*Coro).run" {
			break // the bottom of the coroutine's own frames
		}
		switch {
		case strings.HasPrefix(fn, "runtime."), strings.HasPrefix(fn, "iter."),
			strings.HasPrefix(fn, "syscall."), strings.HasPrefix(fn, "golang.org/x/sys/"):
			continue
		case inThisPackage(fn):
			if api == "" && exportedName(fn[len(pkgPrefix):]) {
				api = frameSite(fn, lines[i+1])
			}
			continue
		}
		return frameSite(fn, lines[i+1])
	}
	return api
}

// exportedName reports whether a function name within this package ("Sleep",
// "(*Conn).Read", "(*console).serve") is part of its API: an exported function, or an
// exported method of an exported type.
func exportedName(name string) bool {
	if strings.HasPrefix(name, "(*") {
		typ, method, ok := strings.Cut(name[2:], ").")
		return ok && isUpper(typ) && isUpper(method)
	}
	if typ, method, ok := strings.Cut(name, "."); ok {
		return isUpper(typ) && isUpper(method)
	}
	return isUpper(name)
}

func isUpper(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

// frameSite renders one frame of a stack dump ("pkg/path.Func" and its "\tfile:line
// +0x..." line) as "file.go:12 path.Func".
func frameSite(fn, loc string) string {
	loc = strings.TrimSpace(loc)
	if k := strings.LastIndex(loc, " +0x"); k > 0 {
		loc = loc[:k]
	}
	if k := strings.LastIndex(loc, "/"); k >= 0 {
		loc = loc[k+1:]
	}
	return loc + " " + shortFunc(fn)
}

// shortFunc drops a function name's import path, and calls this package coro (its
// directory, runtime, would read as the Go runtime).
func shortFunc(fn string) string {
	if strings.HasPrefix(fn, pkgPrefix) {
		return "coro." + fn[len(pkgPrefix):]
	}
	if k := strings.LastIndex(fn, "/"); k >= 0 {
		fn = fn[k+1:]
	}
	return fn
}

// findLive returns s's live coroutine with this ID, or nil.
func (s *Scheduler) findLive(id uint64) *Coro {
	for c := s.liveList.head; c != nil; c = c.nextLive {
		if c.id == id {
			return c
		}
	}
	return nil
}

func cmdStack(ss *consoleSession, rest string) (*reply, after) {
	if rest == "" || strings.ContainsAny(rest, " \t") {
		return errorReply("usage: stack ID (one coroutine ID, as ps lists them)"), afterNothing
	}
	id, err := strconv.ParseUint(rest, 10, 64)
	if err != nil {
		return errorReply("stack: %q is not a coroutine ID (a decimal number, as ps lists them)", clip(rest, 40)), afterNothing
	}
	s := ss.con.s
	c := s.findLive(id)
	if c == nil {
		return errorReply("stack: no live coroutine with ID %d on this loop", id), afterNothing
	}
	st := consoleStackOf(uintptr(ptrOf(c)))
	if c.state == StateExited {
		return errorReply("stack: coroutine %d exited while its stack was being read", id), afterNothing
	}
	r := &reply{}
	state := c.state.String()
	if c.state == StateWaiting {
		state += " (" + c.reason.String() + ")"
	}
	r.linef("coroutine %d (%s): %s", c.id, c.Name(), state)
	if c.parent != 0 {
		r.linef("parent: %d", c.parent)
	}
	if site := pcSite(c.spawnPC); site != "" {
		r.linef("spawned at: %s", site)
	}
	if w := consoleWhere(st); w != "" {
		r.linef("where: %s", w)
	}
	if st == "" {
		r.line("stack: none (the coroutine has not run yet)")
		return r, afterNothing
	}
	r.line("stack:")
	r.text(st)
	return r, afterNothing
}

// pcSite renders a return address (as runtime.Callers gives) as "file.go:12 pkg.Func".
func pcSite(pc uintptr) string {
	if pc == 0 {
		return ""
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	if f.Function == "" {
		return fmt.Sprintf("pc %#x", pc)
	}
	return fmt.Sprintf("%s:%d %s", filepath.Base(f.File), f.Line, shortFunc(f.Function))
}

func cmdStats(ss *consoleSession, rest string) (*reply, after) {
	if r := noArgs("stats", rest); r != nil {
		return r, afterNothing
	}
	s := ss.con.s
	var states [4]int
	var reasons [NumWaitReasons]int
	for c := s.liveList.head; c != nil; c = c.nextLive {
		if int(c.state) < len(states) {
			states[c.state]++
		}
		if c.state == StateWaiting && c.reason < NumWaitReasons {
			reasons[c.reason]++
		}
	}
	r := &reply{}
	r.linef("loop: %d", s.loopID)
	r.linef("coroutines: %d (%d running, %d runnable, %d waiting)", s.live,
		states[StateRunning], states[StateRunnable], states[StateWaiting])
	var w []string
	for i, n := range reasons {
		if n > 0 {
			w = append(w, fmt.Sprintf("%s %d", WaitReason(i), n))
		}
	}
	if len(w) > 0 {
		r.linef("waiting: %s", strings.Join(w, ", "))
	}
	r.linef("run queue: %d", s.runq.len())
	r.linef("timers: %d", s.timers.len())
	r.linef("fds: %d (sockets registered with epoll)", s.poll.nfds)
	sl := s.sliceSnapshot()
	if sl.counting {
		r.linef("slices: %d", sl.count)
	} else {
		r.linef("slices: %d (not counted now: the latency check is off)", sl.count)
	}
	switch {
	case sl.longest <= 0:
		r.line("longest slice: none measured yet")
	case sl.counting:
		r.linef("longest slice: %v by coroutine %d (%s), to within %v", sl.longest, sl.longestID, sl.longestName, sl.resolution)
	default:
		r.linef("longest slice: %v by coroutine %d (%s)", sl.longest, sl.longestID, sl.longestName)
	}
	if th := time.Duration(s.latency.threshold); th > 0 {
		r.linef("latency warning: %v", th)
	} else {
		r.line("latency warning: off")
	}
	r.linef("console sessions: %d", len(ss.con.sessions))
	r.linef("goroutines: %d (the whole process)", runtime.NumGoroutine())
	return r, afterNothing
}

// consoleProfileFile is the file the console's last "profile start" named, for the
// reply to "profile stop".
var consoleProfileFile string

func cmdProfile(ss *consoleSession, rest string) (*reply, after) {
	sub, arg, _ := strings.Cut(rest, " ")
	arg = strings.TrimSpace(arg)
	p := consoleProfiler.Load()
	switch sub {
	case "start":
		if arg == "" {
			return errorReply("usage: profile start FILE"), afterNothing
		}
		if p == nil {
			return errorReply("profile: the profiler is not linked into this program (import the package github.com/coroprof/coroprof/profiler, e.g. import _ \".../profiler\")"), afterNothing
		}
		abs, err := filepath.Abs(arg)
		if err != nil {
			abs = arg
		}
		if err := p.start(arg); err != nil {
			return errorReply("profile start: %v", err), afterNothing
		}
		consoleProfileFile = abs
		r := &reply{}
		r.linef("profiling; profile stop writes %s", abs)
		return r, afterNothing
	case "stop":
		if arg != "" {
			return errorReply("usage: profile stop (no argument)"), afterNothing
		}
		if p == nil {
			return errorReply("profile: the profiler is not linked into this program (import the package github.com/coroprof/coroprof/profiler)"), afterNothing
		}
		if err := p.stop(); err != nil {
			return errorReply("profile stop: %v", err), afterNothing
		}
		r := &reply{}
		if consoleProfileFile != "" {
			r.linef("profile written to %s", consoleProfileFile)
		} else {
			r.line("profile written")
		}
		consoleProfileFile = ""
		return r, afterNothing
	}
	return errorReply("usage: profile start FILE | profile stop"), afterNothing
}

func cmdLatency(ss *consoleSession, rest string) (*reply, after) {
	s := ss.con.s
	show := func(d time.Duration) string {
		if d <= 0 {
			return "off"
		}
		return d.String()
	}
	if rest == "" {
		r := &reply{}
		r.linef("latency warning threshold: %s", show(time.Duration(s.latency.threshold)))
		return r, afterNothing
	}
	var d time.Duration
	if rest != "off" {
		var err error
		d, err = time.ParseDuration(rest)
		if err != nil || d < 0 {
			return errorReply("latency: %q is not a duration (e.g. 50ms, 1s, 0 or off)", clip(rest, 40)), afterNothing
		}
	}
	prev := s.SetLatencyWarning(d)
	r := &reply{}
	r.linef("latency warning threshold: %s (was %s)", show(d), show(prev))
	return r, afterNothing
}

func cmdExit(ss *consoleSession, rest string) (*reply, after) {
	if r := noArgs("exit", rest); r != nil {
		return r, afterNothing
	}
	r := &reply{}
	r.line("exiting: the event loop ends and its coroutines are unwound")
	return r, afterExit
}

func cmdQuit(ss *consoleSession, rest string) (*reply, after) {
	if r := noArgs("quit", rest); r != nil {
		return r, afterNothing
	}
	r := &reply{}
	r.line("bye")
	return r, afterQuit
}
