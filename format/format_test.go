package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func mustWrite(t testing.TB, p *Profile) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, p); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

// rich is a hand-made profile that uses every field with values that stress the
// encoding: maximal integers, negative signed values, empty and non-ASCII strings,
// slices whose starts go backwards.
func rich() *Profile {
	max64 := ^uint64(0)
	c := Counters{max64, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	p := &Profile{
		Version:  Version,
		Clock:    Clock{Source: "rdtscp", TicksPerSecond: 2_999_999_999, Invariant: true},
		Measured: MeasTicks | MeasCPU | MeasRusage | MeasSamples | MeasRegions | MeasSlices,
		Meta: Meta{
			Program: "prog", Args: []string{"", "ä", "<script>alert(1)</script>"}, Host: "h",
			GOOS: "linux", GOARCH: "arm64", GoVersion: "go1.26.8", CPUModel: "m",
			CPUFeatures: []string{"x"}, PID: -1, WallStart: time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
			Duration: 1<<63 - 1, StartTick: 5, StopTick: max64, SampleRate: 1000,
			Notes: []string{"a CPU profile was already running: no samples"},
		},
		Loops:     []Loop{{ID: -7, Total: c, Main: c, Wait: Counters{}}, {ID: 1 << 62}},
		Funcs:     []Func{{Name: "main.main", File: "/a.go", StartLine: -3}, {}},
		Locations: []Location{{Func: 1, Line: 1 << 40}, {Func: 0, Line: -1}},
		Coroutines: []Coroutine{
			{ID: 1, Loop: -7, Name: "<script>alert(1)</script>", SpawnSite: 2, Exited: true, Panicked: true, Resumes: max64, Counters: c, Runnable: 1, LongestSlice: 2, LongestSite: 1,
				Waits: [NumWaitReasons]WaitStat{1: {1, 2}, 8: {max64, max64}}},
			{ID: max64, ParentID: 1, Loop: 1 << 62, Name: "ü"},
		},
		WaitSites:   []WaitSite{{CoroID: 1, Reason: 8, Site: 2, Count: 3, Ticks: max64}, {CoroID: max64, Reason: 0}},
		Regions:     []Region{{Name: "r", Calls: 1, Self: c, Cumulative: c}, {Name: ""}, {Name: "r", Func: true, File: "/ä.go", Line: -2}, {Name: "main.(*T).M", Calls: max64, Func: true}},
		RegionEdges: []RegionEdge{{Caller: -1, Callee: 1, Calls: 2, Cumulative: c}, {Caller: 1, Callee: 0}, {Caller: 3, Callee: 2, Calls: 1}},
		RegionCoros: []RegionCoro{{CoroID: 1, Region: 0}, {CoroID: max64, Region: 3, Calls: max64, Self: c, Cumulative: c}},
		Samples: []Sample{
			{CoroID: 0, Stack: []LocID{1, 2, 1}, Count: 1, Nanos: 10},
			{CoroID: 0, Stack: nil, Count: 2},
			{CoroID: max64, Stack: []LocID{2}, Count: max64, Nanos: max64},
		},
		Slices: []Slice{
			{CoroID: 1, Loop: -7, Start: max64 - 10, End: max64, State: 2, Reason: 3, Site: 1},
			{CoroID: max64, Loop: 1 << 62, Start: 0, End: 0, State: 3},
			{CoroID: 1, Loop: -7, Start: 100, End: 1 << 63},
		},
		SlicesDropped: 12345,
		LongSlices:    []LongSlice{{CoroID: 1, Loop: -7, Start: max64, Counters: c, State: 2, Reason: 8, Site: 2}},
	}
	p.Sort()
	return p
}

func TestRoundTrip(t *testing.T) {
	cases := map[string]*Profile{
		"rich":      rich(),
		"minimal":   {Version: Version, Clock: Clock{TicksPerSecond: 1}, Measured: MeasTicks, Loops: []Loop{{}}},
		"small":     Synthetic(1, smallOpts),
		"medium":    Synthetic(2, mediumOpts),
		"multiloop": Synthetic(3, multiLoopOpts),
		"ticksonly": Synthetic(4, SynthOptions{Coroutines: 30, Samples: 100, TicksOnly: true}),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			data := mustWrite(t, p)
			q, err := Read(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(p, q) {
				t.Fatalf("round trip differs:\n%s", diff(p, q))
			}
			// And again: a decoded profile encodes to the same bytes.
			if again := mustWrite(t, q); !bytes.Equal(data, again) {
				t.Fatalf("re-encoding a decoded profile changed %d bytes to %d", len(data), len(again))
			}
		})
	}
}

