package tensor

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
)

var benchISA = flag.String("isa", "", "kernel set for BenchmarkMatMul/BenchmarkAttention (\"\" = best)")

// benchMatrix builds a large random matrix fast (values quantized block by
// block from a small pool of random rows).
func benchMatrix(b *testing.B, t DType, rows, cols int) *Matrix {
	rng := rand.New(rand.NewPCG(9, 9))
	pool := make([]byte, 64*t.RowBytes(cols))
	if err := Quantize(pool, randVec(rng, 64*cols), t); err != nil {
		b.Fatal(err)
	}
	rb := t.RowBytes(cols)
	data := make([]byte, rows*rb)
	for r := 0; r < rows; r++ {
		k := rng.IntN(64)
		copy(data[r*rb:(r+1)*rb], pool[k*rb:(k+1)*rb])
	}
	return &Matrix{DType: t, Rows: rows, Cols: cols, Data: data}
}

func BenchmarkMatMul(b *testing.B) {
	c := NewCPU(Options{Threads: 2, ISA: *benchISA})
	defer c.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := []struct{ r, k int }{{4864, 896}, {896, 4864}, {151936, 896}}
	for _, dt := range []DType{F32, F16, BF16, Q8_0, Q4_0} {
		b.Run(fmtDType(dt), func(b *testing.B) {
			for _, n := range []int{1, 8, 512} {
				b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
					for _, s := range shapes {
						b.Run(fmt.Sprintf("%dx%d", s.r, s.k), func(b *testing.B) {
							if testing.Short() && s.r > 100000 {
								b.Skip("big weight skipped in -short")
							}
							w := benchMatrix(b, dt, s.r, s.k)
							x := randVec(rng, n*s.k)
							out := make([]float32, n*s.r)
							c.MatMul(out, x, n, w)
							b.ResetTimer()
							for range b.N {
								c.MatMul(out, x, n, w)
							}
							sec := b.Elapsed().Seconds() / float64(b.N)
							b.ReportMetric(2*float64(n)*float64(s.r)*float64(s.k)/sec/1e9, "GFLOP/s")
							b.ReportMetric(float64(len(w.Data))/sec/1e9, "GB/s")
						})
					}
				})
			}
		})
	}
}

func fmtDType(t DType) string {
	return map[DType]string{F32: "f32", F16: "f16", BF16: "bf16", Q8_0: "q8_0", Q4_0: "q4_0"}[t]
}

func BenchmarkAttention(b *testing.B) {
	c := NewCPU(Options{Threads: 2, ISA: *benchISA})
	defer c.Close()
	rng := rand.New(rand.NewPCG(2, 2))
	p := AttnParams{NHeads: 14, NKVHeads: 2, HeadDim: 64, Scale: 0.125}
	for _, tc := range []struct {
		name   string
		n, ctx int // rows and context before them
	}{{"decode/ctx=512", 1, 511}, {"decode/ctx=4096", 1, 4095}, {"prefill/n=512", 512, 0}} {
		b.Run(tc.name, func(b *testing.B) {
			capacity := tc.ctx + tc.n
			kd := p.NKVHeads * p.HeadDim
			k := randVec(rng, capacity*kd)
			v := randVec(rng, capacity*kd)
			q := randVec(rng, tc.n*p.NHeads*p.HeadDim)
			out := make([]float32, len(q))
			all := make([]int32, capacity)
			for i := range all {
				all[i] = int32(i)
			}
			slots := make([][]int32, tc.n)
			flops := 0.0
			for i := range slots {
				slots[i] = all[:tc.ctx+i+1]
				flops += 4 * float64(len(slots[i])*p.NHeads*p.HeadDim)
			}
			b.ResetTimer()
			for range b.N {
				c.Attention(out, q, k, v, slots, p)
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(flops/sec/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMatVecStream is batch-1 decode over a stack of layer-shaped
// weights larger than the last-level cache (f16: 105 MB), so the figure is
// the DRAM streaming rate the matvec kernels reach (BenchmarkMatMul's layer
// shapes fit in a 32 MB L3).
func BenchmarkMatVecStream(b *testing.B) {
	if testing.Short() {
		b.Skip("100+ MB of weights skipped in -short")
	}
	c := NewCPU(Options{Threads: *modelThreads, ISA: *benchISA})
	defer c.Close()
	for _, dt := range []DType{F32, F16, Q8_0, Q4_0} {
		b.Run(fmtDType(dt), func(b *testing.B) {
			var ws []*Matrix
			size := 0
			for range 6 {
				for _, s := range []struct{ r, k int }{{4864, 896}, {896, 4864}} {
					w := benchMatrix(b, dt, s.r, s.k)
					ws = append(ws, w)
					size += len(w.Data)
				}
			}
			x := randVec(newRand(3), 4864)
			out := make([]float32, 4864)
			b.ResetTimer()
			for range b.N {
				for _, w := range ws {
					c.MatMul(out[:w.Rows], x[:w.Cols], 1, w)
				}
			}
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
