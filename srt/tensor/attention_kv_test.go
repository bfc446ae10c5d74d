package tensor

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// kvLayout names how a test lays out the rows' slot lists.
type kvLayout int

const (
	kvPaged   kvLayout = iota // random subsets of the cache
	kvCausal                  // one sequence's prefill chunk (rows share a backing array)
	kvShared                  // sequences with a common prefix, then their own slots
	kvScatter                 // a common prefix of scattered slots, own contiguous suffixes
)

// kvRows builds n slot lists over a cache of capacity slots.
func kvRows(rng *rand.Rand, layout kvLayout, n, capacity int) [][]int32 {
	rows := make([][]int32, n)
	switch layout {
	case kvPaged:
		perm := rng.Perm(capacity)
		for i := range rows {
			ln := 1 + rng.IntN(capacity)
			for j := 0; j < ln; j++ {
				rows[i] = append(rows[i], int32(perm[(i+j)%capacity]))
			}
		}
	case kvCausal:
		all := make([]int32, capacity)
		for j := range all {
			all[j] = int32(j)
		}
		for i := range rows {
			rows[i] = all[:capacity-n+i+1]
		}
	case kvShared, kvScatter:
		prefix := capacity / 2
		perm := rng.Perm(prefix)
		next := prefix
		for i := range rows {
			for j := 0; j < prefix; j++ {
				s := j
				if layout == kvScatter {
					s = perm[j]
				}
				rows[i] = append(rows[i], int32(s))
			}
			own := min(1+rng.IntN(8), capacity-next)
			for j := 0; j < own; j++ {
				rows[i] = append(rows[i], int32(next))
				next++
			}
		}
	}
	return rows
}

// slotMajor returns the layer's keys and values in Attention's [slot][kd]
// layout (f16 and e5m2 values widened), for the reference.
func slotMajor(l *KVLayer) (k, v []float32) {
	kd := l.KVHeads * l.HeadDim
	k, v = make([]float32, l.Capacity*kd), make([]float32, l.Capacity*kd)
	for s := 0; s < l.Capacity; s++ {
		for g := 0; g < l.KVHeads; g++ {
			l.at(true, g, s, k[s*kd+g*l.HeadDim:][:l.HeadDim])
			l.at(false, g, s, v[s*kd+g*l.HeadDim:][:l.HeadDim])
		}
	}
	return k, v
}

// kvTypes are the KV cache value types.
var kvTypes = []DType{F32, F16, E5M2, E4M3}

func checkAttentionKV(t *testing.T, c *CPU, rng *rand.Rand, n, capacity int, p AttnParams, layout kvLayout, dt DType) {
	t.Helper()
	l := NewKVLayer(capacity, p.NKVHeads, p.HeadDim, dt)
	kd := p.NKVHeads * p.HeadDim
	for s := 0; s < capacity; s++ {
		k := randVec(rng, kd)
		for i := range k {
			k[i] *= 3
		}
		l.Store(s, k, randVec(rng, kd))
	}
	q := randVec(rng, n*p.NHeads*p.HeadDim)
	rows := kvRows(rng, layout, n, capacity)
	got := make([]float32, len(q))
	for i := range got {
		got[i] = float32(math.NaN())
	}
	c.AttentionKV(got, q, l, rows, PlanAttention(rows), p)
	k, v := slotMajor(l)
	want := make([]float32, len(q))
	RefAttention(want, q, k, v, rows, p)
	for i := range got {
		if !closeTo(float64(got[i]), float64(want[i]), 1e-4, 1e-5) {
			t.Fatalf("%s %+v layout %d %v n=%d cap=%d: out[%d] = %g, want %g", c.ISA(), p, layout, dt, n, capacity, i, got[i], want[i])
		}
	}
}

