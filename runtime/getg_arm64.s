#include "textflag.h"

// func getg() uintptr
// On arm64 the runtime keeps the current g in register R28, which the assembler calls g.
TEXT ·getg(SB), NOSPLIT, $0-8
	MOVD g, R0
	MOVD R0, ret+0(FP)
	RET

// func getgp() unsafe.Pointer
// The same g, as a pointer (for reading its stack bounds; see onStackOf).
TEXT ·getgp(SB), NOSPLIT, $0-8
	MOVD g, R0
	MOVD R0, ret+0(FP)
	RET
