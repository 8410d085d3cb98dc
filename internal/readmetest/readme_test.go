// Package readmetest runs the commands in README.md, as written and in order, in a fresh
// clone of the repository, and checks that a print-profile installed from that clone with
// nothing but Go renders a complete HTML report.
//
// It runs under CI (CI set, as .ci/run does) or with COROPROF_README_TEST=1, and is
// skipped otherwise: it clones, builds and runs the demo, which takes minutes.
//
// # The rules README.md follows
//
// Every fenced block opened with ```sh is run; other blocks (```go, plain ```) are not.
// Each line of a block is one command (a line ending in \ continues on the next), run
// by `bash -eo pipefail -c` in the clone's root, in README order, and must exit 0 within
// 10 minutes; a failure stops the test naming the README line, the command and its
// output. Comments after # are the shell's. The environment is the test's, with GOBIN
// set to a new empty directory (first on PATH), as a user's `go install` would have it.
//
// A line of the form
//
//	<!-- readme-test: skip REASON -->
//
// (invisible when the README is rendered) just before a block says the block is not
// run, and why: `make test` is CI's own step, and running it here would run this test
// inside itself. And
//
//	<!-- readme-test: server URL -->
//
// before a block says its one command serves URL and does not end by itself: it is
// started in its own process group, must answer GET URL with status 200 (polled until
// it does, the process exits, or 5 minutes pass), and is then killed with its group.
package readmetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// command is one command of a ```sh block.
type command struct {
	line   int    // README line number (1-based) of its first line
	text   string // the command, continuation lines joined
	skip   string // the skip reason, if the block is marked skip
	server string // the URL it serves, if the block is marked server
}