func TestAttentionKV(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	params := []AttnParams{
		{NHeads: 12, NKVHeads: 12, HeadDim: 64, Scale: 0.125},
		{NHeads: 14, NKVHeads: 2, HeadDim: 64, Scale: 0.125},
		{NHeads: 4, NKVHeads: 2, HeadDim: 128, Scale: 0.088},
		{NHeads: 4, NKVHeads: 2, HeadDim: 8, Scale: 0.35},
		{NHeads: 2, NKVHeads: 1, HeadDim: 48, Scale: 0.14},
	}
	for _, isa := range ISAs() {
		c := NewCPU(Options{Threads: 2, ISA: isa})
		for _, p := range params {
			for _, layout := range []kvLayout{kvPaged, kvCausal, kvShared, kvScatter} {
				for _, dt := range kvTypes {
					for _, n := range []int{1, 3, 20} {
						checkAttentionKV(t, c, rng, n, 150, p, layout, dt)
					}
				}
			}
		}
		c.Close()
	}
}

func TestPlanAttention(t *testing.T) {
	all := make([]int32, 100)
	for i := range all {
		all[i] = int32(i)
	}
	other := append([]int32(nil), all[:40]...)
	other = append(other, 500, 501)
	tests := []struct {
		name   string
		rows   [][]int32
		groups [][]int
		shared []int
	}{
		{"causal rows", [][]int32{all[:98], all[:99], all[:100]}, [][]int{{0, 1, 2}}, []int{98}},
		{"shared prompt", [][]int32{all[:60], other}, [][]int{{0, 1}}, []int{40}},
		{"too little in common", [][]int32{all[:10], all[:12]}, [][]int{{0}, {1}}, []int{10, 12}},
		{"different first slot", [][]int32{all[1:50], all[:50]}, [][]int{{0}, {1}}, []int{49, 50}},
		{"short shared part", [][]int32{{1, 2, 3, 4}, {1, 2, 9, 9}}, [][]int{{0}, {1}}, []int{4, 4}},
	}
	for _, tc := range tests {
		p := PlanAttention(tc.rows)
		if len(p.groups) != len(tc.groups) {
			t.Errorf("%s: %d groups, want %d", tc.name, len(p.groups), len(tc.groups))
			continue
		}
		for i, g := range p.groups {
			if len(g.rows) != len(tc.groups[i]) || g.shared != tc.shared[i] {
				t.Errorf("%s: group %d = %v shared %d, want %v shared %d", tc.name, i, g.rows, g.shared, tc.groups[i], tc.shared[i])
			}
		}
	}
	// More rows than a group holds start a new group.
	rows := make([][]int32, maxGroupRows+3)
	for i := range rows {
		rows[i] = all[:50+i]
	}
	if p := PlanAttention(rows); len(p.groups) != 2 || len(p.groups[0].rows) != maxGroupRows {
		t.Errorf("%d rows: groups %+v", len(rows), p.groups)
	}
}

