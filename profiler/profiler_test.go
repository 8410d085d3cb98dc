package profiler

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	coro "github.com/coroprof/coroprof/runtime"
)

// run profiles body (spawned as the first coroutine) under Go, reads the file back
// and returns it.
func run(t *testing.T, body func(), opts ...Option) *format.Profile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.bin")
	coro.SpawnNamed("body", body)
	if err := Go(coro.EventLoop, append([]Option{File(path)}, opts...)...); err != nil {
		t.Fatalf("Go: %v", err)
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the profile back: %v", err)
	}
	return p
}

// burn spins on the CPU for d of thread CPU time... of wall time.
func burn(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}

func TestSmoke(t *testing.T) {
	p := run(t, func() {
		for i := 0; i < 10; i++ {
			coro.Yield()
		}
		coro.Sleep(10 * time.Millisecond)
	})
	t.Logf("loops %+v", p.Loops)
	for _, c := range p.Coroutines {
		t.Logf("coro %+v", c)
	}
	if len(p.Coroutines) != 1 {
		t.Fatalf("coroutines %d", len(p.Coroutines))
	}
	_ = errors.New
	_ = strings.Contains
}
