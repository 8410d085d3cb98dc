package coro

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// recorder is a Hooks implementation that checks the contract of hooks.go as events
// arrive: which goroutine each hook runs on, the pairing of Resume with Yield/Exit,
// WaitBegin directly followed by Yield(StateWaiting), BeforePoll/AfterPoll adjacent,
// and that every event boundary hands over between the buckets (coroutine, <main>,
// <wait>) as a profiler stamping the clock at each hook would see them.
type recorder struct {
	t      *testing.T
	events []string
	// bucket: "main", "wait", or "c<ID>"
	bucket     string
	waitBegun  *Coro
	parked     map[*Coro]bool
	resumes    map[uint64]int
	yieldPCs   []uintptr
	spawns     int
	violations []string
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, bucket: "main", parked: map[*Coro]bool{}, resumes: map[uint64]int{}}
}

func (r *recorder) bad(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...)+" after "+strings.Join(r.tail(), " "))
}

func (r *recorder) tail() []string {
	if len(r.events) > 8 {
		return r.events[len(r.events)-8:]
	}
	return r.events
}

func (r *recorder) onOwnGoroutine(c *Coro, ev string) {
	if c.g != getg() {
		r.bad("%s(%d) not called on the coroutine's goroutine", ev, c.ID())
	}
}

func (r *recorder) Spawn(c, parent *Coro) {
	r.events = append(r.events, fmt.Sprintf("spawn%d", c.ID()))
	r.spawns++
	if parent != nil && c.ParentID() != parent.ID() {
		r.bad("spawn parent mismatch")
	}
}

func (r *recorder) Resume(c *Coro) {
	r.events = append(r.events, fmt.Sprintf("resume%d", c.ID()))
	r.onOwnGoroutine(c, "Resume")
	if r.bucket != "main" {
		r.bad("Resume(%d) while in bucket %s", c.ID(), r.bucket)
	}
	if r.parked[c] {
		r.bad("Resume(%d) of a parked coroutine without WaitEnd", c.ID())
	}
	r.bucket = fmt.Sprintf("c%d", c.ID())
	r.resumes[c.ID()]++
}

func (r *recorder) Yield(c *Coro, state State, pc uintptr) {
	r.events = append(r.events, fmt.Sprintf("yield%d/%v", c.ID(), state))
	r.onOwnGoroutine(c, "Yield")
	if r.bucket != fmt.Sprintf("c%d", c.ID()) {
		r.bad("Yield(%d) while in bucket %s", c.ID(), r.bucket)
	}
	if state == StateWaiting {
		if r.waitBegun != c {
			r.bad("Yield(%d, waiting) without WaitBegin just before", c.ID())
		}
		r.parked[c] = true
	} else if r.waitBegun != nil {
		r.bad("WaitBegin not followed by Yield(waiting)")
	}
	r.waitBegun = nil
	r.yieldPCs = append(r.yieldPCs, pc)
	r.bucket = "main"
}

func (r *recorder) Exit(c *Coro, panicked bool) {
	r.events = append(r.events, fmt.Sprintf("exit%d", c.ID()))
	r.onOwnGoroutine(c, "Exit")
	if r.bucket != fmt.Sprintf("c%d", c.ID()) {
		r.bad("Exit(%d) while in bucket %s", c.ID(), r.bucket)
	}
	r.bucket = "main"
}

func (r *recorder) WaitBegin(c *Coro, reason WaitReason, pc uintptr) {
	r.events = append(r.events, fmt.Sprintf("waitbegin%d/%v", c.ID(), reason))
	r.onOwnGoroutine(c, "WaitBegin")
	if r.bucket != fmt.Sprintf("c%d", c.ID()) {
		r.bad("WaitBegin(%d) while in bucket %s", c.ID(), r.bucket)
	}
	r.waitBegun = c
}

func (r *recorder) WaitEnd(c *Coro) {
	r.events = append(r.events, fmt.Sprintf("waitend%d", c.ID()))
	if !r.parked[c] {
		r.bad("WaitEnd(%d) of a coroutine that did not park", c.ID())
	}
	if r.bucket == "wait" {
		r.bad("WaitEnd inside epoll_wait")
	}
	delete(r.parked, c)
}

func (r *recorder) BeforePoll() {
	r.events = append(r.events, "beforepoll")
	if r.bucket != "main" {
		r.bad("BeforePoll while in bucket %s", r.bucket)
	}
	r.bucket = "wait"
}

