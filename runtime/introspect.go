package coro

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
)

// Introspection: Shrapnel's get_all_threads and lookup by id. The debug console
// (package console) is built on it; programs may use it too.

// CoroInfo describes one live coroutine at the moment it was listed.
type CoroInfo struct {
	ID       uint64
	Name     string
	Loop     int    // the LoopID of its scheduler
	ParentID uint64 // 0 when spawned from outside a coroutine
	State    State
	Reason   WaitReason // why it waits, when State is StateWaiting
	// Where is where it runs or waits: "file.go:12 pkg.Func", the innermost frame of
	// user code on its stack or, when there is none (a coroutine whose function is in
	// this package), the innermost call of this package's API ("sleep.go:30
	// coro.Sleep"). "" when it has not run yet.
	Where string
	// Spawned is the Spawn call that created it: "file.go:12 pkg.Func".
	Spawned string
	// Stack is its goroutine's stack as runtime.Stack prints it; only Lookup fills it
	// ("" when it has not run yet).
	Stack string
}

// Coroutines lists the live coroutines of the caller's loop (the default loop when
// the caller is not a coroutine), oldest first. See (*Scheduler).Coroutines.
func Coroutines() []CoroInfo { return callerSched().Coroutines() }

// Lookup finds the live coroutine with this ID on the caller's loop (the default loop
// when the caller is not a coroutine). See (*Scheduler).Lookup.
func Lookup(id uint64) (CoroInfo, bool) { return callerSched().Lookup(id) }

// Running reports whether s's EventLoop is running. Safe from any goroutine.
func (s *Scheduler) Running() bool { return s.running.Load() }

func callerSched() *Scheduler {
	if s := CurrentScheduler(); s != nil {
		return s
	}
	return defaultSched
}

// Coroutines lists s's live coroutines (started and not yet exited), oldest first.
// Safe from any goroutine, while s's loop runs or not:
//
//   - from a coroutine of s (or a hook on its thread), the list is read at once;
//   - while s's loop is not running, it is read under the lock the loop takes as a
//     run starts and ends, so no run can begin halfway;
//   - otherwise the list is read on s's loop thread at its next scheduling point,
//     and the caller waits: a goroutine blocks, a coroutine of another loop parks
//     (as in Offload). A loop that a coroutine blocks holds the caller up as long.
//     If that coroutine's wait is interrupted (Interrupt, WithTimeout), the result is
//     empty (Lookup: not found).
//
// Where each one is comes from a dump of every goroutine's stack (runtime.Stack, a
// brief stop of the world), taken just after the list, so Where may be a little
// newer than State; from a coroutine the dump is read on another goroutine while the
// loop serves the others. Coroutines costs nothing on the switch path: recording the
// wait site at every park would cost a runtime.Callers call per park.
func (s *Scheduler) Coroutines() []CoroInfo {
	var list []*Coro
	var out []CoroInfo
	if !s.onLoop(func() {
		list = make([]*Coro, 0, s.liveList.n)
		for c := s.liveList.head; c != nil; c = c.nextLive {
			list = append(list, c)
		}
		out = make([]CoroInfo, len(list))
		for i, c := range list {
			out[len(list)-1-i] = c.info() // the live list is newest first
		}
	}) {
		return nil
	}
	// list keeps the listed Coros alive until the dump is read, so no address in it
	// can belong to a coroutine created since.
	wheres := stackDump(func(dump []byte) map[uintptr]string {
		m := make(map[uintptr]string, len(list))
		forEachCoroStack(dump, func(addr uintptr, stack []byte) {
			m[addr] = whereIn(string(stack))
		})
		return m
	})
	for i := range out {
		out[i].Where = wheres[uintptr(ptrOf(list[len(list)-1-i]))]
	}
	runtime.KeepAlive(list)
	return out
}

