package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"strings"
)

// pkgRewrite collects the instrumented functions of one package across its files.
type pkgRewrite struct {
	path  string              // what the toolchain names the package's symbols by (-p)
	name  string              // package name
	trim  func(string) string // the compile's -trimpath, for the paths registered
	funcs []funcInfo

	inits    int // func init declarations so far: the toolchain names them init.0, init.1, ...
	globLits int // function literals in package-level initialisers so far: init.func1, ...
}

// funcInfo is one instrumented function, registered with the profiler at init.
type funcInfo struct {
	name string // as the Go toolchain names it: pkg.F, pkg.(*T).M, pkg.F.func1
	file string
	line int
}

// insertion is text to put at a byte offset of the original file.
type insertion struct {
	off  int
	text string
}

const noInstrument = "//coro:noinstrument"

// file rewrites one source file: a //line directive first, so every position below
// stays the original's, then one statement at the start of each instrumented body.
func (p *pkgRewrite) file(path string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	if p.name == "" {
		p.name = f.Name.Name
	}
	tf := fset.File(f.Pos())

	var ins []insertion
	instrument := func(name string, body *ast.BlockStmt) {
		if body == nil {
			return
		}
		id := len(p.funcs)
		// The position as the compiler will record it: after the file's own //line
		// directives, if it has any (generated code maps to its source).
		pos := fset.PositionFor(body.Lbrace, true)
		p.funcs = append(p.funcs, funcInfo{name: name, file: p.trim(pos.Filename), line: pos.Line})
		text := fmt.Sprintf(" defer __coroLeave(__coroEnter(__coroBase + %d));", id)
		// Back to the position of the character after the brace.
		if pos.Column > 0 {
			text += fmt.Sprintf(" /*line %s:%d:%d*/", pos.Filename, pos.Line, pos.Column+1)
		} else {
			text += fmt.Sprintf(" /*line %s:%d*/", pos.Filename, pos.Line)
		}
		ins = append(ins, insertion{off: tf.Offset(body.Lbrace) + 1, text: text})
	}

	pkgPrefix := p.path + "."
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			name := pkgPrefix + declName(d)
			if d.Recv == nil && d.Name.Name == "init" {
				name = pkgPrefix + "init." + strconv.Itoa(p.inits)
				p.inits++
			}
			if d.Body == nil || skipped(d.Doc) {
				continue
			}
			instrument(name, d.Body)
			k := 0
			literals(d.Body, name, false, &k, instrument)
		case *ast.GenDecl:
			// Function literals in package-level initialisers run in the package's
			// initialisation; the toolchain names them pkg.init.funcN, numbered across
			// the package's files.
			if skipped(d.Doc) {
				continue
			}
			literals(d, pkgPrefix+"init", false, &p.globLits, instrument)
		}
	}
	if len(ins) == 0 {
		return src, nil
	}
	sort.Slice(ins, func(i, j int) bool { return ins[i].off < ins[j].off })
	// The file's first line, and everything up to a //line directive of its own,
	// belongs to the original file, not to the rewritten copy the compiler reads.
	var out bytes.Buffer
	fmt.Fprintf(&out, "//line %s:1\n", path)
	last := 0
	for _, in := range ins {
		out.Write(src[last:in.off])
		out.WriteString(in.text)
		last = in.off
	}
	out.Write(src[last:])
	return out.Bytes(), nil
}

// literals instruments the function literals under n, named after their enclosing
// function: outer.func1, outer.func2 in source order, and outer.func1.1 for one
// inside outer.func1, as the Go toolchain names closures.
func literals(n ast.Node, outer string, nested bool, k *int, instrument func(string, *ast.BlockStmt)) {
	ast.Inspect(n, func(x ast.Node) bool {
		lit, ok := x.(*ast.FuncLit)
		if !ok {
			return true
		}
		*k++
		name := outer + ".func" + strconv.Itoa(*k)
		if nested {
			name = outer + "." + strconv.Itoa(*k)
		}
		instrument(name, lit.Body)
		inner := 0
		literals(lit.Body, name, true, &inner, instrument)
		return false // nested literals are numbered under this one
	})
}

// skipped reports whether a doc comment opts the function out: //coro:noinstrument,
// or a //go: directive other than //go:noinline (nosplit, linkname, norace, ... ask
// for a function the compiler treats specially; a deferred call could break them).
func skipped(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, c := range doc.List {
		t := strings.TrimSpace(c.Text)
		if t == noInstrument || strings.HasPrefix(t, noInstrument+" ") {
			return true
		}
		if strings.HasPrefix(t, "//go:") && !strings.HasPrefix(t, "//go:noinline") {
			return true
		}
	}
	return false
}

// declName is a function's or method's name as runtime.FuncForPC gives it, without
// the package path: F, T.M, (*T).M, and [...] after a generic function or a generic
// type's name.
func declName(d *ast.FuncDecl) string {
	name := d.Name.Name
	if d.Type.TypeParams != nil && len(d.Type.TypeParams.List) > 0 {
		name += "[...]"
	}
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return name
	}
	t := d.Recv.List[0].Type
	star := false
	if s, ok := t.(*ast.StarExpr); ok {
		star, t = true, s.X
	}
	generic := false
	switch x := t.(type) {
	case *ast.IndexExpr:
		generic, t = true, x.X
	case *ast.IndexListExpr:
		generic, t = true, x.X
	}
	recv := "?"
	if id, ok := t.(*ast.Ident); ok {
		recv = id.Name
	}
	if generic {
		recv += "[...]"
	}
	if star {
		return "(*" + recv + ")." + name
	}
	return recv + "." + name
}

// glue is the generated file that declares the profiler's entry points (pulled by
// //go:linkname from profiler/instrument.go) and registers the package's functions.
func (p *pkgRewrite) glue(path string) []byte {
	var b bytes.Buffer
	// Named as if it sat in the package's directory, so -trimpath treats it like the
	// package's files and no temporary name reaches the binary.
	fmt.Fprintf(&b, "//line %s:1\n// Code generated by coro-instrument. DO NOT EDIT.\n\npackage %s\n\nimport _ \"unsafe\"\n\n", path, p.name)
	const prof = "github.com/coroprof/coroprof/profiler"
	fmt.Fprintf(&b, "//go:linkname __coroEnter %s.instrEnter\nfunc __coroEnter(id uint32) uint64\n\n", prof)
	fmt.Fprintf(&b, "//go:linkname __coroLeave %s.instrLeave\nfunc __coroLeave(token uint64)\n\n", prof)
	fmt.Fprintf(&b, "//go:linkname __coroRegister %s.instrRegister\nfunc __coroRegister(names, files []string, lines []int32) uint32\n\n", prof)
	b.WriteString("var __coroBase = __coroRegister(\n\t[]string{")
	for _, f := range p.funcs {
		fmt.Fprintf(&b, "\n\t\t%s,", strconv.Quote(f.name))
	}
	b.WriteString("\n\t},\n\t[]string{")
	for _, f := range p.funcs {
		fmt.Fprintf(&b, "\n\t\t%s,", strconv.Quote(f.file))
	}
	b.WriteString("\n\t},\n\t[]int32{")
	for _, f := range p.funcs {
		fmt.Fprintf(&b, "%d, ", f.line)
	}
	b.WriteString("},\n)\n")
	return b.Bytes()
}