func (r *recorder) AfterPoll() {
	r.events = append(r.events, "afterpoll")
	if r.bucket != "wait" {
		r.bad("AfterPoll while in bucket %s", r.bucket)
	}
	r.bucket = "main"
}

func TestHooksContract(t *testing.T) {
	s, _ := newTestSched(t)
	r := newRecorder(t)
	if prev := s.setHooks(r); prev != nil {
		t.Fatal("fresh scheduler has hooks")
	}
	var a, b *Coro
	a = s.Spawn(func() {
		b = Spawn(func() {
			Yield()
			Sleep(2 * time.Millisecond) // a blocking poll (BeforePoll/AfterPoll)
		})
		Yield()
		b.Join()
		WithTimeout(time.Millisecond, func() error { return Sleep(time.Hour) }) // woken by a deadline
		go func() { time.Sleep(time.Millisecond); b.Interrupt(nil) }()          // no-op: b exited
		Offload(func() error { time.Sleep(time.Millisecond); return nil })      // woken through the inbox
		c := Spawn(func() { panic("hooked panic") })
		c.Join()
	})
	runLoop(t, s, 10*time.Second)
	s.setHooks(nil)
	for _, v := range r.violations {
		t.Error(v)
	}
	if r.bucket != "main" {
		t.Errorf("ended in bucket %s", r.bucket)
	}
	if len(r.parked) != 0 {
		t.Errorf("parked without WaitEnd: %v", r.parked)
	}
	joined := strings.Join(r.events, " ")
	for _, want := range []string{"beforepoll afterpoll", fmt.Sprintf("waitbegin%d/join yield%d/waiting", a.ID(), a.ID()),
		fmt.Sprintf("waitbegin%d/offload", a.ID()), fmt.Sprintf("waitbegin%d/sleep", b.ID())} {
		if !strings.Contains(joined, want) {
			t.Errorf("events lack %q:\n%s", want, joined)
		}
	}
	if r.spawns != 3 || r.resumes[a.ID()] < 4 {
		t.Errorf("spawns %d, resumes of a %d", r.spawns, r.resumes[a.ID()])
	}
	// every Yield pc is the user's call site, in this file
	for _, pc := range r.yieldPCs {
		f := runtime.FuncForPC(pc)
		if f == nil {
			t.Errorf("yield pc %x unknown", pc)
			continue
		}
		file, _ := f.FileLine(pc)
		if !strings.HasSuffix(file, "sched_hooks_test.go") {
			t.Errorf("yield pc in %s (%s), want the user's call site", file, f.Name())
		}
	}
}

func TestSetHooksFromCoroutine(t *testing.T) {
	// Attaching and detaching in the middle of a run keeps the pairing: hooks start
	// at the next event.
	s, _ := newTestSched(t)
	r := newRecorder(t)
	s.Spawn(func() {
		Yield()
		r.bucket = fmt.Sprintf("c%d", Current().ID()) // the profiler's attach stamp
		s.setHooks(r)
		Yield()
		Sleep(time.Millisecond)
		s.setHooks(nil)
		Yield()
	})
	s.Spawn(func() {
		for i := 0; i < 4; i++ {
			Yield()
		}
	})
	runLoop(t, s, 10*time.Second)
	for _, v := range r.violations {
		t.Error(v)
	}
	if len(r.events) == 0 {
		t.Error("no events recorded")
	}
}

func TestHooksThroughExitUnwinding(t *testing.T) {
	// Exit unwinds parked, runnable and never-started coroutines; every one of them
	// still gets a contiguous Resume ... Exit pair, and parked ones a WaitEnd first.
	s, _ := newTestSched(t)
	r := newRecorder(t)
	s.setHooks(r)
	s.Spawn(func() {
		for i := 0; i < 20; i++ {
			Spawn(func() { Sleep(time.Hour) })
			Spawn(func() {
				for {
					Yield()
				}
			})
		}
		Yield()
		for i := 0; i < 5; i++ {
			Spawn(func() {}) // never started when Exit comes
		}
		Exit()
	})
	runLoop(t, s, 10*time.Second)
	s.setHooks(nil)
	for _, v := range r.violations {
		t.Error(v)
	}
	exits := 0
	for _, e := range r.events {
		if strings.HasPrefix(e, "exit") {
			exits++
		}
	}
	if exits != r.spawns || exits != 46 {
		t.Errorf("%d spawns, %d exits, want 46 of each", r.spawns, exits)
	}
	if len(r.parked) != 0 || r.bucket != "main" {
		t.Errorf("parked %d, bucket %s", len(r.parked), r.bucket)
	}
}
