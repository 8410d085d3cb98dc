package report

import (
	"bytes"
	"os"
	"testing"
)

func TestDumpPage(t *testing.T) {
	out := os.Getenv("REPORT_DUMP")
	if out == "" {
		t.Skip("REPORT_DUMP not set")
	}
	p := handProfile()
	p.Coroutines[0].Name = "<script>alert(1)</script>"
	var b bytes.Buffer
	if err := WriteHTML(&b, mustBuild(t, p), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(out, b.Bytes(), 0o644)
}
