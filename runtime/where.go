package coro

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// CoroInfo describes one live coroutine, for listings (Shrapnel's where_all).
type CoroInfo struct {
	ID       uint64
	Name     string
	ParentID uint64
	State    State
	Reason   WaitReason // why it waits, when State is StateWaiting
	Where    string     // "file.go:12 pkg.Func": the first frame of its stack outside this package
	Stack    string     // its goroutine's stack, as runtime.Stack prints it
}

// WhereAll lists the live coroutines of the caller's loop (the default loop when the
// caller is not a coroutine), oldest first, with where each one is.
func WhereAll() []CoroInfo {
	s := CurrentScheduler()
	if s == nil {
		s = defaultSched
	}
	return s.WhereAll()
}

// WhereAll lists s's live coroutines, oldest first. Call it from one of s's coroutines
// or while s's loop is not running.
//
// Where a parked coroutine waits is read from a dump of all goroutine stacks
// (runtime.Stack), matched to coroutines by the argument of the (*Coro).run frame at
// the bottom of every coroutine's stack. That costs a stop-the-world dump per call,
// and nothing at all on the switch path: recording the wait site at every park would
// cost a runtime.Callers call (about 0.5µs; see docs/PERFORMANCE.md) per park.
func (s *Scheduler) WhereAll() []CoroInfo {
	stacks := coroStacks()
	var out []CoroInfo
	for c := s.liveList.head; c != nil; c = c.nextLive {
		st := stacks[uintptr(ptrOf(c))]
		out = append(out, CoroInfo{
			ID: c.id, Name: c.Name(), ParentID: c.parent,
			State: c.state, Reason: c.reason,
			Where: whereIn(st), Stack: st,
		})
	}
	// The live list is newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Stack returns c's goroutine stack as runtime.Stack prints it ("" when c has exited
// or has not started).
func (c *Coro) Stack() string { return coroStacks()[uintptr(ptrOf(c))] }

// FormatWhereAll renders a listing as a table: id, name, state, wait reason, where.
func FormatWhereAll(list []CoroInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6s  %-32s  %-8s  %-8s  %s\n", "ID", "NAME", "STATE", "WAIT", "WHERE")
	for _, ci := range list {
		reason := ""
		if ci.State == StateWaiting {
			reason = ci.Reason.String()
		}
		fmt.Fprintf(&b, "%6d  %-32s  %-8s  %-8s  %s\n", ci.ID, ci.Name, ci.State, reason, ci.Where)
	}
	return b.String()
}

// runFrame is how the bottom frame of every coroutine appears in a stack dump.
var runFrame = pkgPrefix + "(*Coro).run(0x"

// coroStacks dumps all goroutines and returns the stacks of coroutines by the address
// of their Coro.
func coroStacks() map[uintptr]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	m := make(map[uintptr]string)
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
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
		m[uintptr(p)] = string(g)
	}
	return m
}

// whereIn returns the first frame of a stack dump that is user code: not the Go
// runtime, not package iter, not this package.
func whereIn(stack string) string {
	lines := strings.Split(stack, "\n")
	for i := 1; i+1 < len(lines); i += 2 {
		fn := lines[i]
		if k := strings.LastIndex(fn, "("); k > 0 {
			fn = fn[:k]
		}
		if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "iter.") || inThisPackage(fn) {
			continue
		}
		loc := strings.TrimSpace(lines[i+1])
		if k := strings.LastIndex(loc, " +0x"); k > 0 {
			loc = loc[:k]
		}
		if k := strings.LastIndex(loc, "/"); k >= 0 {
			loc = loc[k+1:]
		}
		if k := strings.LastIndex(fn, "/"); k >= 0 {
			fn = fn[k+1:]
		}
		return loc + " " + fn
	}
	return ""
}
