//go:build amd64 && gc && !purego

package tsc

// Now returns the current tick count of the time-stamp counter, ordered after every
// instruction before it (see tsc_amd64.s).
func Now() uint64

// rdtscp and rdtscFenced are the two halves of Now, exposed for tests and benchmarks
// so that the path a CPU does not take is still exercised.
func rdtscp() uint64
func rdtscFenced() uint64

// NowUnordered returns the tick count with RDTSC alone, which the CPU may execute
// before instructions ahead of it have finished (see tsc_amd64.s and the package
// comment, "Ordering").
func NowUnordered() uint64

// cpuid executes CPUID. golang.org/x/sys/cpu exposes no flag this package needs (RDTSCP,
// invariant TSC, the frequency leaves 0x15 and 0x16), and its own cpuid is unexported,
// hence this stub.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// hasRDTSCP is read by Now in assembly, so it is set once at package init, before any
// caller can reach Now. Three CPUID instructions (each a trap to the hypervisor in a VM,
// around a microsecond) are the whole start-up cost of this package.
var hasRDTSCP bool

var (
	source    string
	invariant bool
)

func init() {
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	if maxExt >= 0x80000001 {
		_, _, _, edx := cpuid(0x80000001, 0)
		hasRDTSCP = edx&(1<<27) != 0
	}
	if maxExt >= 0x80000007 {
		_, _, _, edx := cpuid(0x80000007, 0)
		invariant = edx&(1<<8) != 0
	}
	source = "rdtsc"
	if hasRDTSCP {
		source = "rdtscp"
	}
}

// reported returns the counter rate the CPU states, and which leaf said it.
//
// Leaf 0x15 gives the TSC/crystal ratio EBX/EAX and, on most Intel parts since Skylake,
// the crystal frequency in ECX: their product is the exact nominal TSC rate (exact says
// true). Where ECX is 0, leaf 0x16 EAX gives the base frequency in MHz, which is what the
// TSC runs at to within a fraction of a percent: good for a cross-check, not exact.
// AMD parts, and most hypervisors, report neither leaf: then the rate is only measured.
func reported() (hz uint64, by string, exact bool) {
	maxBasic, _, _, _ := cpuid(0, 0)
	if maxBasic >= 0x15 {
		den, num, crystal, _ := cpuid(0x15, 0)
		if den != 0 && num != 0 && crystal != 0 {
			return uint64(crystal) * uint64(num) / uint64(den), "cpuid 0x15", true
		}
	}
	if maxBasic >= 0x16 {
		baseMHz, _, _, _ := cpuid(0x16, 0)
		if baseMHz&0xffff != 0 {
			return uint64(baseMHz&0xffff) * 1e6, "cpuid 0x16", false
		}
	}
	return 0, "", false
}

// hardware is true where Now reads a counter whose rate must be found.
const hardware = true
