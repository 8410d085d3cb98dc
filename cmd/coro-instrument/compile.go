package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// excluded are the packages never instrumented: the profiler and everything it runs
// on, which would otherwise charge themselves (and recurse).
var excluded = []string{
	"github.com/coroprof/coroprof/runtime/...",
	"github.com/coroprof/coroprof/profiler/...",
	"github.com/coroprof/coroprof/tsc/...",
	"github.com/coroprof/coroprof/format/...",
	"github.com/coroprof/coroprof/console/...",
	"github.com/coroprof/coroprof/internal/...",
	"github.com/coroprof/coroprof/cmd/coro-instrument/...",
}

// selection is the -pkgs / CORO_INSTRUMENT choice; no patterns means the default.
type selection struct {
	patterns []string
}

func parseSelection(s string) (selection, error) {
	var sel selection
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.ContainsAny(p, " \t\"'") || strings.Contains(strings.TrimSuffix(p, "/..."), "...") {
			return sel, fmt.Errorf("bad package pattern %q: want an import path, optionally ending in /...", p)
		}
		sel.patterns = append(sel.patterns, p)
	}
	return sel, nil
}

// match reports whether path matches a pattern: the path itself, or, for "x/...",
// x and everything below it.
func match(pattern, path string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == prefix || strings.HasPrefix(path, prefix+"/")
	}
	return path == pattern
}

func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if match(p, path) {
			return true
		}
	}
	return false
}

// compileArgs is what the tool needs to know of a compile invocation.
type compileArgs struct {
	pkg   string // -p
	std   bool   // -std: a standard-library package
	files []int  // indexes of the .go files among the arguments
}

func parseCompile(args []string) compileArgs {
	var c compileArgs
	for i, a := range args {
		switch {
		case a == "-p" && i+1 < len(args):
			c.pkg = args[i+1]
		case strings.HasPrefix(a, "-p="):
			c.pkg = strings.TrimPrefix(a, "-p=")
		case a == "-std":
			c.std = true
		}
	}
	// The source files come last, after every flag.
	for i := len(args) - 1; i >= 0 && strings.HasSuffix(args[i], ".go") && !strings.HasPrefix(args[i], "-"); i-- {
		c.files = append([]int{i}, c.files...)
	}
	return c
}

// wanted decides whether the package being compiled is instrumented.
func (sel selection) wanted(c compileArgs, dir, goroot string) bool {
	if c.std || c.pkg == "" || len(c.files) == 0 || matchAny(excluded, strings.TrimSuffix(c.pkg, "_test")) {
		return false
	}
	if len(sel.patterns) > 0 {
		return matchAny(sel.patterns, strings.TrimSuffix(c.pkg, "_test"))
	}
	return localSource(dir, goroot)
}

// localSource reports whether dir holds source of a module on the local disk (the main
// module, a workspace module, a replace directive's directory): not GOROOT, not the
// module cache (whose directories are named module@version), not a vendor directory.
func localSource(dir, goroot string) bool {
	if dir == "" {
		return false
	}
	if goroot != "" && (dir == goroot || strings.HasPrefix(dir, goroot+string(filepath.Separator))) {
		return false
	}
	for _, el := range strings.Split(filepath.ToSlash(dir), "/") {
		if el == "vendor" || strings.Contains(el, "@") {
			return false
		}
	}
	return true
}

// gorootOf finds GOROOT from the compiler's path ($GOROOT/pkg/tool/GOOS_GOARCH/compile).
func gorootOf(tool string) string {
	d := filepath.Dir(tool)
	if filepath.Base(filepath.Dir(d)) == "tool" && filepath.Base(filepath.Dir(filepath.Dir(d))) == "pkg" {
		return filepath.Dir(filepath.Dir(filepath.Dir(d)))
	}
	return os.Getenv("GOROOT")
}

// compile runs the compiler, on rewritten copies of the files when the package is
// selected.
func compile(tool string, args []string, sel selection) error {
	c := parseCompile(args)
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	abs := func(f string) string {
		if filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(wd, f)
	}
	dir := ""
	if len(c.files) > 0 {
		dir = filepath.Dir(abs(args[c.files[0]]))
	}
	if !sel.wanted(c, dir, gorootOf(tool)) {
		return passThrough(tool, args)
	}
	tmp, err := os.MkdirTemp("", "coro-instrument-")
	if err != nil {
		return err
	}
	if os.Getenv("CORO_INSTRUMENT_DEBUG") == "" {
		defer os.RemoveAll(tmp)
	} else {
		fmt.Fprintf(os.Stderr, "coro-instrument: %s: rewritten files kept in %s\n", c.pkg, tmp)
	}

	pkg := &pkgRewrite{path: c.pkg}
	newArgs := make([]string, 0, len(args)+1)
	for _, a := range args[:c.files[0]] {
		if a == "-complete" {
			// The glue file declares the profiler's entry points without a body
			// (//go:linkname); -complete would reject that.
			continue
		}
		newArgs = append(newArgs, a)
	}
	for k, i := range c.files {
		src := abs(args[i])
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		out, err := pkg.file(src, data)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		name := filepath.Join(tmp, fmt.Sprintf("%03d_%s", k, filepath.Base(src)))
		if err := os.WriteFile(name, out, 0o600); err != nil {
			return err
		}
		newArgs = append(newArgs, name)
	}
	if len(pkg.funcs) > 0 {
		glue := filepath.Join(tmp, "zz_coro_instrument.go")
		if err := os.WriteFile(glue, pkg.glue(), 0o600); err != nil {
			return err
		}
		newArgs = append(newArgs, glue)
	}
	return passThrough(tool, newArgs)
}