// diff names the first top-level field that differs, for a readable failure.
func diff(a, b *Profile) string {
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	var out []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, fmt.Sprintf("%s:\n  wrote %+v\n  read  %+v", va.Type().Field(i).Name, va.Field(i).Interface(), vb.Field(i).Interface()))
		}
	}
	return strings.Join(out, "\n")
}

// Equal profiles give identical bytes however their order-free lists are ordered,
// and Write does not reorder the caller's slices.
func TestWriteDeterministic(t *testing.T) {
	p := Synthetic(5, mediumOpts)
	want := mustWrite(t, p)
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		q := Synthetic(5, mediumOpts)
		shuffle(r, q.Coroutines)
		shuffle(r, q.WaitSites)
		shuffle(r, q.RegionEdges)
		shuffle(r, q.Samples)
		shuffle(r, q.LongSlices)
		before := slicesCopy(q)
		if got := mustWrite(t, q); !bytes.Equal(got, want) {
			t.Fatal("a shuffled copy of the profile encodes differently")
		}
		if !reflect.DeepEqual(before, slicesCopy(q)) {
			t.Fatal("Write reordered the caller's slices")
		}
	}
	// Write's own work is deterministic too: the string map's iteration order must
	// not leak into the output.
	for range 3 {
		if got := mustWrite(t, p); !bytes.Equal(got, want) {
			t.Fatal("writing the same profile twice gave different bytes")
		}
	}
}

func shuffle[T any](r *rand.Rand, s []T) {
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

func slicesCopy(p *Profile) []any {
	return []any{
		append([]Coroutine(nil), p.Coroutines...), append([]WaitSite(nil), p.WaitSites...),
		append([]RegionEdge(nil), p.RegionEdges...), append([]Sample(nil), p.Samples...),
		append([]LongSlice(nil), p.LongSlices...),
	}
}

func TestWriteRefusesInvalid(t *testing.T) {
	for name, mutate := range invalidMutations {
		t.Run(name, func(t *testing.T) {
			p := Synthetic(9, smallOpts)
			mutate(p)
			var b bytes.Buffer
			err := Write(&b, p)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Write of an invalid profile: %v, want ErrInvalid", err)
			}
			if b.Len() != 0 {
				t.Errorf("Write wrote %d bytes of an invalid profile", b.Len())
			}
		})
	}
}

