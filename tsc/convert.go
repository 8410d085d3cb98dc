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
	hi, lo := bits.Mul64(ticks, 1e9)
	lo, carry := bits.Add64(lo, uint64(r)/2, 0)
	hi += carry // cannot wrap: ticks*1e9 < 2^94
	if hi >= uint64(r) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(r))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(q)
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
	if d <= 0 || r == 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(d), uint64(r))
	lo, carry := bits.Add64(lo, 5e8, 0)
	hi += carry // cannot wrap: d < 2^63, so hi < 2^63
	if hi >= 1e9 {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, 1e9)
	return q
}

// ToDuration converts ticks of this machine's clock to a duration (see Rate.Duration).
func ToDuration(ticks uint64) time.Duration { return Rate(Frequency()).Duration(ticks) }

// ToSeconds converts ticks of this machine's clock to seconds (see Rate.Seconds).
func ToSeconds(ticks uint64) float64 { return Rate(Frequency()).Seconds(ticks) }

// FromDuration converts a duration to ticks of this machine's clock (see Rate.Ticks).
func FromDuration(d time.Duration) uint64 { return Rate(Frequency()).Ticks(d) }
