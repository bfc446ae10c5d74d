package tensor

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestForCoversRange(t *testing.T) {
	for _, tc := range []struct {
		threads int
		spin    time.Duration
	}{{1, 0}, {2, 0}, {3, -1}, {4, time.Microsecond}} {
		c := NewCPU(Options{Threads: tc.threads, Spin: tc.spin})
		if c.Threads() != tc.threads {
			t.Fatalf("Threads() = %d, want %d", c.Threads(), tc.threads)
		}
		for rep := 0; rep < 300; rep++ {
			n := rep % 37
			hits := make([]atomic.Int32, n)
			c.For(n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[i].Add(1)
				}
			})
			for i := range hits {
				if h := hits[i].Load(); h != 1 {
					t.Fatalf("threads=%d n=%d: index %d visited %d times", tc.threads, n, i, h)
				}
			}
			if rep%100 == 99 {
				time.Sleep(2 * time.Millisecond) // let workers park
			}
		}
		c.Close()
		c.Close() // idempotent
	}
}

func TestISASelection(t *testing.T) {
	for _, isa := range ISAs() {
		c := NewCPU(Options{Threads: 1, ISA: isa})
		if c.ISA() != isa {
			t.Errorf("NewCPU(ISA %q).ISA() = %q", isa, c.ISA())
		}
		c.Close()
	}
	c := NewCPU(Options{Threads: 1})
	if c.ISA() != ISAs()[0] {
		t.Errorf("auto ISA = %q, want the best %q", c.ISA(), ISAs()[0])
	}
	c.Close()
}

// Steady-state MatMul and Attention calls do not allocate.
func TestNoAllocs(t *testing.T) {
	c := NewCPU(Options{Threads: 2})
	defer c.Close()
	rng := newRand(1)
	for _, dt := range allTypes {
		for _, n := range []int{1, 3, 20} {
			w := randMatrix(t, rng, dt, 40, 64)
			x := randVec(rng, n*64)
			out := make([]float32, n*40)
			c.MatMul(out, x, n, w)
			if a := testing.AllocsPerRun(20, func() { c.MatMul(out, x, n, w) }); a != 0 {
				t.Errorf("%v n=%d: %v allocs per MatMul", dt, n, a)
			}
		}
	}
	p := AttnParams{NHeads: 4, NKVHeads: 2, HeadDim: 32, Scale: 0.2}
	k := randVec(rng, 10*64)
	v := randVec(rng, 10*64)
	q := randVec(rng, 3*128)
	out := make([]float32, len(q))
	slots := [][]int32{{0, 1}, {0, 1, 2}, {5, 6, 7, 8}}
	c.Attention(out, q, k, v, slots, p)
	if a := testing.AllocsPerRun(20, func() { c.Attention(out, q, k, v, slots, p) }); a != 0 {
		t.Errorf("%v allocs per Attention", a)
	}
}
