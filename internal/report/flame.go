package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// unlabelledFrame stands in a sample stack for the flame graph's root frame of the
// unlabelled samples (UnlabelledFrame); it indexes no function.
const unlabelledFrame = -2

// UnlabelledFrame names the flame-graph frame that holds the samples without a
// coroutine label, so they are never mistaken for a coroutine's stacks.
const UnlabelledFrame = "<unlabelled>"

// MaxStackDepth caps the frames the model keeps of one sample: the leaf-most
// MaxStackDepth, as the Go runtime's own profiler keeps a stack's leaf end. Deeper
// stacks (runaway recursion, or a crafted file) would otherwise cost time and memory
// in proportion to their depth in every view, and nest the flame graph beyond what
// JSON encoders and the page's script accept. Sample counts stay exact; the frames
// cut off count in no function's cumulative figures and no edge, and the flame graph
// shows them as one frame, TruncatedFrame, at the stack's root end.
const MaxStackDepth = 512

// truncatedBase and below encode the flame graph's TruncatedFrame in a sample stack:
// truncatedBase-n stands for n frames cut off. Like unlabelledFrame it indexes no
// function.
const truncatedBase = -3

func truncatedFrame(n int) int32 {
	return int32(truncatedBase - min(n, math.MaxInt32+truncatedBase))
}

// TruncatedFrame names the flame-graph frame that stands for the n root-most frames
// of a stack deeper than MaxStackDepth.
func TruncatedFrame(n int) string { return fmt.Sprintf("<truncated %d frames>", n) }

func (m *Model) frameName(fn int32) string {
	switch {
	case fn == unlabelledFrame:
		return UnlabelledFrame
	case fn <= truncatedBase:
		return TruncatedFrame(int(truncatedBase - fn))
	}
	return m.Functions[fn].Name
}

// flame builds the flame graph of the samples whose coroutine keep accepts. The
// stacks are sorted root first, so equal prefixes are adjacent and the tree grows
// along one path with no child lookups; a frame is finished when the path leaves it,
// and frames under 1/5000 of the root (narrower than a pixel on any screen) are
// dropped then, so a million distinct stacks still make a page of reasonable size.
func (m *Model) flame(keep func(coro uint64) bool, root string) *FlameNode {
	var idx []int32
	for _, i := range m.sortedStacks() {
		if keep(m.stacks[i].coro) {
			idx = append(idx, i)
		}
	}
	return m.flameOf(idx, root)
}

// sortedStacks returns the indices of m.stacks sorted root frame first, computed once:
// any subset of it (one coroutine's stacks) is still sorted.
func (m *Model) sortedStacks() []int32 {
	if m.rootFirst == nil {
		// Sort on a key of the two outermost frames held in one array (cache friendly);
		// only ties look at the stacks themselves.
		type keyed struct {
			key uint64
			idx int32
		}
		ks := make([]keyed, len(m.stacks))
		for i := range m.stacks {
			f := m.stacks[i].funcs
			k := uint64(uint32(f[len(f)-1])) << 32
			if len(f) > 1 {
				k |= uint64(uint32(f[len(f)-2]) + 1)
			}
			ks[i] = keyed{k, int32(i)}
		}
		slices.SortFunc(ks, func(a, b keyed) int {
			if a.key != b.key {
				return cmp.Compare(a.key, b.key)
			}
			x, y := m.stacks[a.idx].funcs, m.stacks[b.idx].funcs
			for i, j := len(x)-1, len(y)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
				if x[i] != y[j] {
					return cmp.Compare(x[i], y[j])
				}
			}
			return cmp.Compare(len(x), len(y))
		})
		m.rootFirst = make([]int32, len(ks))
		for i, k := range ks {
			m.rootFirst[i] = k.idx
		}
	}
	return m.rootFirst
}

// flameOf builds the flame graph of the stacks idx (sorted root first).
func (m *Model) flameOf(idx []int32, root string) *FlameNode {
	var total uint64
	for _, i := range idx {
		total += m.stacks[i].count
	}
	if total == 0 {
		return nil
	}
	minValue := total / 5000
	// An open frame allocates its FlameNode only when it closes wide enough to keep:
	// with a million distinct stacks most frames are pruned and never allocated.
	type open struct {
		fn       int32
		value    uint64
		children []*FlameNode
	}
	top := &FlameNode{Name: root, Value: total}
	path := []open{{fn: -1}}
	closeTo := func(depth int) { // finish frames deeper than depth
		for len(path) > depth+1 {
			o := &path[len(path)-1]
			if o.value > minValue || minValue == 0 {
				parent := &path[len(path)-2]
				parent.children = append(parent.children, &FlameNode{Name: m.frameName(o.fn), Value: o.value, Children: o.children})
			}
			o.children = nil
			path = path[:len(path)-1]
		}
	}
	for _, i := range idx {
		s := &m.stacks[i]
		// depth d of the path holds frame funcs[len-d].
		d := 1
		for ; d < len(path) && d <= len(s.funcs) && path[d].fn == s.funcs[len(s.funcs)-d]; d++ {
		}
		closeTo(d - 1)
		for ; d <= len(s.funcs); d++ {
			path = append(path, open{fn: s.funcs[len(s.funcs)-d]})
		}
		for j := 1; j < len(path); j++ {
			path[j].value += s.count
		}
	}
	closeTo(0)
	top.Children = path[0].children
	var order func(n *FlameNode)
	order = func(n *FlameNode) {
		slices.SortStableFunc(n.Children, func(a, b *FlameNode) int {
			if a.Value != b.Value {
				return cmp.Compare(b.Value, a.Value)
			}
			return cmp.Compare(a.Name, b.Name)
		})
		for _, c := range n.Children {
			order(c)
		}
	}
	order(top)
	return top
}

// FlameOf returns the flame graph of one coroutine's samples (nil if it has none).
func (m *Model) FlameOf(coro uint64) *FlameNode {
	return m.flame(func(c uint64) bool { return c == coro }, m.CoroName(coro))
}

// FlamesOf returns the flame graphs of several coroutines (by id; nil for one without
// samples) in one pass over the samples.
func (m *Model) FlamesOf(coros []uint64) map[uint64]*FlameNode {
	want := make(map[uint64][]int32, len(coros))
	for _, c := range coros {
		want[c] = nil
	}
	for _, i := range m.sortedStacks() {
		c := m.stacks[i].coro
		if l, ok := want[c]; ok {
			want[c] = append(l, i)
		}
	}
	out := make(map[uint64]*FlameNode, len(coros))
	for _, c := range coros {
		out[c] = m.flameOf(want[c], m.CoroName(c))
	}
	return out
}
