package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// checkMatVecKernels calls the kernel set's batch-1 multi-row kernels (mv,
// q8rows, q8rows4, q4rows4) directly on the rows of a random matrix (mv and
// q8rows: all rows, 1 or more, q8rows taking odd row counts; the 4-row
// kernels: four, rows must be >= 4) and compares each dot with the
// reference; it reports whether a kernel ran.
func checkMatVecKernels(t *testing.T, ks *kernelSet, rng *rand.Rand, dt DType, rows, cols int) bool {
	t.Helper()
	w := randMatrix(t, rng, dt, rows, cols)
	x := randVec(rng, cols)
	got := make([]float32, rows)
	for j := range got {
		got[j] = float32(math.NaN())
	}
	want := make([]float32, rows)
	rb := dt.RowBytes(cols)
	wp := unsafe.Pointer(&w.Data[0])
	n := rows // rows written by the kernel
	switch {
	case dt == Q8_0 && ks.q8rows != nil && cols%64 == 0 && rows%2 == 1:
		xq, xd := quantizeActs(nil, nil, x, quantActsGo)
		aux := make([]int32, cols/64*32)
		q8Aux(aux, xq, xd)
		ks.q8rows(&xq[0], &aux[0], wp, rb, rows, cols/32, &got[0])
		RefMatMulQ8(want, x, 1, w)
	case dt == Q8_0 && ks.q8rows4 != nil && cols%64 == 0 && rows >= 4:
		xq, xd := quantizeActs(nil, nil, x, quantActsGo)
		aux := make([]int32, cols/64*32)
		q8Aux(aux, xq, xd)
		ks.q8rows4(&xq[0], &aux[0], wp, rb, cols/32, &got[0])
		RefMatMulQ8(want, x, 1, w)
		n = 4
	case dt == Q4_0 && ks.q4rows4 != nil && cols%64 == 0 && rows >= 4:
		xq, xd := quantizeActs(nil, nil, x, quantActsGo)
		aux := make([]int32, cols/64*48)
		q4Aux(aux, xq, xd)
		ks.q4rows4(&aux[0], wp, rb, cols/32, &got[0])
		RefMatMulQ8(want, x, 1, w)
		n = 4
	case ks.mv[dt] != nil && cols%32 == 0:
		ks.mv[dt](cols, &x[0], wp, rb, rows, &got[0])
		RefMatMul(want, x, 1, w)
	default:
		return false
	}
	scale := absMatMul(x, 1, w)
	for j := range got[:n] {
		if d := abs32(got[j] - want[j]); !(d <= 2e-6*(scale[j]+1)) {
			t.Fatalf("%s %v %dx%d: row %d = %g, want %g (scale %g)", ks.name, dt, rows, cols, j, got[j], want[j], scale[j])
		}
	}
	return true
}

func TestMatVecKernels(t *testing.T) {
	rng := newRand(11)
	for _, isa := range ISAs() {
		ks := pickKernels(isa)
		ran := 0
		for _, dt := range allTypes {
			for _, cols := range []int{32, 64, 96, 128, 896, 4864} {
				for _, rows := range []int{1, 4, 7} {
					t.Run(fmt.Sprintf("%s/%v/%dx%d", isa, dt, rows, cols), func(t *testing.T) {
						if checkMatVecKernels(t, ks, rng, dt, rows, cols) {
							ran++
						}
					})
				}
			}
		}
		if isa == "avx512" && ran == 0 {
			t.Errorf("%s: no batch-1 kernel ran", isa)
		}
	}
}

// Batch-1 MatMul over row counts around the 4-row kernels and the 16-row
// work blocks, with column counts the multi-row kernels take.
func TestMatVecShapes(t *testing.T) {
	rng := newRand(12)
	for _, isa := range ISAs() {
		c := NewCPU(Options{Threads: 2, ISA: isa})
		for _, dt := range allTypes {
			for _, s := range []struct{ rows, cols int }{{3, 64}, {4, 64}, {5, 128}, {19, 96}, {33, 896}, {70, 1088}, {1001, 96}, {2050, 64}} {
				t.Run(fmt.Sprintf("%s/%v/%dx%d", isa, dt, s.rows, s.cols), func(t *testing.T) {
					checkMatMul(t, c, rng, dt, 1, s.rows, s.cols)
				})
			}
		}
		c.Close()
	}
}

func FuzzMatVec(f *testing.F) {
	f.Add(uint64(1), uint8(0), uint16(7), uint8(1))
	f.Add(uint64(2), uint8(3), uint16(4), uint8(14))
	f.Add(uint64(3), uint8(1), uint16(37), uint8(3))
	ks := make([]*kernelSet, 0, 3)
	for _, isa := range ISAs() {
		ks = append(ks, pickKernels(isa))
	}
	f.Fuzz(func(t *testing.T, seed uint64, dt uint8, rows uint16, blocks uint8) {
		typ := allTypes[int(dt)%len(allTypes)]
		cols := 32 * (1 + int(blocks)%160)
		rng := rand.New(rand.NewPCG(seed, 5))
		for _, k := range ks {
			checkMatVecKernels(t, k, rng, typ, 1+int(rows)%9, cols)
		}
		c := NewCPU(Options{Threads: 2})
		defer c.Close()
		checkMatMul(t, c, rng, typ, 1, 1+int(rows)%70, cols)
	})
}

// take hands out every row exactly once, in order, in ranges within the
// guided bounds (multiples of the quantum but the last), shrinking toward
// the end.
func TestGuidedTake(t *testing.T) {
	for _, tc := range []struct{ rows, gmin, gmax, threads, quant int }{
		{1, 4, 4, 2, 4}, {7, 4, 8, 2, 4}, {1000, 8, 64, 2, 4}, {151936, 16, 272, 2, 4}, {4864, 4, 36, 3, 4},
		{2048, 12, 72, 2, 12}, {32000, 36, 180, 2, 12}, {5, 12, 12, 2, 12},
	} {
		j := &mmJob{rows: tc.rows, guided: true, gmin: tc.gmin, gmax: tc.gmax, threads: tc.threads, quant: tc.quant}
		next, ranges, last := 0, 0, tc.gmax
		for {
			r0, r1 := j.take()
			if r0 >= tc.rows {
				break
			}
			ranges++
			n := r1 - r0
			if r0 != next || n <= 0 || n > tc.gmax || (r1 != tc.rows && (n%tc.quant != 0 || n < tc.gmin)) || n > last {
				t.Fatalf("%+v: range %d = [%d, %d) after row %d (previous size %d)", tc, ranges, r0, r1, next, last)
			}
			next, last = r1, n
		}
		if next != tc.rows {
			t.Fatalf("%+v: covered %d rows", tc, next)
		}
		if want := tc.rows/tc.gmax + 1; ranges > 2*want+4*tc.threads*8 {
			t.Errorf("%+v: %d ranges, too many", tc, ranges)
		}
	}
}
