package tensor

import (
	"fmt"
	"testing"
	"time"
)

func TestTmpAB(t *testing.T) {
	for _, dt := range []DType{F32, F16, Q8_0} {
		var ws []*Matrix
		for i := 0; i < 6; i++ {
			ws = append(ws, benchMatrix2(t, dt, 896, 896), benchMatrix2(t, dt, 128, 896), benchMatrix2(t, dt, 128, 896), benchMatrix2(t, dt, 896, 896),
				benchMatrix2(t, dt, 4864, 896), benchMatrix2(t, dt, 4864, 896), benchMatrix2(t, dt, 896, 4864))
		}
		ws = append(ws, benchMatrix2(t, dt, 151936/4, 896))
		bytes := 0
		for _, w := range ws {
			bytes += len(w.Data)
		}
		c := NewCPU(Options{Threads: 2})
		ks := *c.k
		old := ks
		old.mv = [Q4_0 + 1]mvFn{}
		old.q8rows4 = nil
		x := randVec(newRand(1), 4864)
		out := make([]float32, 151936)
		best := []time.Duration{time.Hour, time.Hour}
		for r := 0; r < 15; r++ {
			for v := range best {
				c.fixedBlocks = v == 0
				if v == 0 {
					c.k = &old
				} else {
					c.k = &ks
				}
				st := time.Now()
				for _, w := range ws {
					c.MatMul(out[:w.Rows], x[:w.Cols], 1, w)
				}
				best[v] = min(best[v], time.Since(st))
			}
		}
		c.Close()
		fmt.Printf("%v: old %.1f GB/s new %.1f GB/s\n", dt, float64(bytes)/best[0].Seconds()/1e9, float64(bytes)/best[1].Seconds()/1e9)
	}
}

func benchMatrix2(t *testing.T, dt DType, rows, cols int) *Matrix {
	rng := newRand(9)
	pool := make([]byte, 64*dt.RowBytes(cols))
	if err := Quantize(pool, randVec(rng, 64*cols), dt); err != nil {
		t.Fatal(err)
	}
	rb := dt.RowBytes(cols)
	data := make([]byte, rows*rb)
	for r := 0; r < rows; r++ {
		k := rng.IntN(64)
		copy(data[r*rb:(r+1)*rb], pool[k*rb:(k+1)*rb])
	}
	return &Matrix{DType: dt, Rows: rows, Cols: cols, Data: data}
}