// invalidMutations each break one rule Validate enforces.
var invalidMutations = map[string]func(p *Profile){
	"no loops":             func(p *Profile) { p.Loops = nil },
	"duplicate loop":       func(p *Profile) { p.Loops = append(p.Loops, p.Loops[0]) },
	"zero tps":             func(p *Profile) { p.Clock.TicksPerSecond = 0 },
	"no ticks measured":    func(p *Profile) { p.Measured = MeasCPU },
	"stop before start":    func(p *Profile) { p.Meta.StopTick = p.Meta.StartTick - 1 },
	"location func":        func(p *Profile) { p.Locations[0].Func = uint32(len(p.Funcs)) },
	"coroutine id 0":       func(p *Profile) { p.Coroutines[0].ID = 0 },
	"duplicate coroutine":  func(p *Profile) { p.Coroutines[1].ID = p.Coroutines[0].ID },
	"coroutine loop":       func(p *Profile) { p.Coroutines[0].Loop = 99 },
	"spawn site":           func(p *Profile) { p.Coroutines[0].SpawnSite = LocID(len(p.Locations) + 1) },
	"wait site coroutine":  func(p *Profile) { p.WaitSites[0].CoroID = 999 },
	"wait site reason":     func(p *Profile) { p.WaitSites[0].Reason = NumWaitReasons },
	"edge caller":          func(p *Profile) { p.RegionEdges[0].Caller = -2 },
	"edge callee":          func(p *Profile) { p.RegionEdges[0].Callee = int32(len(p.Regions)) },
	"sample coroutine":     func(p *Profile) { p.Samples[0].CoroID = 999 },
	"sample frame 0":       func(p *Profile) { p.Samples[0].Stack[0] = 0 },
	"sample frame range":   func(p *Profile) { p.Samples[0].Stack[0] = LocID(len(p.Locations) + 1) },
	"sample count 0":       func(p *Profile) { p.Samples[0].Count = 0 },
	"slice ends early":     func(p *Profile) { p.Slices[0].End = p.Slices[0].Start - 1 },
	"slice state":          func(p *Profile) { p.Slices[0].State = 4 },
	"slice loop":           func(p *Profile) { p.Slices[0].Loop = 42 },
	"long slice coroutine": func(p *Profile) { p.LongSlices[0].CoroID = 1 << 40 },
	"long slice reason":    func(p *Profile) { p.LongSlices[0].Reason = 200 },
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "coro_profile.bin")
	p := Synthetic(6, smallOpts)
	if err := os.WriteFile(path, []byte("the previous profile"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, p); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	q, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("WriteFile/ReadFile round trip differs:\n%s", diff(p, q))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after WriteFile, want only the profile: %v", len(entries), entries)
	}
	// An invalid profile leaves the previous file alone and no temporary behind.
	bad := Synthetic(6, smallOpts)
	bad.Loops = nil
	if err := WriteFile(path, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("WriteFile(invalid) = %v, want ErrInvalid", err)
	}
	if q, err := ReadFile(path); err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("the previous profile did not survive a refused write: %v", err)
	}
	// A directory that does not exist is an error naming the path, not a panic.
	if err := WriteFile(filepath.Join(dir, "no", "such", "p.bin"), p); err == nil || !strings.Contains(err.Error(), "no") {
		t.Errorf("WriteFile into a missing directory: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want ErrNotExist", err)
	}
	// ReadFile names the file in data errors.
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(junk, []byte("hello, world"), 0o600)
	if _, err := ReadFile(junk); err == nil || !strings.Contains(err.Error(), junk) || !errors.Is(err, ErrNotProfile) {
		t.Errorf("ReadFile(junk) = %v, want ErrNotProfile naming %s", err, junk)
	}
}

// sections lists the (kind, offset, end) of every section of a valid file.
type secInfo struct {
	kind       Kind
	start, end int // header start; one past the CRC
}

func sectionsOf(t *testing.T, data []byte) []secInfo {
	t.Helper()
	var out []secInfo
	for off := headerSize; off < len(data); {
		k := Kind(binary.LittleEndian.Uint16(data[off:]))
		n := int(binary.LittleEndian.Uint64(data[off+4:]))
		end := off + sectionHeaderSize + n + crcSize
		out = append(out, secInfo{k, off, end})
		off = end
	}
	return out
}

// mustFail reads data and checks the error: the wanted kind, an *Error, and a
// message that contains each of the wanted substrings.
func mustFail(t *testing.T, data []byte, kind error, contains ...string) *Error {
	t.Helper()
	p, err := Read(bytes.NewReader(data))
	if err == nil {
		t.Fatalf("Read accepted bad input (%d bytes): %+v", len(data), p.Meta)
	}
	if p != nil {
		t.Errorf("Read returned a profile with the error %v", err)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("error %q is not %v", err, kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q (%T) is not an *Error", err, err)
	}
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	return e
}

func TestCorruptHeader(t *testing.T) {
	good := mustWrite(t, Synthetic(1, smallOpts))
	mustFail(t, nil, ErrNotProfile, "empty file")
	mustFail(t, []byte("COR"), ErrNotProfile, "not a coroutine profile")
	mustFail(t, []byte("%PDF-1.7 and some more bytes"), ErrNotProfile, `"%PDF-1.7"`)
	mustFail(t, good[:len(Magic)+2], ErrTruncated, "header")
	for _, v := range []uint32{0, 2, 1 << 31} {
		data := bytes.Clone(good)
		binary.LittleEndian.PutUint32(data[len(Magic):], v)
		e := mustFail(t, data, ErrVersion, fmt.Sprintf("unsupported profile version %d (this reader knows 1)", v))
		if e.Offset != int64(len(Magic)) {
			t.Errorf("version error at offset %d, want %d", e.Offset, len(Magic))
		}
	}
}

// Cutting a file anywhere is detected: at a section boundary by the missing end
// section, inside a section by its length.
func TestTruncated(t *testing.T) {
	good := mustWrite(t, withFuncRegion(Synthetic(1, smallOpts)))
	secs := sectionsOf(t, good)
	if len(secs) != len(writeOrder)+1 || secs[len(secs)-1].kind != KindEnd {
		t.Fatalf("sections %v: want %d ending with the end section", secs, len(writeOrder)+1)
	}
	for _, s := range secs {
		e := mustFail(t, good[:s.start], ErrTruncated, "truncated")
		if e.Offset != int64(s.start) {
			t.Errorf("cut before %v at %d: error at offset %d", s.kind, s.start, e.Offset)
		}
		// Inside the section header: the header is short. Past it: the section's
		// length is, and the error names the section.
		e = mustFail(t, good[:s.start+1], ErrTruncated, "truncated section header")
		if e.Offset != int64(s.start) {
			t.Errorf("cut inside the header of %v: error at offset %d, want %d", s.kind, e.Offset, s.start)
		}
		for _, cut := range []int{s.start + sectionHeaderSize, (s.start + sectionHeaderSize + s.end) / 2, s.end - 1} {
			e := mustFail(t, good[:cut], ErrTruncated, fmt.Sprintf("section %q at offset %d: truncated", s.kind, s.start))
			if e.Section != s.kind.String() {
				t.Errorf("cut at %d inside %v: error names section %q", cut, s.kind, e.Section)
			}
		}
	}
	// Every length, so nothing in between panics or passes.
	for n := range len(good) {
		if _, err := Decode(good[:n]); err == nil {
			t.Fatalf("a file cut to %d of %d bytes was accepted", n, len(good))
		}
	}
	mustFail(t, append(bytes.Clone(good), 0), ErrCorrupt, "trailing data")
}

// Flipping any bit of any section is caught by its checksum, and the error names the
// section.
func TestChecksum(t *testing.T) {
	good := mustWrite(t, Synthetic(1, smallOpts))
	for _, s := range sectionsOf(t, good) {
		for _, at := range []int{s.start, s.start + sectionHeaderSize, (s.start + s.end) / 2, s.end - 1} {
			data := bytes.Clone(good)
			data[at] ^= 0x10
			_, err := Decode(data)
			if err == nil {
				t.Fatalf("a flipped bit at %d in %v was accepted", at, s.kind)
			}
			if at == s.start+4 { // the length: reads as truncation or a checksum error
				continue
			}
			var e *Error
			if !errors.As(err, &e) || e.Offset != int64(s.start) || !errors.Is(err, ErrChecksum) && at >= s.start+sectionHeaderSize {
				t.Errorf("flipped byte %d in %v: %v", at, s.kind, err)
			}
		}
	}
	// Every byte of the file, every bit: never accepted, never a panic.
	for i := range good {
		for bit := range 8 {
			data := bytes.Clone(good)
			data[i] ^= 1 << bit
			if _, err := Decode(data); err == nil {
				t.Fatalf("flipping bit %d of byte %d was accepted", bit, i)
			}
		}
	}
}

// reframe rebuilds a file from section payloads with valid lengths and checksums, so
// tests can reach the decoder and validator behind the framing.
type section struct {
	kind    Kind
	flags   uint16
	payload []byte
}

func splitFile(t *testing.T, data []byte) []section {
	t.Helper()
	var out []section
	for _, s := range sectionsOf(t, data) {
		if s.kind == KindEnd {
			break
		}
		out = append(out, section{s.kind, binary.LittleEndian.Uint16(data[s.start+2:]), data[s.start+sectionHeaderSize : s.end-crcSize]})
	}
	return out
}

func joinFile(secs []section) []byte {
	b := append([]byte(Magic), 1, 0, 0, 0)
	put := func(k Kind, flags uint16, payload []byte) {
		start := len(b)
		b = binary.LittleEndian.AppendUint16(b, uint16(k))
		b = binary.LittleEndian.AppendUint16(b, flags)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(payload)))
		b = append(b, payload...)
		b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
	}
	for _, s := range secs {
		put(s.kind, s.flags, s.payload)
	}
	put(KindEnd, 0, binary.AppendUvarint(nil, uint64(len(secs))))
	return b
}

