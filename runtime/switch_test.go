package coro

import (
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// TestSwitchFuncViews checks what pullCoro.sw relies on: iter.Pull's next
// (func() (struct{}, bool)) and yield (func(struct{}) bool), called through a
// func() bool, switch exactly as when called as themselves and return the same bool.
func TestSwitchFuncViews(t *testing.T) {
	var yieldView func() bool
	steps := 0
	var fromYield []bool
	next, stop := iter.Pull(iter.Seq[struct{}](func(yield func(struct{}) bool) {
		yieldView = *(*func() bool)(unsafe.Pointer(&yield))
		for {
			steps++
			ok := yieldView()
			fromYield = append(fromYield, ok)
			if !ok {
				return
			}
		}
	}))
	nextView := *(*func() bool)(unsafe.Pointer(&next))
	for i := 1; i <= 3; i++ {
		if ok := nextView(); !ok {
			t.Fatalf("next through the view returned false at step %d", i)
		}
		if steps != i {
			t.Fatalf("after %d next calls through the view, the body ran %d steps", i, steps)
		}
	}
	stop() // yield returns false, the body returns
	if ok := nextView(); ok {
		t.Fatal("next through the view returned true after the sequence ended")
	}
	want := []bool{true, true, false}
	if len(fromYield) != len(want) {
		t.Fatalf("yield through the view returned %v, want %v", fromYield, want)
	}
	for i := range want {
		if fromYield[i] != want[i] {
			t.Fatalf("yield through the view returned %v, want %v", fromYield, want)
		}
	}
}

// TestHandOffInlines checks that the compiler inlines handOff at every switch (see
// its comment for why a call level there costs several ns per switch).
func TestHandOffInlines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package with -gcflags=-m")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go tool: %v", err)
	}
	out, err := exec.Command(goTool, "build", "-gcflags=-m", "-o", os.DevNull, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "can inline (*Scheduler).handOff") {
		t.Fatalf("handOff no longer inlines; the compiler says:\n%s", grepLines(s, "handOff"))
	}
	if n := strings.Count(s, "inlining call to (*Scheduler).handOff"); n < 6 {
		t.Fatalf("handOff inlined at %d call sites, want every switch (6):\n%s", n, grepLines(s, "handOff"))
	}
}

func grepLines(s, sub string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
