package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestSelection(t *testing.T) {
	if _, err := parseSelection("a/b, c/...,"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"a b", "a/.../b", `"x"`} {
		if _, err := parseSelection(bad); err == nil {
			t.Errorf("parseSelection(%q) accepted a bad pattern", bad)
		}
	}
	sel, _ := parseSelection("example.com/app/...,example.com/lib")
	def := selection{}
	goroot := "/usr/local/go"
	for _, c := range []struct {
		sel  selection
		args compileArgs
		dir  string
		want bool
	}{
		{def, compileArgs{pkg: "main", files: []int{0}}, "/home/u/app", true},
		{def, compileArgs{pkg: "fmt", std: true, files: []int{0}}, "/usr/local/go/src/fmt", false},
		{def, compileArgs{pkg: "x/y", files: []int{0}}, "/usr/local/go/src/x/y", false},
		{def, compileArgs{pkg: "golang.org/x/sys/unix", files: []int{0}}, "/root/go/pkg/mod/golang.org/x/sys@v0.49.0/unix", false},
		{def, compileArgs{pkg: "example.com/v", files: []int{0}}, "/home/u/app/vendor/example.com/v", false},
		{def, compileArgs{pkg: "github.com/coroprof/coroprof/profiler", files: []int{0}}, "/src/coroprof/profiler", false},
		{def, compileArgs{pkg: "github.com/coroprof/coroprof/internal/wire", files: []int{0}}, "/src/coroprof/internal/wire", false},
		{def, compileArgs{pkg: "github.com/coroprof/coroprof/examples/echo", files: []int{0}}, "/src/coroprof/examples/echo", true},
		{def, compileArgs{pkg: "main", files: nil}, "/home/u/app", false},
		{sel, compileArgs{pkg: "example.com/app/cmd/x", files: []int{0}}, "/root/go/pkg/mod/example.com/app@v1/cmd/x", true},
		{sel, compileArgs{pkg: "example.com/lib_test", files: []int{0}}, "/home/u/lib", true},
		{sel, compileArgs{pkg: "example.com/other", files: []int{0}}, "/home/u/other", false},
		{sel, compileArgs{pkg: "main", path: "example.com/app/cmd/x", files: []int{0}}, "/home/u/app/cmd/x", true},
		{sel, compileArgs{pkg: "main", path: "example.com/tool", files: []int{0}}, "/home/u/tool", false},
		{sel, compileArgs{pkg: "github.com/coroprof/coroprof/runtime", files: []int{0}}, "/src/coroprof/runtime", false},
	} {
		if got := c.sel.wanted(c.args, c.dir, goroot); got != c.want {
			t.Errorf("%v wanted(%s in %s) = %v, want %v", c.sel.patterns, c.args.pkg, c.dir, got, c.want)
		}
	}
}

func TestParseCompile(t *testing.T) {
	c := parseCompile([]string{"-o", "x.a", "-p", "example.com/a", "-complete", "-std", "./a.go", "/b/b.go"})
	if c.pkg != "example.com/a" || !c.std || len(c.files) != 2 || c.files[0] != 6 {
		t.Errorf("parseCompile: %+v", c)
	}
	if gorootOf("/usr/local/go/pkg/tool/linux_amd64/compile") != "/usr/local/go" {
		t.Error("gorootOf does not find GOROOT from the compiler's path")
	}
}

// TestNames: functions are registered under the names the toolchain gives them, so
// two func init and the literals of package-level initialisers in two files stay
// apart; a comment that only looks like a //line directive changes nothing, and a real
// one maps what follows it.
func TestNames(t *testing.T) {
	p := &pkgRewrite{path: "example.com/p", trim: trimmer("")}
	a := "package p\n\nvar f = func() int { return 1 }\n\n//line up the columns\nfunc init() {}\n\nfunc (t *T[K]) M() { _ = func() { _ = func() {} } }\n"
	b := "package p\n\nvar g = func() int { return 2 }\n\nfunc init() {}\n\n//line gen.y:100\nfunc gen() {}\n"
	for name, src := range map[string]string{"/src/a.go": a} {
		if _, err := p.file(name, []byte(src)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := p.file("/src/b.go", []byte(b))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range p.funcs {
		got = append(got, fmt.Sprintf("%s@%s:%d", f.name, f.file, f.line))
	}
	want := []string{
		"example.com/p.init.func1@/src/a.go:3",
		"example.com/p.init.0@/src/a.go:6",
		"example.com/p.(*T[...]).M@/src/a.go:8",
		"example.com/p.(*T[...]).M.func1@/src/a.go:8",
		"example.com/p.(*T[...]).M.func1.1@/src/a.go:8",
		"example.com/p.init.func2@/src/b.go:3",
		"example.com/p.init.1@/src/b.go:5",
		"example.com/p.gen@/src/gen.y:100", // go/scanner joins a relative name to the file's directory
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("registered\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(string(out), "//line /src/b.go:1\n") || !strings.Contains(string(out), "/*line /src/gen.y:100*/") {
		t.Errorf("rewritten b.go:\n%s", out)
	}
}

func TestTrimmer(t *testing.T) {
	tr := trimmer("/work/mod=>example.com/mod;/tmp/x")
	for in, want := range map[string]string{
		"/work/mod/a/b.go": "example.com/mod/a/b.go", "/tmp/x/c.go": "c.go", "/other/d.go": "/other/d.go", "/work/modx/e.go": "/work/modx/e.go",
	} {
		if got := tr(in); got != want {
			t.Errorf("trim(%q) = %q, want %q", in, got, want)
		}
	}
}
