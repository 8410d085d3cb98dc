package coro

import (
	"net"

	"github.com/coroprof/coroprof/internal/hooks"
)

// The profiler's and the console's way in: the scheduler events (hooks.Hooks) and the
// internals package internal/hooks describes, registered as one table so that none of
// it is part of this package's API. The hook call sites are in sched.go and
// poll_linux.go: one nil check of s.hooks per event.

// coroHooks is the hooks interface as this package instantiates it, and coroSwitcher
// the optional direct-switch event.
type (
	coroHooks    = hooks.Hooks[*Coro]
	coroSwitcher = hooks.Switcher[*Coro]
)

func init() {
	hooks.Register(&hooks.Runtime[*Scheduler, *Coro]{
		SetHooks:        (*Scheduler).setHooks,
		UpdateHooksIdle: (*Scheduler).updateHooksIdle,
		RunsEnded:       func(s *Scheduler) uint64 { return s.runsEnded.Load() },
		EachLive:        (*Scheduler).eachLive,
		HookData:        func(c *Coro) any { return c.hookData },
		SetHookData:     func(c *Coro, v any) { c.hookData = v },
		SpawnPC:         func(c *Coro) uintptr { return c.spawnPC },
		LoopStats:       (*Scheduler).loopStats,
		ListenUnixOwner: func(path string) (net.Listener, error) {
			ln, err := listenUnixOwner(path)
			if err != nil {
				return nil, err
			}
			return ln, nil
		},
	})
}

// setHooks attaches h (nil detaches) and returns the previous hooks. It must be called
// on the loop thread while the loop runs (from a coroutine), or while it does not run.
func (s *Scheduler) setHooks(h coroHooks) coroHooks {
	prev := s.hooks
	s.attachHooks(h)
	return prev
}

// attachHooks sets s.hooks and what follows from it: whether they take a direct
// switch as one event (hooks.Switcher), and no switch announced to other hooks.
func (s *Scheduler) attachHooks(h coroHooks) {
	s.hooks = h
	s.sw, _ = h.(coroSwitcher)
	s.announced = nil
}

// setHooks attaches h to the default scheduler; for this package's tests.
func setHooks(h coroHooks) coroHooks { return defaultSched.setHooks(h) }

// updateHooksIdle attaches f(current hooks) if s's loop is not running, and reports
// whether it did; safe from any goroutine (internal/hooks, Runtime.UpdateHooksIdle).
// It holds the inbox lock, which EventLoop takes as a run starts (before its first
// hook call) and as it ends (after its last).
func (s *Scheduler) updateHooksIdle(f func(cur coroHooks) coroHooks) bool {
	s.inbox.mu.Lock()
	defer s.inbox.mu.Unlock()
	if s.inbox.wakefd >= 0 { // attached: between a run's start and its end
		return false
	}
	s.attachHooks(f(s.hooks))
	return true
}

// eachLive calls f for every live coroutine of s, newest first. On s's loop thread or
// while s's loop is not running; f must not spawn or switch.
func (s *Scheduler) eachLive(f func(c *Coro)) {
	for c := s.liveList.head; c != nil; c = c.nextLive {
		f(c)
	}
}
