package tensor

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// AttnParams describes the head layout of an attention call.
type AttnParams struct {
	NHeads, NKVHeads, HeadDim int
	Scale                     float32 // usually 1/sqrt(HeadDim)
}

// CheckAttention reports whether Attention(out, q, k, v, slots, p) has
// consistent shapes and in-range slots.
func CheckAttention(out, q, k, v []float32, slots [][]int32, p AttnParams) error {
	if p.NHeads <= 0 || p.NKVHeads <= 0 || p.HeadDim <= 0 || p.NHeads%p.NKVHeads != 0 {
		return fmt.Errorf("tensor: attention: %w: bad heads %d/%d of dim %d", ErrShape, p.NHeads, p.NKVHeads, p.HeadDim)
	}
	n := len(slots)
	qd := p.NHeads * p.HeadDim
	kd := p.NKVHeads * p.HeadDim
	if len(q) < n*qd || len(out) < n*qd {
		return fmt.Errorf("tensor: attention: %w: %d rows need q and out of %d values, have %d and %d", ErrShape, n, n*qd, len(q), len(out))
	}
	if len(k) != len(v) || len(k)%kd != 0 {
		return fmt.Errorf("tensor: attention: %w: k and v must be [capacity][%d], have %d and %d values", ErrShape, kd, len(k), len(v))
	}
	capacity := len(k) / kd
	for i, row := range slots {
		if len(row) == 0 {
			return fmt.Errorf("tensor: attention: %w: row %d has no slots", ErrShape, i)
		}
		for _, s := range row {
			if s < 0 || int(s) >= capacity {
				return fmt.Errorf("tensor: attention: %w: row %d: slot %d out of range [0, %d)", ErrShape, i, s, capacity)
			}
		}
	}
	return nil
}

type attnJob struct {
	out, q, k, v []float32
	slots        [][]int32
	p            AttnParams
	chunks       int // head chunks per (row, kv head)
	ntasks       int
	step         int
	next         atomic.Int64
}

// Attention computes, for every query row i (q row length NHeads*HeadDim)
// and head h (KV head h/(NHeads/NKVHeads)):
//
//	out_i,h = softmax_j(Scale * q_i,h · K[slots[i][j]]) · V[slots[i][j]]
//
// with k and v laid out [capacity][NKVHeads*HeadDim]. slots[i] lists the
// cache slots row i attends to (its causal prefix, itself included). Work is
// split over rows×heads. It panics on bad shapes (see CheckAttention).
func (c *CPU) Attention(out, q, k, v []float32, slots [][]int32, p AttnParams) {
	if err := CheckAttention(out, q, k, v, slots, p); err != nil {
		panic(err.Error())
	}
	j := &c.at
	j.out, j.q, j.k, j.v, j.slots, j.p = out, q, k, v, slots, p
	// A task is (row, kv head, chunk of that kv head's query heads): the
	// query heads sharing a kv head are scored together, so each K row is
	// read once for all of them.
	group := p.NHeads / p.NKVHeads
	j.chunks = (group + c.k.mr - 1) / c.k.mr
	j.ntasks = len(slots) * p.NKVHeads * j.chunks
	j.step = max(1, j.ntasks/(8*c.threads))
	j.next.Store(0)
	if j.ntasks <= 1 || c.threads == 1 {
		c.attnWorker(0)
	} else {
		c.run(c.atTask)
	}
	j.out, j.q, j.k, j.v, j.slots = nil, nil, nil, nil, nil
}

func (c *CPU) attnWorker(wk int) {
	j := &c.at
	p := j.p
	hd := p.HeadDim
	group := p.NHeads / p.NKVHeads
	kd := p.NKVHeads * hd
	sc := &c.scratch[wk]
	for {
		t0 := int(j.next.Add(int64(j.step))) - j.step
		if t0 >= j.ntasks {
			return
		}
		for t := t0; t < min(t0+j.step, j.ntasks); t++ {
			ch := t % j.chunks
			g := t / j.chunks % p.NKVHeads
			i := t / j.chunks / p.NKVHeads
			h0 := p.NHeads/p.NKVHeads*g + group*ch/j.chunks
			h1 := p.NHeads/p.NKVHeads*g + group*(ch+1)/j.chunks
			c.attnTask(sc, i, g, h0, h1, hd, kd)
		}
	}
}

// attnTask computes the outputs of query heads [h0, h1) of row i, which
// share kv head g.
func (c *CPU) attnTask(sc *workerScratch, i, g, h0, h1, hd, kd int) {
	j := &c.at
	p := j.p
	row := j.slots[i]
	L := len(row)
	m := h1 - h0
	sc.s = growF(sc.s, m*L)
	s := sc.s
	q := j.q[(i*p.NHeads+h0)*hd:]
	// Scores: runs of consecutive slots are contiguous K rows, scored by
	// the matmul tile (m query heads × up to 4 K rows per call).
	for a := 0; a < L; {
		s0 := int(row[a])
		b := a + 1
		for b < L && b-a < 4 && int(row[b]) == s0+b-a {
			b++
		}
		c.k.f32(hd, &q[0], hd, m, unsafe.Pointer(&j.k[s0*kd+g*hd]), kd*4, b-a, &s[a], L, false)
		a = b
	}
	for h := 0; h < m; h++ {
		sh := s[h*L : (h+1)*L]
		if p.Scale > 0 {
			c.k.softmax(sh, p.Scale)
		} else {
			for t := range sh {
				sh[t] *= p.Scale
			}
			softmaxGo(sh, 1)
		}
		o := j.out[(i*p.NHeads+h0+h)*hd:][:hd]
		clear(o)
		c.k.accum(o, j.v[g*hd:], kd, row, sh, hd)
	}
}
