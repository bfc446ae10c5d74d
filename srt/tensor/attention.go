package tensor

import (
	"fmt"
	"sync/atomic"
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
		return fmt.Errorf("tensor: attention: bad heads %d/%d of dim %d", p.NHeads, p.NKVHeads, p.HeadDim)
	}
	n := len(slots)
	qd := p.NHeads * p.HeadDim
	kd := p.NKVHeads * p.HeadDim
	if len(q) < n*qd || len(out) < n*qd {
		return fmt.Errorf("tensor: attention: %d rows need q and out of %d values, have %d and %d", n, n*qd, len(q), len(out))
	}
	if len(k) != len(v) || len(k)%kd != 0 {
		return fmt.Errorf("tensor: attention: k and v must be [capacity][%d], have %d and %d values", kd, len(k), len(v))
	}
	capacity := len(k) / kd
	for i, row := range slots {
		if len(row) == 0 {
			return fmt.Errorf("tensor: attention: row %d has no slots", i)
		}
		for _, s := range row {
			if s < 0 || int(s) >= capacity {
				return fmt.Errorf("tensor: attention: row %d: slot %d out of range [0, %d)", i, s, capacity)
			}
		}
	}
	return nil
}

type attnJob struct {
	out, q, k, v []float32
	slots        [][]int32
	p            AttnParams
	ntasks       int
	chunk        int
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
	j.ntasks = len(slots) * p.NHeads
	j.chunk = max(1, j.ntasks/(8*c.threads))
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
		t0 := int(j.next.Add(int64(j.chunk))) - j.chunk
		if t0 >= j.ntasks {
			return
		}
		for t := t0; t < min(t0+j.chunk, j.ntasks); t++ {
			i, h := t/p.NHeads, t%p.NHeads
			row := j.slots[i]
			kvh := h / group
			sc.s = growF(sc.s, len(row))
			s := sc.s
			qo := (i*p.NHeads + h) * hd
			c.k.scores(s, j.q[qo:qo+hd], j.k[kvh*hd:], kd, row, hd, p.Scale)
			Softmax(s)
			o := j.out[qo : qo+hd]
			clear(o)
			c.k.accum(o, j.v[kvh*hd:], kd, row, s, hd)
		}
	}
}
