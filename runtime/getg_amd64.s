#include "textflag.h"

// func getg() uintptr
// On linux/amd64 the runtime keeps the current g in thread-local storage at offset 0
// from the TLS base; (TLS) is the assembler's name for that slot.
TEXT ·getg(SB), NOSPLIT, $0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET

// func getgp() unsafe.Pointer
// The same g, as a pointer (for reading its stack bounds; see onStackOf).
TEXT ·getgp(SB), NOSPLIT, $0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET
