package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/synth"
)

// TestWriteEveryFormat: the switch writes every format it lists, of a model and of a
// comparison, and refuses an unknown format, or an empty input, with one error naming
// what is wrong.
func TestWriteEveryFormat(t *testing.T) {
	m := mustBuild(t, synth.Hand()).Model
	c, err := report.CompareProfiles("new.bin", synth.Hand(), "old.bin", synth.Hand())
	if err != nil {
		t.Fatal(err)
	}
	o := Options{HTML: HTMLOptions{Echarts: "/**/"}}
	starts := map[string]string{HTML: "<!DOCTYPE html>", JSON: "{", Text: "", Pprof: "\x1f\x8b"} // pprof: gzip
	for _, name := range Formats() {
		want, ok := starts[name]
		if !ok {
			t.Errorf("format %q has no check here", name)
		}
		for _, in := range []Input{{Model: m}, {Comparison: c}} {
			var b bytes.Buffer
			if err := Write(&b, name, in, o); err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if b.Len() == 0 || !strings.HasPrefix(b.String(), want) {
				t.Errorf("%s: output starts %q, want %q", name, b.String()[:min(b.Len(), 20)], want)
			}
		}
	}
	var b bytes.Buffer
	if err := Write(&b, Pprof, Input{Profile: synth.Hand()}, o); err != nil || b.Len() == 0 {
		t.Errorf("pprof of a profile alone: %v, %d bytes", err, b.Len())
	}
	if err := Write(&b, "svg", Input{Model: m}, o); err == nil || !strings.Contains(err.Error(), `"svg"`) {
		t.Errorf("unknown format: %v", err)
	}
	if err := Write(&b, HTML, Input{Profile: synth.Hand()}, o); err == nil || !strings.Contains(err.Error(), "nothing to render") {
		t.Errorf("HTML of a profile without a model: %v", err)
	}
}
