// Command coro-instrument rewrites Go packages at build time so that every call of
// their functions is charged exactly on the coroutine profiler's clocks: calls, self
// and cumulative ticks (CPU time and rusage counters when the full ledger is on), and
// every caller -> callee edge. It is a -toolexec wrapper, like the one `go test -cover`
// uses internally:
//
//	go build -toolexec coro-instrument ./...
//	go build -toolexec "coro-instrument -pkgs example.com/app/..." ./cmd/app
//
// The source tree is never touched: for each compile of a selected package the tool
// writes rewritten copies of its files to a temporary directory and hands those to the
// compiler. Every other tool invocation (asm, link, compile of other packages) runs
// unchanged.
//
// # What is instrumented
//
// By default, the packages whose source lies in the main module (or any other module
// on the local disk, such as a workspace or a replace directive's directory): not the
// standard library, not modules from the module cache, not vendored code, and never
// the profiler's own packages (the runtime, profiler, tsc, format, console and
// internal packages of github.com/coroprof/coroprof), which would otherwise measure
// themselves. The -pkgs flag or the CORO_INSTRUMENT environment variable (the flag
// wins) selects import paths instead: a comma-separated list of patterns, each an
// import path or a prefix ending in "/..." as in `go list` (a main package is matched
// by its import path, which the go command passes to the tool). Packages that use cgo
// are never instrumented: the compiler accepts the files the go command generates for
// them only under their own names, so they are compiled as they are.
//
// Every function and method with a body is instrumented, and so is every function
// literal, which is charged as its own function under the name the Go toolchain gives
// it (pkg.F.func1, pkg.F.func1.1, pkg.init.func1 for a package-level initialiser's,
// pkg.init.0 for the first func init), since a closure often runs on another
// coroutine than the one that made it. Functions with a //go: directive (nosplit, linkname,
// norace, ...) other than //go:noinline are left alone, and so is any function whose
// doc comment has the line
//
//	//coro:noinstrument
//
// (its function literals too). A generic function is one function for every
// instantiation.
//
// # The rewrite
//
// Each instrumented function gets one statement at the start of its body, on the line
// of its opening brace:
//
//	func f() { defer __coroLeave(__coroEnter(__coroBase + 7)) /*line f.go:12:11*/ ...
//
// A //line directive at the top of each file and a /*line*/ comment after the inserted
// statement keep every position of the original source (as the file's own //line
// directives map it, in generated code), so compiler errors, stack traces, panics and
// runtime.Caller report the original file, line and column. The registered file
// names follow the build's -trimpath. The
// deferred Leave runs on every way out of the function: return, panic (with or without
// recover) and runtime.Goexit; a function that never returns stays open until the
// profile stops, when its frame is closed. Functions with defer are not inlined by the
// Go compiler, so an instrumented function that used to be inlined becomes a call: that
// is part of the measured overhead (docs/PERFORMANCE.md, exact per-function profile).
//
// The calls reach the profiler through three functions that the profiler package
// exposes by //go:linkname (profiler/instrument.go): no import is added, so the
// compile needs no new entry in its import configuration, but the program must link
// the profiler package (it does when it calls profiler.Go or profiler.Start; otherwise
// the link fails naming profiler.instrEnter). A program built without this tool pays
// nothing; one built with it and not profiling pays one atomic load and a deferred
// call per function call.
//
// # The build cache
//
// The go command asks each tool for its version (-V=full) and keys its cache on the
// answer. The tool appends its own fingerprint (a hash of its executable and of the
// package selection) to the compiler's answer, so an instrumented build never reuses
// a plain build's objects or another selection's.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintf(os.Stderr, "coro-instrument: %v\n", err)
		os.Exit(2)
	}
}

const usage = `usage: go build -toolexec "coro-instrument [-pkgs PATTERNS]" PACKAGES
  -pkgs PATTERNS  comma-separated import paths to instrument (a pattern ending in /...
                  matches a prefix); default: the packages of the main module
                  (environment: CORO_INSTRUMENT)`

// run parses the tool's own flags, then dispatches the wrapped tool invocation.
func run(args []string) error {
	patterns := os.Getenv("CORO_INSTRUMENT")
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		switch {
		case a == "-h" || a == "-help" || a == "--help":
			fmt.Fprintln(os.Stderr, usage)
			return nil
		case a == "-pkgs" && len(args) > 1:
			patterns = args[1]
			args = args[2:]
		case strings.HasPrefix(a, "-pkgs="):
			patterns = strings.TrimPrefix(a, "-pkgs=")
			args = args[1:]
		default:
			return fmt.Errorf("unknown flag %q\n%s", a, usage)
		}
	}
	if len(args) == 0 {
		return errors.New("no tool to run: use it as go build -toolexec coro-instrument\n" + usage)
	}
	sel, err := parseSelection(patterns)
	if err != nil {
		return err
	}
	tool, targs := args[0], args[1:]
	if toolName(tool) == "compile" {
		if len(targs) == 1 && strings.HasPrefix(targs[0], "-V") {
			return version(tool, targs, sel)
		}
		return compile(tool, targs, sel)
	}
	return passThrough(tool, targs)
}

// toolName is the tool's base name without an .exe suffix.
func toolName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".exe")
}

func passThrough(tool string, args []string) error {
	cmd := exec.Command(tool, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

// version answers the go command's -V=full query with the compiler's answer plus the
// tool's fingerprint, so the build cache keeps instrumented objects apart.
func version(tool string, args []string, sel selection) error {
	cmd := exec.Command(tool, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	line := strings.TrimRight(string(out), "\n")
	fp, err := fingerprint(sel)
	if err != nil {
		return err
	}
	fmt.Printf("%s coro-instrument=%s\n", line, fp)
	return nil
}

// fingerprint hashes the running executable and the selection.
func fingerprint(sel selection) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	fmt.Fprintf(h, "\x00%q", sel.patterns)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