func TestCheckAttentionKV(t *testing.T) {
	l := NewKVLayer(4, 1, 8, F16)
	p := AttnParams{NHeads: 2, NKVHeads: 1, HeadDim: 8, Scale: 0.3}
	q, out := make([]float32, 16), make([]float32, 16)
	if err := CheckAttentionKV(out, q, l, [][]int32{{0, 3}}, p); err != nil {
		t.Fatal(err)
	}
	for name, rows := range map[string][][]int32{"out of range": {{4}}, "negative": {{-1}}, "empty": {{}}} {
		if err := CheckAttentionKV(out, q, l, rows, p); !errors.Is(err, ErrShape) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if err := CheckAttentionKV(out, q, l, [][]int32{{0}}, AttnParams{NHeads: 2, NKVHeads: 2, HeadDim: 8}); !errors.Is(err, ErrShape) {
		t.Errorf("head mismatch: err %v", err)
	}
}

func FuzzAttentionKV(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(2), uint8(1), uint8(63), uint16(20), uint8(0), true)
	f.Add(uint64(2), uint8(1), uint8(1), uint8(1), uint8(127), uint16(3), uint8(2), false)
	cpus := map[string]*CPU{}
	for _, isa := range ISAs() {
		cpus[isa] = NewCPU(Options{Threads: 2, ISA: isa})
	}
	f.Fuzz(func(t *testing.T, seed uint64, n, group, kvh, hd uint8, capacity uint16, layout uint8, f16 bool) {
		dt := F32 // f16 picks F16, E5M2 or E4M3 by seed
		if f16 {
			dt = [3]DType{F16, E5M2, E4M3}[seed%3]
		}
		p := AttnParams{NKVHeads: 1 + int(kvh)%3, HeadDim: 1 + int(hd)%130}
		p.NHeads = p.NKVHeads * (1 + int(group)%4)
		p.Scale = float32(1 / math.Sqrt(float64(p.HeadDim)))
		nn := 1 + int(n)%8
		cp := 2*nn + 16 + int(capacity)%200
		for _, isa := range ISAs() {
			checkAttentionKV(t, cpus[isa], rand.New(rand.NewPCG(seed, 3)), nn, cp, p, kvLayout(layout%4), dt)
		}
	})
}

// fp8 values round-trip, others round to the nearest (ties to even,
// subnormals included), large ones saturate, and the slice encoders
// (AVX-512 where available) agree with the scalar ones.
func TestFP8(t *testing.T) {
	type exact struct{ x, want float32 }
	for _, f := range []struct {
		name  string
		enc   func(float32) uint8
		dec   func(uint8) float32
		slice func([]uint8, []float32)
		top   uint8 // largest finite magnitude byte
		scale float64
		cases []exact
	}{
		{"E5M2", F32ToE5M2, E5M2ToF32, F32ToE5M2Slice, 0x7b, 100, []exact{
			{1.1, 1}, {1.2, 1.25}, {1.125, 1} /* tie: even */, {1.375, 1.5} /* tie: even */, {-3.1, -3},
			{1e6, 57344}, {-1e6, -57344}, {61440, 57344}, {1e-9, 0}, {3e-5, E5M2ToF32(2)} /* subnormal */}},
		{"E4M3", F32ToE4M3, E4M3ToF32, F32ToE4M3Slice, 0x7e, 50, []exact{
			{1, 1}, {1.06, 1}, {1.0625, 1} /* tie: even */, {1.1875, 1.25} /* tie: even */, {-3.1, -3},
			{448, 448}, {1e6, 448}, {-500, -448}, {0.015625, 0.015625} /* 2^-6, smallest normal */, {1e-9, 0},
			{0.005859375, 0.005859375} /* subnormal 3 * 2^-9 */, {0.0029296875, 0.00390625} /* 1.5 * 2^-9: tie, even */}},
	} {
		for b := 0; b < 256; b++ {
			if uint8(b)&0x7f > f.top {
				continue // infinities and NaNs
			}
			x := f.dec(uint8(b))
			if got := f.enc(x); got != uint8(b) && !(x == 0 && got&0x7f == 0) {
				t.Errorf("%s: %#02x = %g encodes to %#02x", f.name, b, x, got)
			}
		}
		for _, tc := range f.cases {
			if got := f.dec(f.enc(tc.x)); got != tc.want {
				t.Errorf("%s(%g) = %g, want %g", f.name, tc.x, got, tc.want)
			}
		}
		rng := rand.New(rand.NewPCG(7, 8))
		src := make([]float32, 4099)
		for i := range src {
			switch i % 4 {
			case 0:
				src[i] = float32(rng.NormFloat64() * f.scale)
			case 1: // halfway between two values
				lo := f.dec(uint8(rng.UintN(uint(f.top))))
				src[i] = lo + (f.dec(f.enc(lo)+1)-lo)/2
			case 2: // f32 subnormals
				src[i] = math.Float32frombits(rng.Uint32() &^ (0xff << 23))
			default:
				src[i] = math.Float32frombits(rng.Uint32())
			}
		}
		got := make([]uint8, len(src))
		f.slice(got, src)
		for i, x := range src {
			if want := f.enc(x); got[i] != want && !math.IsNaN(float64(x)) {
				t.Fatalf("%s: %g (%#08x): got %#02x, want %#02x", f.name, x, math.Float32bits(x), got[i], want)
			}
		}
	}
}

