package main

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/web"
)

// largeOptions is the size the issue asks the report to handle: 100k coroutines and a
// million distinct sampled stacks (the worst case: no two samples aggregate).
var largeOptions = synth.Options{Coroutines: 100_000, Samples: 1_000_000, Slices: 65_536,
	LongSlices: 50, Regions: 32, Funcs: 2000}

var (
	largeOnce sync.Once
	largePath string
	largeErr  error
)

// largeProfile writes the large synthetic profile once per test binary (to
// PRINT_PROFILE_LARGE if set, so a later run of the binary can reuse it).
func largeProfile(b *testing.B) string {
	largeOnce.Do(func() {
		largePath = os.Getenv("PRINT_PROFILE_LARGE")
		if largePath != "" {
			if _, err := os.Stat(largePath); err == nil {
				return
			}
		} else {
			dir, err := os.MkdirTemp("", "print-profile-bench")
			if err != nil {
				largeErr = err
				return
			}
			largePath = filepath.Join(dir, "large.bin")
		}
		largeErr = format.WriteFile(largePath, synth.Profile(42, largeOptions))
	})
	if largeErr != nil {
		b.Fatal(largeErr)
	}
	return largePath
}

// BenchmarkLarge is print-profile end to end (read, model, HTML) on the large profile.
func BenchmarkLarge(b *testing.B) {
	if _, err := web.Echarts(); err != nil {
		b.Fatal(err)
	}
	path := largeProfile(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := run([]string{path}, io.Discard, os.Stderr); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

// BenchmarkSmall is the same on the small golden profile: the baseline of the ratio.
func BenchmarkSmall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if code := run([]string{profilePath("small")}, io.Discard, os.Stderr); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
