package tensor

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// attnCase builds a random cache of capacity slots and n query rows whose
// slot lists are random subsets (paged layout) or causal prefixes.
func checkAttention(t *testing.T, c *CPU, rng *rand.Rand, n, capacity int, p AttnParams, causal bool) {
	t.Helper()
	kd := p.NKVHeads * p.HeadDim
	k := randVec(rng, capacity*kd)
	v := randVec(rng, capacity*kd)
	for i := range k {
		k[i] *= 3
	}
	q := randVec(rng, n*p.NHeads*p.HeadDim)
	slots := make([][]int32, n)
	perm := rng.Perm(capacity)
	for i := range slots {
		ln := 1 + rng.IntN(capacity)
		if causal {
			ln = capacity - n + i + 1
		}
		for j := 0; j < ln; j++ {
			s := j
			if !causal {
				s = perm[(i+j)%capacity]
			}
			slots[i] = append(slots[i], int32(s))
		}
	}
	got := make([]float32, len(q))
	for i := range got {
		got[i] = float32(math.NaN())
	}
	c.Attention(got, q, k, v, slots, p)
	want := make([]float32, len(q))
	RefAttention(want, q, k, v, slots, p)
	for i := range got {
		if !closeTo(float64(got[i]), float64(want[i]), 1e-4, 1e-5) {
			t.Fatalf("%s %+v n=%d cap=%d: out[%d] = %g, want %g", c.ISA(), p, n, capacity, i, got[i], want[i])
		}
	}
}

func TestAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	params := []AttnParams{
		{NHeads: 1, NKVHeads: 1, HeadDim: 16, Scale: 0.25},
		{NHeads: 4, NKVHeads: 2, HeadDim: 8, Scale: 0.35},
		{NHeads: 14, NKVHeads: 2, HeadDim: 64, Scale: 0.125},
		{NHeads: 6, NKVHeads: 6, HeadDim: 48, Scale: 0.14},
		{NHeads: 2, NKVHeads: 1, HeadDim: 144, Scale: 0.08},
		{NHeads: 3, NKVHeads: 1, HeadDim: 33, Scale: 0.2},
	}
	for _, isa := range ISAs() {
		c := NewCPU(Options{Threads: 2, ISA: isa})
		for _, p := range params {
			for _, sh := range []struct {
				n, capacity int
				causal      bool
			}{{1, 1, true}, {1, 37, true}, {5, 5, true}, {7, 40, false}, {3, 300, true}} {
				t.Run(fmt.Sprintf("%s/h%d_%d_d%d/n%d_c%d", isa, p.NHeads, p.NKVHeads, p.HeadDim, sh.n, sh.capacity), func(t *testing.T) {
					checkAttention(t, c, rng, sh.n, sh.capacity, p, sh.causal)
				})
			}
		}
		c.Close()
	}
}

// Hand cases: one slot returns its V row; identical keys average the V rows.
func TestAttentionHand(t *testing.T) {
	c := NewCPU(Options{Threads: 2})
	defer c.Close()
	p := AttnParams{NHeads: 2, NKVHeads: 1, HeadDim: 16, Scale: 1}
	k := make([]float32, 3*16)
	v := make([]float32, 3*16)
	for i := range v {
		v[i] = float32(i)
	}
	q := randVec(rand.New(rand.NewPCG(1, 1)), 2*2*16)
	out := make([]float32, len(q))
	c.Attention(out, q, k, v, [][]int32{{2}, {0, 1, 2}}, p)
	for h := 0; h < 2; h++ {
		for d := 0; d < 16; d++ {
			if got, want := out[h*16+d], v[32+d]; got != want {
				t.Fatalf("single slot: head %d [%d] = %g, want %g", h, d, got, want)
			}
			if got, want := out[32+h*16+d], (v[d]+v[16+d]+v[32+d])/3; !closeTo(float64(got), float64(want), 1e-6, 0) {
				t.Fatalf("equal keys: head %d [%d] = %g, want %g", h, d, got, want)
			}
		}
	}
	if err := CheckAttention(out, q, k, v, [][]int32{{3}}, p); !errors.Is(err, ErrShape) {
		t.Fatal("CheckAttention accepted an out-of-range slot")
	}
	if err := CheckAttention(out, q, k, v, [][]int32{{}}, p); !errors.Is(err, ErrShape) {
		t.Fatal("CheckAttention accepted an empty row")
	}
}

func FuzzAttention(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(2), uint8(1), uint8(16), uint16(20), false)
	f.Add(uint64(2), uint8(1), uint8(1), uint8(1), uint8(5), uint16(3), true)
	cpus := map[string]*CPU{}
	for _, isa := range ISAs() {
		cpus[isa] = NewCPU(Options{Threads: 2, ISA: isa})
	}
	f.Fuzz(func(t *testing.T, seed uint64, n, group, kvh, hd uint8, capacity uint16, causal bool) {
		p := AttnParams{NKVHeads: 1 + int(kvh)%3, HeadDim: 1 + int(hd)%80}
		p.NHeads = p.NKVHeads * (1 + int(group)%4)
		p.Scale = float32(1 / math.Sqrt(float64(p.HeadDim)))
		nn := 1 + int(n)%8
		cp := nn + int(capacity)%200
		for _, isa := range ISAs() {
			checkAttention(t, cpus[isa], rand.New(rand.NewPCG(seed, 3)), nn, cp, p, causal)
		}
	})
}
