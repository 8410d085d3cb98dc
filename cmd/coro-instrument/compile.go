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
	pkg      string // -p: what the toolchain names the package's symbols by ("main" for a main package)
	path     string // the import path: the go command's TOOLEXEC_IMPORTPATH, else -p
	std      bool   // -std: a standard-library package
	files    []int  // indexes of the .go files among the arguments
	trimpath string // -trimpath rewrites, "old=>new;old2=>new2"
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
		case a == "-trimpath" && i+1 < len(args):
			c.trimpath = args[i+1]
		}
	}
	// The compiler sees every main package as "main"; the go command tells a toolexec
	// tool the real import path ("example.com/app/cmd/app", or "example.com/app
	// [example.com/app.test]" for a test build), which -pkgs patterns name.
	c.path = c.pkg
	if ip := os.Getenv("TOOLEXEC_IMPORTPATH"); ip != "" {
		c.path, _, _ = strings.Cut(ip, " ")
	}
	// The source files come last, after every flag.
	for i := len(args) - 1; i >= 0 && strings.HasSuffix(args[i], ".go") && !strings.HasPrefix(args[i], "-"); i-- {
		c.files = append([]int{i}, c.files...)
	}
	return c
}

// wanted decides whether the package being compiled is instrumented.
func (sel selection) wanted(c compileArgs, dir, goroot string) bool {
	path := c.path
	if path == "" {
		path = c.pkg
	}
	path = strings.TrimSuffix(path, "_test")
	if c.std || path == "" || len(c.files) == 0 || matchAny(excluded, path) {
		return false
	}
	if len(sel.patterns) > 0 {
		return matchAny(sel.patterns, path)
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
	for _, i := range c.files {
		if cgoGenerated(args[i]) {
			// A package that uses cgo is compiled from files the go command generated
			// (_cgo_gotypes.go, x.cgo1.go), which only the compiler may see under
			// their own names: such packages are not instrumented (package doc).
			return passThrough(tool, args)
		}
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

	pkg := &pkgRewrite{path: c.pkg, trim: trimmer(c.trimpath)}
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
		// Each file keeps its base name (the compiler treats some names specially), in
		// a directory of its own.
		d := filepath.Join(tmp, fmt.Sprintf("%03d", k))
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		name := filepath.Join(d, filepath.Base(src))
		if err := os.WriteFile(name, out, 0o600); err != nil {
			return err
		}
		newArgs = append(newArgs, name)
	}
	if len(pkg.funcs) > 0 {
		glue := filepath.Join(tmp, "zz_coro_instrument.go")
		if err := os.WriteFile(glue, pkg.glue(filepath.Join(dir, "zz_coro_instrument.go")), 0o600); err != nil {
			return err
		}
		newArgs = append(newArgs, glue)
	}
	return passThrough(tool, newArgs)
}

// cgoGenerated reports whether a file is one the go command generated for cgo.
func cgoGenerated(path string) bool {
	b := filepath.Base(path)
	return strings.HasPrefix(b, "_cgo_") || strings.HasSuffix(b, ".cgo1.go") || strings.HasSuffix(b, ".cgo2.go")
}

// trimmer returns the compiler's -trimpath rewrite ("old=>new;..." or a bare prefix to
// remove), so that the paths the tool registers read as the binary's positions do.
func trimmer(spec string) func(string) string {
	if spec == "" {
		return func(p string) string { return p }
	}
	type rule struct{ from, to string }
	var rules []rule
	for _, r := range strings.Split(spec, ";") {
		from, to, _ := strings.Cut(r, "=>")
		rules = append(rules, rule{from, to})
	}
	return func(p string) string {
		for _, r := range rules {
			if r.from == "" {
				continue
			}
			if p == r.from {
				return r.to
			}
			if rest, ok := strings.CutPrefix(p, r.from+"/"); ok {
				if r.to == "" {
					return rest
				}
				return r.to + "/" + rest
			}
		}
		return p
	}
}
