package wire

import (
	"fmt"
	"testing"
)

// The values are written into profile files: a renumbering would make every old file
// mean something else. This pins them.
func TestStableValues(t *testing.T) {
	reasons := []struct {
		r    WaitReason
		v    uint8
		name string
	}{
		{WaitNone, 0, "none"}, {WaitSleep, 1, "sleep"}, {WaitRead, 2, "read"}, {WaitWrite, 3, "write"},
		{WaitLock, 4, "lock"}, {WaitChannel, 5, "channel"}, {WaitJoin, 6, "join"},
		{WaitOffload, 7, "offload"}, {WaitOther, 8, "other"},
	}
	if len(reasons) != NumWaitReasons {
		t.Fatalf("%d reasons pinned, NumWaitReasons %d", len(reasons), NumWaitReasons)
	}
	for _, c := range reasons {
		if uint8(c.r) != c.v || c.r.String() != c.name || WaitReasonNames[c.v] != c.name {
			t.Errorf("reason %d: value %d, String %q, name %q; want %d %q", c.r, uint8(c.r), c.r.String(), WaitReasonNames[c.v], c.v, c.name)
		}
	}
	states := []struct {
		s    State
		v    uint8
		name string
	}{{StateRunnable, 0, "runnable"}, {StateRunning, 1, "running"}, {StateWaiting, 2, "waiting"}, {StateExited, 3, "exited"}}
	if len(states) != NumStates {
		t.Fatalf("%d states pinned, NumStates %d", len(states), NumStates)
	}
	for _, c := range states {
		if uint8(c.s) != c.v || c.s.String() != c.name || StateNames[c.v] != c.name {
			t.Errorf("state %d: value %d, String %q; want %d %q", c.s, uint8(c.s), c.s.String(), c.v, c.name)
		}
	}
	if s := fmt.Sprint(WaitReason(NumWaitReasons), State(NumStates)); s != "invalid invalid" {
		t.Errorf("out of range: %q, want invalid invalid", s)
	}
}