func TestReframeIdentity(t *testing.T) {
	good := mustWrite(t, Synthetic(1, smallOpts))
	if !bytes.Equal(joinFile(splitFile(t, good)), good) {
		t.Fatal("splitFile/joinFile do not reproduce the file: the framing tests below would test nothing")
	}
}

// withFuncRegion marks p's first region an instrumented function, so that p has
// every section, the optional ones included.
func withFuncRegion(p *Profile) *Profile {
	p.Regions[0].Func, p.Regions[0].File, p.Regions[0].Line = true, "/src/f.go", 12
	p.RegionCoros = []RegionCoro{{CoroID: p.Coroutines[0].ID, Region: 0, Calls: 3, Self: p.Regions[0].Self, Cumulative: p.Regions[0].Cumulative}}
	return p
}

func TestSections(t *testing.T) {
	p := withFuncRegion(Synthetic(1, smallOpts))
	good := mustWrite(t, p)
	secs := splitFile(t, good)
	find := func(k Kind) int {
		for i, s := range secs {
			if s.kind == k {
				return i
			}
		}
		t.Fatalf("no %v section", k)
		return -1
	}
	with := func(f func(s []section) []section) []byte {
		return joinFile(f(append([]section(nil), secs...)))
	}

	// An unknown optional kind is skipped; an unknown required one is refused.
	opt := with(func(s []section) []section {
		return append(s, section{Kind(999), FlagOptional, []byte("future detail")})
	})
	if q, err := Decode(opt); err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("unknown optional section: %v", err)
	}
	req := with(func(s []section) []section { return append(s, section{Kind(999), 0, []byte("future data")}) })
	mustFail(t, req, ErrCorrupt, "unknown required section kind 999", `"kind 999"`)
	mustFail(t, with(func(s []section) []section { s[0].flags = 4; return s }), ErrCorrupt, "unknown section flags 0x4")
	optFlags := with(func(s []section) []section { return append(s, section{Kind(1000), FlagOptional | 6, []byte{1, 2}}) })
	if q, err := Decode(optFlags); err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("unknown optional section with unknown flags: %v", err)
	}
	endFlags := joinFile(secs)
	binary.LittleEndian.PutUint16(endFlags[sectionsOf(t, endFlags)[len(secs)].start+2:], 1)
	mustFail(t, fixChecksums(endFlags), ErrCorrupt, "end section flags 0x1")
	mustFail(t, with(func(s []section) []section { return append(s, s[find(KindSamples)]) }), ErrCorrupt, `second "samples" section`)
	mustFail(t, with(func(s []section) []section { return append(s[:1:1], s[find(KindLoops)]) }), ErrCorrupt, `no "meta" section`)
	mustFail(t, with(func(s []section) []section { return append(s, section{KindInvalid, 0, nil}) }), ErrCorrupt, "kind 0")
	mustFail(t, with(func(s []section) []section { return append(s, section{KindEnd, 0, []byte{0}}) }), ErrCorrupt, "end section counts")

	// Sections may come in any order; absent list sections are empty.
	rev := with(func(s []section) []section {
		for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
			s[i], s[j] = s[j], s[i]
		}
		return s
	})
	if q, err := Decode(rev); err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("sections in reverse order: %v", err)
	}
	noSamples := with(func(s []section) []section { return append(s[:find(KindSamples)], s[find(KindSamples)+1:]...) })
	if q, err := Decode(noSamples); err != nil || len(q.Samples) != 0 {
		t.Errorf("no samples section: %v", err)
	}

	// Payload faults name the section and the offset of the fault.
	replace := func(k Kind, payload []byte) []byte {
		return with(func(s []section) []section { s[find(k)].payload = payload; return s })
	}
	offsetOf := func(data []byte, k Kind) int64 {
		for _, s := range sectionsOf(t, data) {
			if s.kind == k {
				return int64(s.start + sectionHeaderSize)
			}
		}
		return -1
	}
	huge := binary.AppendUvarint(nil, 1e12)
	for _, k := range writeOrder[2:] {
		data := replace(k, huge)
		if k == KindSlices {
			data = replace(k, append([]byte{0}, huge...)) // SlicesDropped first
		}
		e := mustFail(t, data, ErrCorrupt, "count 1000000000000 exceeds", fmt.Sprintf("section %q", k))
		if want := offsetOf(data, k) + map[bool]int64{true: 1}[k == KindSlices]; e.Offset != want {
			t.Errorf("%v: huge count reported at offset %d, want %d", k, e.Offset, want)
		}
	}
	// One coroutine of 20 zero fields, then a varint cut short.
	data := replace(KindCoroutines, append(append([]byte{1}, make([]byte, 20)...), 0x80))
	e := mustFail(t, data, ErrTruncated, `section "coroutines" at offset`, "truncated varint")
	if want := offsetOf(data, KindCoroutines) + 21; e.Offset != want {
		t.Errorf("truncated varint at offset %d, want %d", e.Offset, want)
	}
	mustFail(t, replace(KindLoops, append(bytes.Clone(secs[find(KindLoops)].payload), 7)), ErrCorrupt, "1 unread bytes")
	// A function entry names a region the profile lacks, or goes backwards.
	mustFail(t, replace(KindRegionFuncs, []byte{1, 99, 0, 0}), ErrCorrupt, "region 99 out of range")
	bad := withFuncRegion(Synthetic(1, smallOpts))
	bad.RegionCoros[0].Region = 99
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "region 99 out of range") {
		t.Errorf("a per-coroutine row of a missing region: %v", err)
	}
	bad.RegionCoros[0].Region, bad.RegionCoros[0].CoroID = 0, 1<<60
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "not in the coroutines section") {
		t.Errorf("a per-coroutine row of a missing coroutine: %v", err)
	}
	mustFail(t, replace(KindRegionFuncs, []byte{2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0}), ErrCorrupt, "out of range")
	mustFail(t, replace(KindStrings, []byte{1, 1, 'x'}), ErrCorrupt, "empty string")
	mustFail(t, replace(KindStrings, []byte{2, 0, 200, 1}), nil, `section "strings"`, "claims 200 bytes")
	mustFail(t, replace(KindFuncs, []byte{1, 0xc8, 0x01, 0, 0}), ErrCorrupt, "string index 200 out of range")
	mustFail(t, replace(KindMeta, []byte{0, 1, 2}), ErrCorrupt, "boolean byte 2")
	mustFail(t, replace(KindLocations, []byte{1, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}), ErrCorrupt, "overflows 32 bits")
	mustFail(t, replace(KindLocations, []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0}), ErrCorrupt, "overflows 64 bits")
}