// Lookup finds s's live coroutine with this ID, with its stack (CoroInfo.Stack).
// false when s has no live coroutine with that ID (one that exits while its stack is
// being read counts as gone). Safe from any goroutine, as
// Coroutines.
func (s *Scheduler) Lookup(id uint64) (CoroInfo, bool) {
	var c *Coro
	var info CoroInfo
	if !s.onLoop(func() {
		for x := s.liveList.head; x != nil; x = x.nextLive {
			if x.id == id {
				c, info = x, x.info()
				return
			}
		}
	}) || c == nil {
		return CoroInfo{}, false
	}
	addr := uintptr(ptrOf(c))
	info.Stack = stackDump(func(dump []byte) string {
		var st string
		forEachCoroStack(dump, func(a uintptr, stack []byte) {
			if a == addr {
				st = string(stack)
			}
		})
		return st
	})
	if info.Stack == "" {
		// No stack: it has not run yet, or it exited before the dump. The latter is
		// not found.
		exited := false
		if !s.onLoop(func() { exited = c.state == StateExited }) || exited {
			return CoroInfo{}, false
		}
	}
	info.Where = whereIn(info.Stack)
	runtime.KeepAlive(c)
	return info, true
}

// info is c's CoroInfo without Where and Stack; on c's loop thread or under onLoop.
func (c *Coro) info() CoroInfo {
	return CoroInfo{
		ID: c.id, Name: c.loopName(), Loop: c.s.loopID, ParentID: c.parent,
		State: c.state, Reason: c.reason, Spawned: pcSite(c.spawnPC),
	}
}

// onLoop runs fn where s's loop state may be read and changed (see Coroutines for
// the three cases) and reports whether it ran: at once on s's loop thread, under the
// inbox lock while s's loop is not running, else on the loop at its next scheduling
// point while the caller waits. fn must be quick and must not block, switch or spawn.
// false only for a coroutine of another loop whose wait was interrupted: fn may then
// still run later, so the caller must not read what fn writes.
func (s *Scheduler) onLoop(fn func()) bool {
	if CurrentScheduler() == s {
		fn()
		return true
	}
	if c := currentOrNil(); c != nil && !c.s.killing {
		// A coroutine of another loop must not block its thread: wait off it.
		return Offload(func() error { s.onLoopFromOutside(fn); return nil }) == nil
	}
	s.onLoopFromOutside(fn)
	return true
}

// onLoopFromOutside runs fn under s's inbox lock when s's loop is not running, or
// else queues it for the loop and waits until the loop has run it. The check and the
// queueing are one critical section, and a request still queued when the run ends is
// run by the loop as it detaches (inbox.detach), so the caller is never left waiting
// for a loop that has stopped.
func (s *Scheduler) onLoopFromOutside(fn func()) {
	b := &s.inbox
	b.mu.Lock()
	if b.wakefd < 0 {
		defer b.mu.Unlock()
		fn()
		return
	}
	done := make(chan struct{})
	b.items = append(b.items, inboxItem{kind: itemInspect, fn: func() { fn(); close(done) }})
	fd := -1
	if !b.armed.Load() {
		b.armed.Store(true)
		fd = b.wakefd
	}
	b.mu.Unlock()
	if fd >= 0 {
		wakeLoop(fd) // poll_linux.go or poll_portable.go
	}
	<-done
}

// stackDump calls parse with a dump of every goroutine's stack. From a coroutine the
// dump and parse run through Offload (runtime.Stack stops the world either way, but
// the parsing, tens of megabytes with many coroutines, then runs while the loop serves
// the others); from anywhere else, or when Offload cannot run, on the caller.
func stackDump[T any](parse func(dump []byte) T) T {
	if c := currentOrNil(); c != nil && !c.s.killing {
		var v T
		var ok atomic.Bool
		err := Offload(func() error { v = parse(dumpAllStacks()); ok.Store(true); return nil })
		if err == nil && ok.Load() {
			return v
		}
		var zero T
		return zero // interrupted: the offloaded parse may still be writing v
	}
	return parse(dumpAllStacks())
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

// runFrame is how the bottom frame of every coroutine appears in a stack dump.
var runFrame = pkgPrefix + "(*Coro).run(0x"

// forEachCoroStack calls fn with the address of each coroutine's Coro and its stack in
// a dump, matched by the argument of the (*Coro).run frame at the bottom of every
// coroutine's stack (sched.go keeps that frame real).
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

// whereIn says where a coroutine is from its stack dump (CoroInfo.Where): the
// innermost frame of user code or, when there is none, the innermost call of this
// package's API. It skips the system call frames a parked coroutine's goroutine
// shows while it runs the scheduler's epoll_wait (the scheduler runs on the goroutine
// that gave up control), and never names the "created by" line.
func whereIn(stack string) string {
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
