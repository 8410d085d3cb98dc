package format_test

import (
	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/synth"
)

// init hands package format's own tests the generator they cannot import
// (synth_hook_test.go says why).
func init() {
	format.Synthetic = func(seed int64, opt format.SynthOptions) *format.Profile {
		return synth.Profile(seed, synth.Options(opt))
	}
	for _, g := range synth.Golden {
		format.GoldenFiles = append(format.GoldenFiles, format.GoldenFile{Name: g.Name, Seed: g.Seed, Options: format.SynthOptions(g.Options)})
	}
	format.SetGoldenOptions()
}