// A validation fault in a file names the section, the record and its offset.
func TestInvalidInFile(t *testing.T) {
	p := Synthetic(1, smallOpts)
	good := mustWrite(t, p)
	secs := splitFile(t, good)
	// Rewrite the locations section so that location 2 (index 1) names a function
	// past the table.
	var e encoder
	e.uvarint(uint64(len(p.Locations)))
	for i, l := range p.Locations {
		if i == 1 {
			l.Func = 1000
		}
		e.uvarint(uint64(l.Func))
		e.varint(l.Line)
	}
	var at int64
	for i := range secs {
		if secs[i].kind == KindLocations {
			secs[i].payload = e.buf
		}
	}
	data := joinFile(secs)
	for _, s := range sectionsOf(t, data) {
		if s.kind == KindLocations {
			first := binary.AppendUvarint(nil, uint64(len(p.Locations)))
			loc0 := binary.AppendVarint(binary.AppendUvarint(nil, uint64(p.Locations[0].Func)), p.Locations[0].Line)
			at = int64(s.start + sectionHeaderSize + len(first) + len(loc0))
		}
	}
	err := mustFail(t, data, ErrInvalid, `section "locations" record 1`, "function 1000 out of range")
	if err.Offset != at {
		t.Errorf("validation error at offset %d, want %d (the record's start)", err.Offset, at)
	}
}

