package format_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/coroprof/coroprof/format"
)

func Example() {
	p, err := format.ReadFile("../testdata/small.bin")
	if err != nil {
		fmt.Println(err)
		return
	}
	var file bytes.Buffer
	if err := format.Write(&file, p); err != nil {
		fmt.Println(err)
		return
	}
	q, err := format.Read(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.Version, len(q.Coroutines), q.Coroutines[2].Name, len(q.Samples))
	// Output: 1 5 <script>alert(1)</script> 20
}

func ExampleRead_errors() {
	_, err := format.Read(bytes.NewReader([]byte("COROPRF\x00\x07\x00\x00\x00")))
	fmt.Println(err)
	fmt.Println(errors.Is(err, format.ErrVersion))
	// Output:
	// format: at offset 8: unsupported profile version 7 (this reader knows 1)
	// true
}

// The counters, wait reasons and states are exported, so a reader outside the module
// indexes a profile's figures by name.
func Example_counters() {
	p, err := format.ReadFile("../testdata/small.bin")
	if err != nil {
		fmt.Println(err)
		return
	}
	l := p.Loops[0]
	sum := l.Main[format.Ticks] + l.Wait[format.Ticks]
	var reads uint64
	for _, c := range p.Coroutines {
		sum += c.Counters[format.Ticks]
		reads += c.Waits[format.WaitRead].Count
	}
	waiting := 0
	for _, s := range p.Slices {
		if format.State(s.State) == format.StateWaiting {
			waiting++
		}
	}
	fmt.Println(format.Ticks, format.CPU, format.Nivcsw, sum == l.Total[format.Ticks])
	fmt.Println(format.WaitRead, reads, format.StateWaiting, waiting)
	// Output:
	// ticks cpu nivcsw true
	// read 2749 waiting 10
}
