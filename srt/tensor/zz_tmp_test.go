package tensor

import (
	"flag"
	"fmt"
	"testing"
	"time"
)

var tmpThreads = flag.Int("tmp-threads", 1, "")

// TestTmpMin: min-of-runs time of n=1 MatMul over weights bigger than L3.
func TestTmpMin(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	for _, dt := range []DType{F32, F16, Q8_0} {
		// 8 matrices 4864x896 + 8 of 896x4864: f16 ~140MB
		var ws []*Matrix
		for i := 0; i < 6; i++ {
			ws = append(ws, benchMatrix2(t, dt, 4864, 896), benchMatrix2(t, dt, 896, 4864))
		}
		c := NewCPU(Options{Threads: *tmpThreads})
		x := randVec(newRand(1), 4864)
		out := make([]float32, 4864)
		best := time.Hour
		bytes := 0
		for _, w := range ws {
			bytes += len(w.Data)
		}
		for r := 0; r < 15; r++ {
			st := time.Now()
			for _, w := range ws {
				c.MatMul(out[:w.Rows], x[:w.Cols], 1, w)
			}
			best = min(best, time.Since(st))
		}
		c.Close()
		fmt.Printf("%v threads=%d: %.1f GB/s (%v)\n", dt, *tmpThreads, float64(bytes)/best.Seconds()/1e9, best)
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
