//go:build amd64 && gc && !purego

#include "textflag.h"

// Ordering. RDTSC alone may execute before earlier instructions have finished (it is not
// serializing), so a stamp taken at a coroutine switch could land inside the work it is
// meant to follow. RDTSCP waits until every earlier instruction has executed and every
// earlier load is globally visible before it reads the counter; that is the order a
// profiler needs, and it costs less than a full fence. Later instructions may still start
// before RDTSCP completes; a fence after it would stop that, but the few cycles of
// overlap fall into the next slice's stamp, which is contiguous with this one, so nothing
// is lost or counted twice.
//
// Without RDTSCP (CPUs before Intel Nehalem and AMD K8 rev F), RDTSC is fenced. LFENCE
// waits for earlier instructions on Intel, but on AMD it does so only when the kernel has
// set MSR C001_1029 bit 1, so MFENCE (serializing on AMD) goes first, as in the Go
// runtime's own cputicks (runtime/asm_amd64.s). The fences cost tens of cycles, paid only
// on those old CPUs.
//
// The flag is a byte read from a variable set at init, so the branch is always predicted.

// func Now() uint64
TEXT ·Now(SB), NOSPLIT, $0-8
	CMPB	·hasRDTSCP(SB), $1
	JNE	fenced
	RDTSCP
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET
fenced:
	MFENCE
	LFENCE
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func rdtscp() uint64
TEXT ·rdtscp(SB), NOSPLIT, $0-8
	RDTSCP
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func rdtscFenced() uint64
TEXT ·rdtscFenced(SB), NOSPLIT, $0-8
	MFENCE
	LFENCE
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL	eaxArg+0(FP), AX
	MOVL	ecxArg+4(FP), CX
	CPUID
	MOVL	AX, eax+8(FP)
	MOVL	BX, ebx+12(FP)
	MOVL	CX, ecx+16(FP)
	MOVL	DX, edx+20(FP)
	RET

// func NowUnordered() uint64
// RDTSC with no fence: it may execute before earlier instructions retire, and later ones
// may start before it; about half the cost of RDTSCP here (docs/PERFORMANCE.md, tsc).
TEXT ·NowUnordered(SB), NOSPLIT, $0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET
