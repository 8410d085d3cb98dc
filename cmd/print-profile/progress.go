package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress reports stages on stderr, but only when stderr is a terminal and the run has
// taken over a second: small inputs and scripts see nothing.
type progress struct {
	w       io.Writer
	mu      sync.Mutex
	start   time.Time
	current string
	shown   bool
	timer   *time.Timer
}

// progressDelay is how long a run goes quietly before it reports progress.
const progressDelay = time.Second

func newProgress(stderr io.Writer) *progress {
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		return startProgress(f, progressDelay)
	}
	return &progress{start: time.Now()}
}

// startProgress reports on w once delay has passed.
func startProgress(w io.Writer, delay time.Duration) *progress {
	p := &progress{start: time.Now(), w: w}
	p.timer = time.AfterFunc(delay, p.show)
	return p
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) show() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shown = true
	p.print()
}

func (p *progress) print() {
	fmt.Fprintf(p.w, "\rprint-profile: %s… (%.1f s)\033[K", p.current, time.Since(p.start).Seconds())
}

func (p *progress) stage(s string) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current = s
	if p.shown {
		p.print()
	}
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	p.timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprintf(p.w, "\rprint-profile: done in %.1f s\033[K\n", time.Since(p.start).Seconds())
	}
}
