package coro

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestHoldSignals: while held, SIGINT that arrives with no loop running reaches the
// holder's channel (the process is not killed, the default handler not run); with a
// loop running the runtime's handler gets it as usual (here: Exit ends the loop).
func TestHoldSignals(t *testing.T) {
	late, release := HoldSignals()
	defer release()
	SpawnNamed("short", func() {})
	EventLoop() // a loop ran and ended: without the hold, SIGINT would now kill
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case sig := <-late:
		if sig != os.Interrupt {
			t.Errorf("held %v, want SIGINT", sig)
		}
	case <-time.After(time.Minute):
		t.Fatal("SIGINT never reached the hold")
	}
	// With a loop running, the handler (Exit) gets it and the hold does not.
	SpawnNamed("sleeper", func() {
		syscall.Kill(os.Getpid(), syscall.SIGINT)
		Sleep(time.Hour) // Exit interrupts it
	})
	EventLoop()
	select {
	case sig := <-late:
		t.Errorf("the hold got %v while a loop ran", sig)
	default:
	}
	release()
	release() // a second release is harmless
}
