package tsc

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// Rates seen in the wild (24 MHz arm64 timer, 2.596 GHz TSC, the fallback's 1 GHz) and
// the extremes of the type.
var rates = []Rate{1, 3, 1000, 19_200_000, 24_000_000, 1e9, 2_596_098_000, 3e9, 5e9, 1 << 40, math.MaxUint64}

// interesting returns tick counts that stress rounding and overflow at rate r, plus
// random ones over the whole range.
func interesting(r Rate, rng *rand.Rand) []uint64 {
	v := []uint64{0, 1, 2, uint64(r) / 2, uint64(r)/2 + 1, uint64(r) - 1, uint64(r), uint64(r) + 1,
		math.MaxInt64, 1 << 63, math.MaxUint64 - 1, math.MaxUint64}
	for range 200 {
		v = append(v, rng.Uint64(), rng.Uint64()>>rng.IntN(64))
	}
	return v
}

func bigU(x uint64) *big.Int { return new(big.Int).SetUint64(x) }

// The oracles compute the same roundings with arbitrary-precision integers.
func wantDuration(r Rate, ticks uint64) time.Duration {
	n := new(big.Int).Mul(bigU(ticks), bigU(1e9))
	n.Add(n, bigU(uint64(r)/2))
	n.Quo(n, bigU(uint64(r)))
	if !n.IsInt64() {
		return math.MaxInt64
	}
	return time.Duration(n.Int64())
}

func wantTicks(r Rate, d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	n := new(big.Int).Mul(bigU(uint64(d)), bigU(uint64(r)))
	n.Add(n, bigU(5e8))
	n.Quo(n, bigU(1e9))
	if !n.IsUint64() {
		return math.MaxUint64
	}
	return n.Uint64()
}

// TestMulDivExact compares MulDiv with arbitrary-precision integers, including products
// far beyond 64 bits, quotients that saturate and the zero divisor.
func TestMulDivExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	v := []uint64{0, 1, 2, 3, 999_999_999, 1e9, 1<<32 - 1, 1 << 32, math.MaxInt64, 1 << 63, math.MaxUint64 - 1, math.MaxUint64}
	for range 60 {
		v = append(v, rng.Uint64(), rng.Uint64()>>rng.IntN(64))
	}
	for _, a := range v {
		for _, b := range v {
			for _, c := range v {
				want := uint64(0)
				if c != 0 {
					n := new(big.Int).Mul(bigU(a), bigU(b))
					n.Quo(n, bigU(c))
					want = math.MaxUint64
					if n.IsUint64() {
						want = n.Uint64()
					}
				}
				if got := MulDiv(a, b, c); got != want {
					t.Fatalf("MulDiv(%d, %d, %d) = %d, want %d", a, b, c, got, want)
				}
			}
		}
	}
}

func TestDurationExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, r := range rates {
		for _, ticks := range interesting(r, rng) {
			if got, want := r.Duration(ticks), wantDuration(r, ticks); got != want {
				t.Errorf("Rate(%d).Duration(%d) = %d, want %d", r, ticks, got, want)
			}
		}
	}
}

func TestTicksExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, r := range rates {
		ds := []time.Duration{math.MinInt64, -1, 0, 1, 499_999_999, 500_000_000, time.Second, 100 * 365 * 24 * time.Hour, math.MaxInt64}
		for range 200 {
			ds = append(ds, time.Duration(rng.Int64()>>rng.IntN(63)))
		}
		for _, d := range ds {
			if got, want := r.Ticks(d), wantTicks(r, d); got != want {
				t.Errorf("Rate(%d).Ticks(%d) = %d, want %d", r, d, got, want)
			}
		}
	}
}

// TestSecondsWithinOneULP compares with the correctly rounded quotient from big.Rat.
func TestSecondsWithinOneULP(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, r := range rates {
		for _, ticks := range interesting(r, rng) {
			got := r.Seconds(ticks)
			want, _ := new(big.Rat).SetFrac(bigU(ticks), bigU(uint64(r))).Float64()
			if got != want && math.Nextafter(want, math.Inf(1)) != got && math.Nextafter(want, math.Inf(-1)) != got {
				t.Errorf("Rate(%d).Seconds(%d) = %v, want %v (±1 ulp)", r, ticks, got, want)
			}
		}
	}
}

// TestLongRuns: a century at 5 GHz (1.58e19 ticks, near the top of uint64) converts to
// exactly a century and back.
func TestLongRuns(t *testing.T) {
	const century = 100 * 365 * 24 * time.Hour
	r := Rate(5e9)
	ticks := uint64(century.Seconds()) * 5e9
	if got := r.Duration(ticks); got != century {
		t.Errorf("Duration(%d) = %v, want %v", ticks, got, century)
	}
	if got := r.Ticks(century); got != ticks {
		t.Errorf("Ticks(%v) = %d, want %d", century, got, ticks)
	}
	if got, want := r.Seconds(ticks), century.Seconds(); got != want {
		t.Errorf("Seconds(%d) = %v, want %v", ticks, got, want)
	}
	// Beyond time.Duration's range the duration saturates rather than wrapping negative.
	if got := Rate(1e9).Duration(math.MaxUint64); got != math.MaxInt64 {
		t.Errorf("Rate(1e9).Duration(MaxUint64) = %d, want MaxInt64", got)
	}
}

// TestRoundTrip: a duration converted to ticks and back comes out within half a tick's
// worth of nanoseconds (rounding once each way), and at 1 GHz exactly.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, r := range []Rate{24_000_000, 1e9, 2_596_098_000, 5e9} {
		slack := time.Duration(1e9/uint64(r)/2 + 1)
		if r >= 1e9 {
			slack = 0 // at a tick per ns or finer, ticks resolve every nanosecond
		}
		for range 1000 {
			d := time.Duration(rng.Int64N(int64(100 * 365 * 24 * time.Hour)))
			back := r.Duration(r.Ticks(d))
			if diff := back - d; diff > slack || diff < -slack {
				t.Fatalf("Rate(%d): %d ns -> %d ticks -> %d ns, off by %d (slack %d)", r, d, r.Ticks(d), back, diff, slack)
			}
		}
	}
}

func TestZeroRate(t *testing.T) {
	var r Rate
	if r.Duration(123) != 0 || r.Seconds(123) != 0 || r.Ticks(time.Second) != 0 {
		t.Errorf("zero rate: Duration %v, Seconds %v, Ticks %v; want zeros", r.Duration(123), r.Seconds(123), r.Ticks(time.Second))
	}
}

// TestLocalConversions ties the package-level conversions to Frequency.
func TestLocalConversions(t *testing.T) {
	hz := Frequency()
	if got := FromDuration(time.Second); got != hz {
		t.Errorf("FromDuration(1s) = %d, want Frequency() = %d", got, hz)
	}
	if got := ToDuration(hz); got != time.Second {
		t.Errorf("ToDuration(Frequency()) = %v, want 1s", got)
	}
	if got := ToSeconds(3 * hz); got != 3 {
		t.Errorf("ToSeconds(3*Frequency()) = %v, want 3", got)
	}
}
