package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var allTypes = []DType{F32, F16, BF16, Q8_0, Q4_0}

// randMatrix builds a rows×cols matrix of type t from uniform values in [-1, 1).
func randMatrix(tb testing.TB, rng *rand.Rand, t DType, rows, cols int) *Matrix {
	tb.Helper()
	src := make([]float32, rows*cols)
	for i := range src {
		src[i] = rng.Float32()*2 - 1
	}
	data := make([]byte, rows*t.RowBytes(cols))
	if err := Quantize(data, src, t); err != nil {
		tb.Fatal(err)
	}
	m := &Matrix{DType: t, Rows: rows, Cols: cols, Data: data}
	if err := m.Validate(); err != nil {
		tb.Fatal(err)
	}
	return m
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

// absMatMul returns |x|·|W|ᵀ, the scale against which rounding errors of a
// dot product are measured.
func absMatMul(x []float32, n int, w *Matrix) []float32 {
	ax := make([]float32, len(x))
	for i, v := range x {
		ax[i] = abs32(v)
	}
	row := make([]float32, w.Cols)
	out := make([]float32, n*w.Rows)
	for r := 0; r < w.Rows; r++ {
		w.Row(r, row)
		for i := 0; i < n; i++ {
			var s float64
			for k, v := range row {
				s += float64(ax[i*w.Cols+k]) * math.Abs(float64(v))
			}
			out[i*w.Rows+r] = float32(s)
		}
	}
	return out
}

// checkMatMul runs MatMul on cpu and compares it with the reference.
func checkMatMul(t *testing.T, c *CPU, rng *rand.Rand, dt DType, n, rows, cols int) {
	t.Helper()
	w := randMatrix(t, rng, dt, rows, cols)
	x := randVec(rng, n*cols)
	got := make([]float32, n*rows)
	for i := range got {
		got[i] = float32(math.NaN()) // must be overwritten
	}
	c.MatMul(got, x, n, w)
	want := make([]float32, n*rows)
	scale := absMatMul(x, n, w)
	tol := float32(2e-6)
	if (dt == Q8_0 || dt == Q4_0) && n <= q8Max {
		RefMatMulQ8(want, x, n, w)
	} else {
		RefMatMul(want, x, n, w)
	}
	for i := range got {
		if d := abs32(got[i] - want[i]); !(d <= tol*(scale[i]+1)) {
			t.Fatalf("%s %v n=%d [%d,%d]: out[%d] = %g, want %g (scale %g)", c.ISA(), dt, n, rows, cols, i, got[i], want[i], scale[i])
		}
	}
}

func TestMatMulShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := []struct{ n, rows, cols int }{
		{1, 1, 32}, {1, 7, 64}, {2, 5, 96}, {3, 33, 160}, {5, 17, 32}, {6, 4, 64},
		{7, 9, 128}, {8, 70, 224}, {9, 13, 96}, {12, 25, 96}, {13, 67, 1056}, {16, 50, 2080}, {17, 3, 2080}, {40, 130, 320},
	}
	for _, isa := range ISAs() {
		for _, threads := range []int{1, 3} {
			c := NewCPU(Options{Threads: threads, ISA: isa})
			for _, dt := range allTypes {
				for _, s := range shapes {
					t.Run(fmt.Sprintf("%s/t%d/%v/n%d_%dx%d", isa, threads, dt, s.n, s.rows, s.cols), func(t *testing.T) {
						checkMatMul(t, c, rng, dt, s.n, s.rows, s.cols)
					})
				}
			}
			c.Close()
		}
	}
}

// Plain types also work with column counts that are not multiples of 32.
func TestMatMulOddCols(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, isa := range ISAs() {
		c := NewCPU(Options{Threads: 2, ISA: isa})
		for _, dt := range []DType{F32, F16, BF16} {
			for _, s := range []struct{ n, rows, cols int }{{1, 3, 1}, {2, 5, 17}, {7, 6, 31}, {11, 9, 1037}} {
				t.Run(fmt.Sprintf("%s/%v/n%d_%dx%d", isa, dt, s.n, s.rows, s.cols), func(t *testing.T) {
					checkMatMul(t, c, rng, dt, s.n, s.rows, s.cols)
				})
			}
		}
		c.Close()
	}
}

func FuzzMatMul(f *testing.F) {
	f.Add(uint64(1), uint8(0), uint8(1), uint16(5), uint16(2))
	f.Add(uint64(2), uint8(3), uint8(9), uint16(33), uint16(7))
	f.Add(uint64(3), uint8(4), uint8(20), uint16(8), uint16(40))
	cpus := map[string]*CPU{}
	for _, isa := range ISAs() {
		cpus[isa] = NewCPU(Options{Threads: 2, ISA: isa})
	}
	f.Fuzz(func(t *testing.T, seed uint64, dt, n uint8, rows, blocks uint16) {
		typ := allTypes[int(dt)%len(allTypes)]
		nn := 1 + int(n)%24
		r := 1 + int(rows)%80
		cols := (1 + int(blocks)%48) * typ.BlockSize()
		if typ.BlockSize() == 1 {
			cols = 1 + int(blocks)%700
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		for _, isa := range ISAs() {
			checkMatMul(t, cpus[isa], rng, typ, nn, r, cols)
		}
	})
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }
