package format

// The generated profiles this package's tests use come from internal/synth, which
// imports format, so a test file of package format cannot import it. The external
// test file synth_ext_test.go (package format_test, linked into the same test binary)
// fills these in at init, before any test runs.

// SynthOptions mirrors synth.Options field for field (the init converts one to the
// other, so a field added there fails to compile until it is added here).
type SynthOptions struct {
	Loops, Coroutines, Funcs, Samples, Slices, LongSlices, Regions int
	TicksOnly                                                      bool
}

// GoldenFile is one of synth.Golden: a profile kept in testdata/.
type GoldenFile struct {
	Name    string
	Seed    int64
	Options SynthOptions
}

var (
	// Synthetic is synth.Profile.
	Synthetic func(seed int64, opt SynthOptions) *Profile
	// GoldenFiles is synth.Golden.
	GoldenFiles []GoldenFile
	// The options of the golden small, medium and multiloop profiles.
	smallOpts, mediumOpts, multiLoopOpts SynthOptions
)

// SetGoldenOptions sets smallOpts, mediumOpts and multiLoopOpts from GoldenFiles.
func SetGoldenOptions() {
	smallOpts, mediumOpts, multiLoopOpts = GoldenFiles[0].Options, GoldenFiles[1].Options, GoldenFiles[2].Options
}
