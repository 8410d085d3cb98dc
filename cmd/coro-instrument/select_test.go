package main

import "testing"

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
