//go:build arm64 && gc && !purego

#include "textflag.h"

// The counter read may be performed speculatively, ahead of earlier instructions; the ISB
// before it makes the read wait for them, as Linux's arch_timer_read_cntvct_el0 does. Later
// instructions may still overlap the read; the next stamp, contiguous with this one,
// accounts for them.

// func Now() uint64
TEXT ·Now(SB), NOSPLIT, $0-8
	ISB	$15
	MRS	CNTVCT_EL0, R0
	MOVD	R0, ret+0(FP)
	RET

// func NowUnordered() uint64
TEXT ·NowUnordered(SB), NOSPLIT, $0-8
	MRS	CNTVCT_EL0, R0
	MOVD	R0, ret+0(FP)
	RET

// func cntfrq() uint64
TEXT ·cntfrq(SB), NOSPLIT, $0-8
	MRS	CNTFRQ_EL0, R0
	MOVD	R0, ret+0(FP)
	RET
