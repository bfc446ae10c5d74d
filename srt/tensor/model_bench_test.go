package tensor

import (
	"flag"
	"math"
	"testing"
)

var modelThreads = flag.Int("model-threads", 2, "threads for BenchmarkModel")

// qwenShape is a Qwen2-0.5B-shaped stack of weights: the kernels' share of
// a forward pass (matmuls, attention, norms, RoPE, SwiGLU), without the
// model package, to estimate tokens/s.
type qwenShape struct {
	layers, hidden, heads, kvHeads, headDim, inter, vocab int
}

var qwen05 = qwenShape{24, 896, 14, 2, 64, 4864, 151936}

type qwenLayer struct{ q, k, v, o, gate, up, down *Matrix }

func benchModel(b *testing.B, dt DType, prefill bool) {
	if testing.Short() {
		b.Skip("model-sized benchmark skipped in -short")
	}
	s := qwen05
	layers := make([]qwenLayer, s.layers)
	qd, kd := s.heads*s.headDim, s.kvHeads*s.headDim
	for i := range layers {
		layers[i] = qwenLayer{
			q: benchMatrix(b, dt, qd, s.hidden), k: benchMatrix(b, dt, kd, s.hidden),
			v: benchMatrix(b, dt, kd, s.hidden), o: benchMatrix(b, dt, s.hidden, qd),
			gate: benchMatrix(b, dt, s.inter, s.hidden), up: benchMatrix(b, dt, s.inter, s.hidden),
			down: benchMatrix(b, dt, s.hidden, s.inter),
		}
	}
	head := benchMatrix(b, dt, s.vocab, s.hidden)
	c := NewCPU(Options{Threads: *modelThreads})
	defer c.Close()
	n, ctx := 1, 512
	if prefill {
		n, ctx = 512, 0
	}
	capacity := ctx + n
	rng := newRand(5)
	kc := make([][]float32, s.layers)
	vc := make([][]float32, s.layers)
	for l := range kc {
		kc[l] = randVec(rng, capacity*kd)
		vc[l] = randVec(rng, capacity*kd)
	}
	all := make([]int32, capacity)
	for i := range all {
		all[i] = int32(i)
	}
	slots := make([][]int32, n)
	for i := range slots {
		slots[i] = all[:ctx+i+1]
	}
	x := randVec(rng, n*s.hidden)
	h := make([]float32, n*s.hidden)
	q := make([]float32, n*qd)
	att := make([]float32, n*qd)
	k := make([]float32, n*kd)
	v := make([]float32, n*kd)
	gate := make([]float32, n*s.inter)
	up := make([]float32, n*s.inter)
	logits := make([]float32, s.vocab)
	norm := randVec(rng, s.hidden)
	cos := make([]float32, n*s.headDim/2)
	sin := make([]float32, n*s.headDim/2)
	for i := range cos {
		cos[i], sin[i] = float32(math.Cos(float64(i))), float32(math.Sin(float64(i)))
	}
	p := AttnParams{NHeads: s.heads, NKVHeads: s.kvHeads, HeadDim: s.headDim, Scale: 0.125}
	b.ResetTimer()
	for range b.N {
		for _, L := range layers {
			RMSNorm(h, x, norm, n, 1e-6)
			c.MatMul(q, h, n, L.q)
			c.MatMul(k, h, n, L.k)
			c.MatMul(v, h, n, L.v)
			RoPE(q, n, s.heads, s.headDim, cos, sin, true)
			RoPE(k, n, s.kvHeads, s.headDim, cos, sin, true)
			c.Attention(att, q, kc[0], vc[0], slots, p)
			c.MatMul(h, att, n, L.o)
			Add(x, h)
			RMSNorm(h, x, norm, n, 1e-6)
			c.MatMul(gate, h, n, L.gate)
			c.MatMul(up, h, n, L.up)
			SiLUMul(gate, up)
			c.MatMul(h, gate, n, L.down)
			Add(x, h)
		}
		RMSNorm(h[:s.hidden], x[:s.hidden], norm, 1, 1e-6)
		c.MatMul(logits, h[:s.hidden], 1, head)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}

func BenchmarkModel(b *testing.B) {
	for _, dt := range []DType{F32, F16, Q8_0} {
		b.Run(fmtDType(dt)+"/decode", func(b *testing.B) { benchModel(b, dt, false) })
		b.Run(fmtDType(dt)+"/prefill512", func(b *testing.B) { benchModel(b, dt, true) })
	}
}