// parse returns the commands of README's ```sh blocks, with the block's directive.
func parse(readme []byte) ([]command, error) {
	var cmds []command
	var skip, server string
	inBlock, sh := false, false
	var cont *command
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if !inBlock {
			if d, ok := strings.CutPrefix(trimmed, "<!-- readme-test:"); ok {
				d = strings.TrimSpace(strings.TrimSuffix(d, "-->"))
				kind, arg, _ := strings.Cut(d, " ")
				switch kind {
				case "skip":
					skip = strings.TrimSpace(arg)
					if skip == "" {
						return nil, fmt.Errorf("README.md:%d: readme-test: skip needs a reason", n)
					}
				case "server":
					server = strings.TrimSpace(arg)
					if !strings.HasPrefix(server, "http://") {
						return nil, fmt.Errorf("README.md:%d: readme-test: server needs an http:// URL, got %q", n, arg)
					}
				default:
					return nil, fmt.Errorf("README.md:%d: unknown readme-test directive %q (want skip REASON or server URL)", n, kind)
				}
				continue
			}
			if strings.HasPrefix(trimmed, "```") {
				inBlock, sh = true, trimmed == "```sh"
				if !sh && (skip != "" || server != "") {
					return nil, fmt.Errorf("README.md:%d: a readme-test directive before a block that is not ```sh", n)
				}
				continue
			}
			if trimmed != "" && (skip != "" || server != "") {
				return nil, fmt.Errorf("README.md:%d: a readme-test directive must come just before its ```sh block", n)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			if cont != nil {
				return nil, fmt.Errorf("README.md:%d: block ends inside a continued command", n)
			}
			inBlock, skip, server = false, "", ""
			continue
		}
		if !sh {
			continue
		}
		if cont != nil {
			cont.text += "\n" + line
		} else {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			cmds = append(cmds, command{line: n, text: line, skip: skip, server: server})
			cont = &cmds[len(cmds)-1]
		}
		if !strings.HasSuffix(trimmed, `\`) {
			cont = nil
		}
	}
	if inBlock {
		return nil, errors.New("README.md: unterminated code block")
	}
	return cmds, sc.Err()
}

func TestParse(t *testing.T) {
	readme := "# x\n```go\nnot run\n```\n```sh\nmake demo   # comment\n\n# only a comment\ngo run . \\\n  -flag\n```\n" +
		"<!-- readme-test: skip CI runs it -->\n```sh\nmake test\n```\n" +
		"<!-- readme-test: server http://localhost:1/ -->\n```sh\nserve\n```\n"
	cmds, err := parse([]byte(readme))
	if err != nil {
		t.Fatal(err)
	}
	want := []command{
		{line: 6, text: "make demo   # comment"},
		{line: 9, text: "go run . \\\n  -flag"},
		{line: 14, text: "make test", skip: "CI runs it"},
		{line: 18, text: "serve", server: "http://localhost:1/"},
	}
	if fmt.Sprint(cmds) != fmt.Sprint(want) {
		t.Errorf("parse:\n got %+v\nwant %+v", cmds, want)
	}
	for _, bad := range []string{
		"<!-- readme-test: skip -->\n```sh\nx\n```\n",
		"<!-- readme-test: serve http://x/ -->\n```sh\nx\n```\n",
		"<!-- readme-test: skip why -->\ntext\n```sh\nx\n```\n",
		"<!-- readme-test: skip why -->\n```go\nx\n```\n",
		"```sh\nx\n",
		"```sh\nx \\\n```\n",
	} {
		if _, err := parse([]byte(bad)); err == nil {
			t.Errorf("parse(%q) accepted it", bad)
		}
	}
}

// TestReadme clones the repository, runs README.md's commands in the clone, then
// installs print-profile from the clone into an empty GOBIN and renders a profile from
// testdata with it: the page must carry the echarts runtime committed in
// web/third_party/echarts.
func TestReadme(t *testing.T) {
	if os.Getenv("CI") == "" && os.Getenv("COROPROF_README_TEST") == "" {
		t.Skip("clones the repository and runs README.md's commands (minutes): set COROPROF_README_TEST=1 (CI does)")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse --show-toplevel: %v", err)
	}
	repo := strings.TrimSpace(string(top))
	tmp := t.TempDir()
	clone := filepath.Join(tmp, "coroprof")
	if out, err := exec.Command("git", "clone", "-q", repo, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone %s: %v\n%s", repo, err, out)
	}
	gobin := filepath.Join(tmp, "bin")
	if err := os.Mkdir(gobin, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOBIN="+gobin, "PATH="+gobin+string(os.PathListSeparator)+os.Getenv("PATH"))

	readme, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := parse(readme)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) == 0 {
		t.Fatal("README.md has no ```sh commands")
	}
	for _, c := range cmds {
		switch {
		case c.skip != "":
			t.Logf("README.md:%d: not run (%s): %s", c.line, c.skip, c.text)
		case c.server != "":
			runServer(t, clone, env, c)
		default:
			run(t, clone, env, c)
		}
	}

	// A fresh clone and Go alone: go install, then render a committed profile.
	install := exec.Command("go", "install", "./cmd/print-profile")
	install.Dir, install.Env = clone, env
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/print-profile in a fresh clone: %v\n%s", err, out)
	}
	page := filepath.Join(tmp, "small.html")
	render := exec.Command(filepath.Join(gobin, "print-profile"), "-o", page, filepath.Join(clone, "testdata", "small.bin"))
	render.Env = env
	if out, err := render.CombinedOutput(); err != nil {
		t.Fatalf("installed print-profile rendering testdata/small.bin: %v\n%s", err, out)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(clone, "web", "third_party", "echarts", "echarts.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, js) {
		t.Errorf("the page the installed print-profile wrote (%d bytes) does not contain the committed echarts runtime (%d bytes)", len(html), len(js))
	}
}

// run runs one command to completion and fails the test unless it exits 0.
func run(t *testing.T, dir string, env []string, c command) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-eo", "pipefail", "-c", c.text)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README.md:%d: %s\nfailed after %v: %v\n%s", c.line, c.text, time.Since(start).Round(time.Millisecond), err, tail(out))
	}
	t.Logf("README.md:%d: ok in %v: %s", c.line, time.Since(start).Round(time.Millisecond), c.text)
}

// runServer starts a serving command, waits until its URL answers 200, and kills it.
func runServer(t *testing.T, dir string, env []string, c command) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command("bash", "-eo", "pipefail", "-c", c.text)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("README.md:%d: %s: %v", c.line, c.text, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			t.Errorf("README.md:%d: the server's process group outlived SIGKILL by a minute", c.line)
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		resp, err := client.Get(c.server)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Logf("README.md:%d: serves %s: %s", c.line, c.server, c.text)
				return
			}
			t.Fatalf("README.md:%d: %s\nGET %s: %s", c.line, c.text, c.server, resp.Status)
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("README.md:%d: %s\nexited (%v) before serving %s:\n%s", c.line, c.text, err, c.server, tail(out.Bytes()))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("README.md:%d: %s\nnot serving %s after 5 minutes (last: %v):\n%s", c.line, c.text, c.server, err, tail(out.Bytes()))
		}
	}
}

// tail returns the last 4000 bytes of a command's output.
func tail(b []byte) []byte {
	if len(b) > 4000 {
		return append([]byte("…"), b[len(b)-4000:]...)
	}
	return b
}

// TestReadmeParses checks, on every run (it is quick), that this tree's README.md follows
// the rules above and has commands to run; TestReadme runs them.
func TestReadmeParses(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := parse(readme)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) == 0 {
		t.Fatal("README.md has no ```sh commands")
	}
}
