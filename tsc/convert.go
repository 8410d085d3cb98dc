package tsc

import (
	"math"
	"math/bits"
	"time"
)

// Rate is a tick rate in ticks per second. Its methods convert between ticks and time at
// that rate; a profile recorded on another machine carries its own rate, so its ticks are
// converted with Rate(ticksPerSecond) rather than the local Frequency.
//
// Integer conversions multiply into 128 bits (math/bits) before dividing, so they are
// exact (rounded to the nearest unit, halves up) for every input and never overflow
// within; a result too large for its type saturates. A zero Rate, which no clock has,
// converts everything to 0 rather than dividing by zero: readers of a profile should
// reject such a rate before converting.
type Rate uint64

// Duration converts ticks to a duration, rounded to the nearest nanosecond; it saturates
// at the largest time.Duration (about 292 years).
func (r Rate) Duration(ticks uint64) time.Duration {
	if r == 0 {
		return 0
	}
	return time.Duration(min(mulDiv(ticks, 1e9, uint64(r), uint64(r)/2), math.MaxInt64))
}

// Seconds converts ticks to seconds in float64. The whole seconds and the remainder are
// converted separately, so the result is within one unit in the last place of the exact
// quotient for every input (a float64 carries 15-16 significant digits: far more than
// any clock measures).
func (r Rate) Seconds(ticks uint64) float64 {
	if r == 0 {
		return 0
	}
	const exact = 1 << 53 // integers below this convert to float64 exactly
	if ticks < exact && uint64(r) < exact {
		return float64(ticks) / float64(r) // one correctly rounded division
	}
	q, rem := ticks/uint64(r), ticks%uint64(r)
	return float64(q) + float64(rem)/float64(r)
}

// Ticks converts a duration to ticks, rounded to the nearest tick; a negative duration
// gives 0 and a result beyond uint64 saturates.
func (r Rate) Ticks(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return mulDiv(uint64(d), uint64(r), 1e9, 5e8)
}

// MulDiv returns a*b/c rounded down: the one overflow-safe multiply-divide of the
// module (converting ticks between clock rates, splitting a counter in a ratio). The
// product is formed in 128 bits, so the result is exact for every input; a quotient
// beyond uint64 saturates at math.MaxUint64, and c == 0 gives 0 (no clock has a zero
// rate; readers reject one before converting).
func MulDiv(a, b, c uint64) uint64 { return mulDiv(a, b, c, 0) }

// mulDiv returns (a*b + add) / c, rounded down and saturating, for add < c (add = c/2
// rounds to nearest, halves up). a*b + add cannot wrap 128 bits: a*b is at most
// 2^128 - 2^65 + 1.
func mulDiv(a, b, c, add uint64) uint64 {
	if c == 0 {
		return 0
	}
	hi, lo := bits.Mul64(a, b)
	lo, carry := bits.Add64(lo, add, 0)
	hi += carry
	if hi >= c {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// ToDuration converts ticks of this machine's clock to a duration (see Rate.Duration).
func ToDuration(ticks uint64) time.Duration { return Rate(Frequency()).Duration(ticks) }

// ToSeconds converts ticks of this machine's clock to seconds (see Rate.Seconds).
func ToSeconds(ticks uint64) float64 { return Rate(Frequency()).Seconds(ticks) }

// FromDuration converts a duration to ticks of this machine's clock (see Rate.Ticks).
func FromDuration(d time.Duration) uint64 { return Rate(Frequency()).Ticks(d) }