// F32ToF16Slice (F16C where available) rounds exactly like F32ToF16 on
// random bit patterns, specials and halfway cases.
func TestF32ToF16Slice(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	src := make([]float32, 4099)
	for i := range src {
		switch i % 4 {
		case 0:
			src[i] = math.Float32frombits(rng.Uint32())
		case 1:
			src[i] = float32(rng.NormFloat64() * 1000)
		case 2: // exactly halfway between two f16 values
			src[i] = F16ToF32(uint16(rng.UintN(0x7c00))) + math.Float32frombits(0x33000000)
		default:
			src[i] = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 65504, 65520, 1e-8, 6e-8}[i/4%8]
		}
	}
	got := make([]uint16, len(src))
	F32ToF16Slice(got, src)
	for i, f := range src {
		want := F32ToF16(f)
		if got[i] != want && !(math.IsNaN(float64(f)) && F16ToF32(got[i]) != F16ToF32(got[i])) {
			t.Fatalf("%g (%#08x): got %#04x, want %#04x", f, math.Float32bits(f), got[i], want)
		}
	}
}

// BenchmarkAttentionKVDecode: one decode step of 8 sequences (4 pairs sharing
// a 1,000-token prefix, then 100 tokens each) over 12 layers of a large f16
// or e5m2 cache (more than the caches hold), the 110M Llama's head layout;
// reports the key/value bytes read per second.
func BenchmarkAttentionKVDecode(b *testing.B) {
	for _, c := range []struct {
		shared bool
		dt     DType
	}{{true, F16}, {false, F16}, {true, E5M2}, {false, E5M2}, {true, E4M3}} {
		shared, dt := c.shared, c.dt
		b.Run(map[bool]string{true: "shared", false: "separate"}[shared]+"/"+dt.String(), func(b *testing.B) {
			c := NewCPU(Options{Threads: 2})
			defer c.Close()
			p := AttnParams{NHeads: 12, NKVHeads: 12, HeadDim: 64, Scale: 0.125}
			const capacity = 1 << 16
			layers := make([]*KVLayer, 12)
			for i := range layers {
				layers[i] = NewKVLayer(capacity, p.NKVHeads, p.HeadDim, dt)
			}
			rows := make([][]int32, 8)
			next := int32(0)
			for i := range rows {
				if !shared || i%2 == 0 {
					next += 2000
				}
				base := next
				for j := int32(0); j < 1000; j++ {
					rows[i] = append(rows[i], base+j)
				}
				for j := int32(0); j < 100; j++ {
					rows[i] = append(rows[i], 40000+int32(i)*200+j)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			kv := randVec(rng, p.NKVHeads*p.HeadDim)
			for _, l := range layers { // untouched pages would all read the zero page
				for _, r := range rows {
					for _, s := range r {
						l.Store(int(s), kv, kv)
					}
				}
			}
			q := make([]float32, 8*p.NHeads*p.HeadDim)
			out := make([]float32, len(q))
			plan := PlanAttention(rows)
			read := 0
			for _, g := range plan.groups {
				read += g.shared
				for _, r := range g.rows {
					read += len(rows[r]) - g.shared
				}
			}
			b.SetBytes(int64(len(layers) * read * p.NKVHeads * p.HeadDim * 2 * dt.BlockBytes()))
			for b.Loop() {
				for _, l := range layers {
					c.AttentionKV(out, q, l, rows, plan, p)
				}
			}
		})
	}
}