// The minimum record sizes the reader bounds counts with are exact: a record of
// zeros encodes to exactly that many bytes. Too small a minimum would weaken the
// allocation bound; too large would reject valid files.
func TestKindMinRecord(t *testing.T) {
	one := func(k Kind) int {
		e := &encoder{strings: map[string]uint32{"": 0}, table: []string{""}}
		switch k {
		case KindStrings:
			encodeStrings(e, []string{""})
		case KindLoops:
			encodeLoops(e, make([]Loop, 1))
		case KindFuncs:
			encodeFuncs(e, make([]Func, 1))
		case KindLocations:
			encodeLocations(e, make([]Location, 1))
		case KindCoroutines:
			encodeCoroutines(e, []Coroutine{{ID: 1}})
		case KindWaitSites:
			encodeWaitSites(e, make([]WaitSite, 1))
		case KindRegions:
			encodeRegions(e, make([]Region, 1))
		case KindRegionEdges:
			encodeRegionEdges(e, make([]RegionEdge, 1))
		case KindSamples:
			encodeSamples(e, make([]Sample, 1))
		case KindSlices:
			encodeSlices(e, 0, make([]Slice, 1))
			return len(e.buf) - 2 // SlicesDropped and the count
		case KindLongSlices:
			encodeLongSlices(e, make([]LongSlice, 1))
		case KindRegionFuncs:
			encodeRegionFuncs(e, []Region{{Func: true}})
			return len(e.buf) - 1 // the count
		case KindRegionCoros:
			encodeRegionCoros(e, make([]RegionCoro, 1))
		default:
			return -1
		}
		return len(e.buf) - 1 // the count
	}
	for k := KindStrings; k < numKinds; k++ {
		if k == KindMeta {
			continue // not a list
		}
		if got, want := one(k), kindSpecs[k].minRecord; got != want {
			t.Errorf("%v: the smallest record is %d bytes, kindSpecs says %d", k, got, want)
		}
	}
	// Every kind has a distinct name, and names round-trip through String.
	seen := map[string]Kind{}
	for k := range numKinds {
		name := k.String()
		if name == "" || strings.Contains(name, " ") {
			t.Errorf("kind %d has name %q", k, name)
		}
		if o, dup := seen[name]; dup {
			t.Errorf("kinds %d and %d are both %q", o, k, name)
		}
		seen[name] = k
	}
	if writeOrder[0] != KindStrings || len(writeOrder) != int(numKinds)-2 {
		t.Errorf("writeOrder %v: want the string table first and every kind but invalid and end", writeOrder)
	}
}

// Read gets the same profile whatever kind of reader delivers the bytes, including
// readers that return a few bytes at a time and ones whose size hint is wrong.
func TestReadReaders(t *testing.T) {
	p := Synthetic(2, mediumOpts)
	data := mustWrite(t, p)
	path := filepath.Join(t.TempDir(), "p.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	readers := map[string]io.Reader{
		"bytes.Reader":  bytes.NewReader(data),
		"bytes.Buffer":  bytes.NewBuffer(bytes.Clone(data)),
		"os.File":       f,
		"one byte":      iotest.OneByteReader(bytes.NewReader(data)),
		"short hint":    lyingLen{bytes.NewReader(data), 10},
		"long hint":     lyingLen{bytes.NewReader(data), 10 * len(data)},
		"data then err": iotest.DataErrReader(bytes.NewReader(data)),
	}
	for name, r := range readers {
		q, err := Read(r)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Read(iotest.ErrReader(io.ErrUnexpectedEOF)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a failing reader: %v", err)
	}
	if _, err := Read(iotest.TimeoutReader(bytes.NewReader(data))); !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("a reader failing midway: %v", err)
	}
}

