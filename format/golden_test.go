package format

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden profiles in ../testdata from Synthetic")

// The golden files pin the byte layout: a change to the encoder that changes any
// byte fails here, and must be deliberate (then run with -update, and think about
// Version). They also serve print-profile's tests as fixed inputs.
func TestGolden(t *testing.T) {
	for _, g := range GoldenFiles {
		t.Run(g.Name, func(t *testing.T) {
			path := filepath.Join("..", "testdata", g.Name)
			p := Synthetic(g.Seed, g.Options)
			want := mustWrite(t, p)
			if *update {
				if err := WriteFile(path, p); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./format -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from Write(Synthetic(%d, %+v)): %d bytes, want %d", path, g.Seed, g.Options, len(got), len(want))
			}
			q, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, q) {
				t.Errorf("%s does not read back as Synthetic(%d):\n%s", path, g.Seed, diff(p, q))
			}
			checkSynthetic(t, q, g.Options)
		})
	}
}
