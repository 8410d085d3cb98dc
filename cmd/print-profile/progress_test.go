package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProgress(t *testing.T) {
	// A slow run reports its current stage once the delay passed, then each new one.
	var slow lockedBuffer
	p := startProgress(&slow, 10*time.Millisecond)
	p.stage("reading x")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(slow.String(), "reading x") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.stage("writing HTML")
	p.done()
	got := slow.String()
	for _, want := range []string{"reading x…", "writing HTML…", "done in"} {
		if !strings.Contains(got, want) {
			t.Errorf("slow run's progress %q lacks %q", got, want)
		}
	}
	// A quick run says nothing.
	var quick lockedBuffer
	p = startProgress(&quick, time.Hour)
	p.stage("reading x")
	p.done()
	if quick.String() != "" {
		t.Errorf("quick run printed %q", quick.String())
	}
	// Neither does a run whose stderr is not a terminal.
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p = newProgress(f)
	p.stage("reading x")
	p.done()
	if st, _ := f.Stat(); st.Size() != 0 || p.w != nil {
		t.Errorf("progress written to a regular file (%d bytes)", st.Size())
	}
}