type lyingLen struct {
	io.Reader
	n int
}

func (l lyingLen) Len() int { return l.n }

// A count the bytes cannot hold is refused before allocation, and the largest count
// they can hold costs memory in proportion to the file: decoding never allocates more
// than a fixed multiple of its input.
func TestAllocationBound(t *testing.T) {
	p := Synthetic(1, smallOpts)
	secs := splitFile(t, mustWrite(t, p))
	const filler = 1 << 16
	for _, k := range writeOrder[2:] {
		for i := range secs {
			if secs[i].kind != k {
				continue
			}
			orig := secs[i].payload
			// The most records a payload of filler zero bytes could hold: each
			// record of zeros is exactly minRecord bytes, and decodes (zeros are
			// valid varints); validation may then refuse it.
			n := filler / kindSpecs[k].minRecord
			var payload []byte
			if k == KindSlices {
				payload = append(payload, 0)
			}
			payload = binary.AppendUvarint(payload, uint64(n))
			payload = append(payload, make([]byte, filler)...)
			secs[i].payload = payload
			data := joinFile(secs)
			secs[i].payload = orig

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Decode(data)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%v: %d records in %d bytes: allocated %.1f× the input (%v)", k, n, len(data), float64(alloc)/float64(len(data)), err)
			if limit := uint64(32 * len(data)); alloc > limit {
				t.Errorf("%v: decoding %d bytes allocated %d (more than %d): %v", k, len(data), alloc, limit, err)
			}
			// One record more than the bytes can hold is refused outright.
			payload = payload[:0]
			if k == KindSlices {
				payload = append(payload, 0)
			}
			payload = binary.AppendUvarint(payload, uint64(n+1))
			payload = append(payload, make([]byte, filler)...)
			secs[i].payload = payload
			mustFail(t, joinFile(secs), ErrCorrupt, "exceeds what the remaining")
			secs[i].payload = orig
		}
	}
}

// Without a string table every string is "": a file that needs no strings may omit it.
func TestNoStringTable(t *testing.T) {
	p := &Profile{Version: Version, Clock: Clock{TicksPerSecond: 1}, Measured: MeasTicks, Loops: []Loop{{ID: 3}}}
	secs := splitFile(t, mustWrite(t, p))
	if secs[0].kind != KindStrings {
		t.Fatalf("first section %v, want strings", secs[0].kind)
	}
	q, err := Decode(joinFile(secs[1:]))
	if err != nil || !reflect.DeepEqual(p, q) {
		t.Fatalf("without a string table: %v", err)
	}
	// A profile that does need strings cannot lose its table unnoticed.
	secs = splitFile(t, mustWrite(t, Synthetic(1, smallOpts)))
	mustFail(t, joinFile(secs[1:]), ErrCorrupt, `section "meta"`, "string index")
}

// Validate's errors name the section and record, and no offset (there is no file).
func TestValidateMessage(t *testing.T) {
	p := Synthetic(1, smallOpts)
	p.Samples[3].Stack = append(p.Samples[3].Stack, 0)
	err := p.Validate()
	var e *Error
	if !errors.As(err, &e) || e.Section != "samples" || e.Record != 3 || e.Offset != -1 {
		t.Fatalf("Validate: %#v", err)
	}
	want := fmt.Sprintf(`format: section "samples" record 3: frame %d: location 0 out of range (1 to %d)`, len(p.Samples[3].Stack)-1, len(p.Locations))
	if err.Error() != want {
		t.Errorf("Validate: %q\nwant %q", err, want)
	}
}
