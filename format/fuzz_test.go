package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzReader feeds Decode arbitrary bytes. It must never panic; when it accepts the
// input, the profile must be valid, Write must accept it, and the result must read
// back equal (after the canonical sort, since a crafted file need not be sorted).
// The seed corpus is in testdata/fuzz/FuzzReader (rewrite it with -update); inputs
// the fuzzer found failing are kept there too.
func FuzzReader(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		// Most mutations only break a checksum, which the raw layer catches before
		// any decoder runs. Repairing the checksums lets the fuzzer reach the
		// decoders and the validator with the same mutation.
		if fixed := fixChecksums(data); !bytes.Equal(fixed, data) {
			checkDecode(t, fixed)
		}
	})
}

// fixChecksums returns a copy of data with every section's CRC recomputed, as far as
// the framing can be followed.
func fixChecksums(data []byte) []byte {
	data = bytes.Clone(data)
	for off := headerSize; off+sectionHeaderSize <= len(data); {
		n := binary.LittleEndian.Uint64(data[off+4:])
		if n > uint64(len(data)-off-sectionHeaderSize) {
			break
		}
		end := off + sectionHeaderSize + int(n)
		if end+crcSize > len(data) {
			break
		}
		binary.LittleEndian.PutUint32(data[end:], crc32.Checksum(data[off:end], castagnoli))
		off = end + crcSize
	}
	return data
}

func checkDecode(t *testing.T, data []byte) {
	p, err := Decode(data)
	if err != nil {
		if p != nil {
			t.Fatalf("Decode returned a profile and the error %v", err)
		}
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error %v is %T, not *Error", err, err)
		}
		return
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("Decode accepted an invalid profile: %v", err)
	}
	var b bytes.Buffer
	if err := Write(&b, p); err != nil {
		t.Fatalf("Write refused a profile Decode accepted: %v", err)
	}
	q, err := Decode(b.Bytes())
	if err != nil {
		t.Fatalf("Decode refused what Write wrote: %v", err)
	}
	p.Sort()
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("re-encoding changed the profile:\n%s", diff(p, q))
	}
}

type fuzzSeed struct {
	name string
	data []byte
}

// fuzzSeeds are valid files of several shapes and a few near misses, so the fuzzer
// starts from inputs that pass the framing and reach the decoders.
func fuzzSeeds(t testing.TB) []fuzzSeed {
	small := mustWrite(t, Synthetic(1, GoldenFiles[0].Options))
	minimal := mustWrite(t, &Profile{Version: Version, Clock: Clock{TicksPerSecond: 1}, Measured: MeasTicks, Loops: []Loop{{}}})
	small = small[:len(small):len(small)] // appends below copy
	flipped := bytes.Clone(small)
	flipped[len(flipped)/2] ^= 1
	return []fuzzSeed{
		{"minimal", minimal},
		{"small", small},
		{"multiloop", mustWrite(t, Synthetic(3, SynthOptions{Loops: 2, Coroutines: 3, Samples: 4, Slices: 5, LongSlices: 1, Regions: 2, Funcs: 3}))},
		{"ticksonly", mustWrite(t, Synthetic(4, SynthOptions{Coroutines: 2, Samples: 3, TicksOnly: true, Funcs: 2}))},
		{"rich", mustWrite(t, rich())},
		{"truncated", small[:len(small)/2]},
		{"flipped", flipped},
		{"header", small[:headerSize]},
		{"empty", nil},
		{"huge-length", hugeLength()},     // a section declaring 2^62 bytes: refused unread
		{"trailing", append(small, 0, 0)}, // data after the end section
	}
}

// TestFuzzCorpus rewrites the seed corpus with -update; without it, it checks the
// corpus holds the current seeds, so a format change cannot leave the fuzzer
// starting from files the reader rejects at the first byte.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	for _, s := range fuzzSeeds(t) {
		path := filepath.Join(dir, "seed-"+s.name)
		content := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", s.data)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./format -run TestFuzzCorpus -update writes it)", err)
		}
		if !bytes.Equal(got, content) {
			t.Errorf("%s is stale: run go test ./format -run TestFuzzCorpus -update", path)
		}
	}
}

// TestMutations is a deterministic complement to the fuzzer: thousands of random
// edits of valid files, checksums repaired, each through checkDecode. It also shows
// the edits reach every layer (decoding and validation faults both occur), which a
// fuzzer stuck at the checksums would not.
func TestMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	kinds := map[error]int{}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	seeds := fuzzSeeds(t)[:5] // the valid ones
	for i := range n {
		data := bytes.Clone(seeds[i%len(seeds)].data)
		for range 1 + r.IntN(3) {
			if len(data) <= headerSize {
				break
			}
			at := headerSize + r.IntN(len(data)-headerSize)
			switch r.IntN(4) {
			case 0:
				data[at] ^= byte(1 << r.IntN(8))
			case 1:
				data[at] = byte(r.IntN(256))
			case 2:
				data[at] = 0xff // long varints and big values
			case 3:
				data[at] = 0
			}
		}
		data = fixChecksums(data)
		checkDecode(t, data)
		_, err := Decode(data)
		for _, k := range []error{ErrTruncated, ErrCorrupt, ErrInvalid, ErrChecksum, nil} {
			if errors.Is(err, k) {
				kinds[k]++
				break
			}
		}
	}
	t.Logf("outcomes: %v", kinds)
	if kinds[ErrCorrupt] == 0 || kinds[ErrInvalid] == 0 || kinds[nil] == 0 {
		t.Errorf("mutations did not reach every layer: %v", kinds)
	}
}

// hugeLength is a header and a section header declaring 2^62 bytes, and nothing else.
func hugeLength() []byte {
	b := binary.LittleEndian.AppendUint32([]byte(Magic), Version)
	b = binary.LittleEndian.AppendUint16(b, uint16(KindStrings))
	b = binary.LittleEndian.AppendUint16(b, 0)
	return binary.LittleEndian.AppendUint64(b, 1<<62)
}
